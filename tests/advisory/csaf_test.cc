#include "vigie/advisory/csaf.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "csaf_builder.h"
#include "test_support.h"
#include "vigie/advisory/validate.h"

namespace vigie::advisory {
namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Csaf, ReadsEveryOasisExampleAndCisaMedicalAdvisory) {
  size_t files = 0;
  for (const char* dir : {"csaf", "csaf/examples"}) {
    for (const auto& e : std::filesystem::directory_iterator(vigie::testing::fixture(dir))) {
      if (e.path().extension() != ".json") continue;
      SCOPED_TRACE(e.path().string());
      auto d = read_csaf(slurp(e.path()), e.path().string());
      ASSERT_TRUE(d) << d.error().to_string();
      EXPECT_FALSE(d->tracking_id.empty());
      EXPECT_FALSE(d->publisher.empty());
      ++files;
    }
  }
  EXPECT_GE(files, 24u);
}

TEST(Csaf, SiemensSpectAdvisoryGivesProductsStatusesAndRemediations) {
  auto path = vigie::testing::fixture("csaf/icsma-17-215-01.json");
  auto d = read_csaf(slurp(path), path.string());
  ASSERT_TRUE(d) << d.error().to_string();
  const CsafProduct* p = d->product("CSAFPID-0001");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->vendor.empty(), false);
  EXPECT_EQ(p->product_name, "Siemens SPECT Workplaces/Symbia.net Windows XP-Based");
  ASSERT_TRUE(p->version_range.has_value()) << p->version_range_error->to_string();
  EXPECT_TRUE(contains(*p->version_range, "VA60A").value());  // vers:all/* is every version
  EXPECT_EQ(p->pointer.rfind("/product_tree/branches/0/", 0), 0u) << p->pointer;
  ASSERT_FALSE(d->vulnerabilities.empty());
  const auto& v = d->vulnerabilities[0];
  EXPECT_EQ(v.product_status.at("known_affected").front(), "CSAFPID-0001");
  ASSERT_FALSE(v.remediations.empty());
  EXPECT_EQ(v.remediations[0].category, "mitigation");
  EXPECT_GT(v.max_base_score, 0.0);
}

TEST(Csaf, FreeTextRangesAreReadOrReportedNeverDropped) {
  const char* doc = R"({
    "document": {"category": "csaf_security_advisory", "csaf_version": "2.0", "title": "t",
      "publisher": {"category": "vendor", "name": "Siemens Healthineers", "namespace": "https://x"},
      "tracking": {"id": "AX047/17/S", "version": "1", "status": "final",
                   "initial_release_date": "2017-07-01T00:00:00Z",
                   "current_release_date": "2017-07-01T00:00:00Z",
                   "revision_history": [{"date": "2017-07-01T00:00:00Z", "number": "1", "summary": "s"}]}},
    "product_tree": {"branches": [{"category": "vendor", "name": "Siemens Healthineers", "branches": [
      {"category": "product_name", "name": "AXIOM Artis", "branches": [
        {"category": "product_version_range", "name": "VB22N, VB23D/F/G/H/J",
         "product": {"name": "AXIOM Artis VB22N-VB23J", "product_id": "P1",
                     "product_identification_helper": {"model_numbers": ["10094141"], "serial_numbers": ["1*"]}}},
        {"category": "product_version_range", "name": "see the table",
         "product": {"name": "AXIOM Artis other", "product_id": "P2"}}]}]}]}
  })";
  auto d = read_csaf(doc, "letter.json");
  ASSERT_TRUE(d) << d.error().to_string();
  const CsafProduct* p1 = d->product("P1");
  ASSERT_NE(p1, nullptr);
  EXPECT_EQ(p1->vendor, "Siemens Healthineers");
  EXPECT_EQ(p1->version_range->scheme, Scheme::kVendor);
  EXPECT_TRUE(contains(*p1->version_range, "VB23G").value());
  EXPECT_EQ(p1->model_numbers, std::vector<std::string>{"10094141"});
  EXPECT_EQ(p1->serial_numbers, std::vector<std::string>{"1*"});
  const CsafProduct* p2 = d->product("P2");
  ASSERT_NE(p2, nullptr);
  EXPECT_FALSE(p2->version_range);
  ASSERT_TRUE(p2->version_range_error);
  EXPECT_EQ(p2->version_range_error->where, "/product_tree/branches/0/branches/0/branches/1/name");
}

TEST(Csaf, BadDocumentsAreRefusedWithAPosition) {
  struct Case {
    std::string text;
    std::string where;
    std::string reason;
  };
  const std::string head =
      R"({"document": {"category": "c", "title": "t", "publisher": {"name": "n", "namespace": "https://n"}, "tracking": {"id": "i", "version": "1", "status": "final", "initial_release_date": "d", "current_release_date": "d"}})";
  const std::vector<Case> cases = {
      {head.substr(0, 40), "bad.json:1:41", "malformed JSON"},
      {"[]", "bad.json:/", "a CSAF document is a JSON object"},
      {R"({"document": {"category": 3}})", "bad.json:/document/category", "expected a string"},
      {head +
           R"(, "product_tree": {"branches": [{"category": "vendor", "name": "v", "product": {"name": "x"}}]}})",
       "bad.json:/product_tree/branches/0/product/product_id", "required property is missing"},
      {head + R"(, "vulnerabilities": [{"product_status": {"fixed": ["a", 2]}}]})",
       "bad.json:/vulnerabilities/0/product_status/fixed/1", "expected a string"},
      {std::string(100000, '[') + std::string(100000, ']'), "bad.json:1:65", "nested deeper"},
  };
  for (const auto& c : cases) {
    auto d = read_csaf(c.text, "bad.json");
    ASSERT_FALSE(d) << c.where;
    EXPECT_EQ(d.error().where, c.where) << d.error().message;
    EXPECT_NE(d.error().message.find(c.reason), std::string::npos) << d.error().message;
  }
}

TEST(Csaf, SchemeIsGuessedFromTheVersionText) {
  EXPECT_EQ(guess_scheme("< VB23P"), Scheme::kVendor);
  EXPECT_EQ(guess_scheme("<= 4.2"), Scheme::kGeneric);
  EXPECT_EQ(guess_scheme("vers:semver/>=1.0.0"), Scheme::kSemver);
}

TEST(Csaf, ReadsNotesHashesSbomAndGenericUris) {
  auto doc = testing::wannacry_like();
  auto& helper =
      doc["product_tree"]["branches"][0]["branches"][1]["product"]["product_identification_helper"];
  helper["hashes"] = {
      {{"filename", "syngo.exe"},
       {"file_hashes", {{{"algorithm", "sha256"}, {"value", std::string(64, 'a')}}}}}};
  helper["sbom_urls"] = {"https://vendor.example/sbom/varic.json"};
  helper["x_generic_uris"] = {{{"namespace", "https://vendor.example/ns"},
                               {"uri", "https://vendor.example/ns/varic-gen2"}}};
  std::string text = doc.dump();
  EXPECT_TRUE(validate_csaf(text).valid());
  auto d = read_csaf(text, "doc.json");
  ASSERT_TRUE(d) << d.error().to_string();
  ASSERT_EQ(d->notes.size(), 1u);
  EXPECT_EQ(d->notes[0].category, "summary");
  ASSERT_EQ(d->vulnerabilities[0].notes.size(), 1u);
  EXPECT_EQ(d->vulnerabilities[0].notes[0].category, "description");
  const CsafProduct* varic = d->product("VARIC-GEN2");
  ASSERT_NE(varic, nullptr);
  ASSERT_EQ(varic->hashes.size(), 1u);
  EXPECT_EQ(varic->hashes[0].filename, "syngo.exe");
  EXPECT_EQ(varic->hashes[0].digests[0].first, "sha256");
  EXPECT_EQ(varic->sbom_urls.size(), 1u);
  ASSERT_EQ(varic->generic_uris.size(), 1u);
  EXPECT_EQ(varic->generic_uris[0].second, "https://vendor.example/ns/varic-gen2");
}

TEST(Validate, LongPatternCheckedStringsAreReportedWithoutRecursingIntoThem) {
  // std::regex would recurse once per character: a 1 MB CPE must not reach it.
  auto doc = testing::wannacry_like();
  doc["product_tree"]["branches"][0]["branches"][1]["product"]["product_identification_helper"]
     ["cpe"] = "cpe:2.3:a:" + std::string(size_t{1} << 20, 'a') + ":b:*:*:*:*:*:*:*:*";
  // valijson reads dates with a regex too.
  doc["document"]["tracking"]["current_release_date"] = std::string(200000, '2');
  auto report = validate_csaf(doc.dump());
  ASSERT_FALSE(report.valid());
  bool named = false;
  for (const auto& i : report.issues) {
    named = named || (i.pointer.ends_with("/product_identification_helper/cpe") &&
                      i.reason.find("longer than any valid value") != std::string::npos);
  }
  EXPECT_TRUE(named);
  EXPECT_TRUE(std::any_of(report.issues.begin(), report.issues.end(), [](const auto& i) {
    return i.pointer == "/document/tracking/current_release_date";
  }));
}

}  // namespace
}  // namespace vigie::advisory
