// The mandatory tests of CSAF 2.0 (section 6.1). Each test id has documents in
// tests/advisory/mandatory/: "<id>-fail*.json" must yield exactly the listed issues and
// "<id>-pass*.json" none. The documents are schema-valid unless said otherwise, so that the
// issues come from the mandatory tests alone; where a failure of one test implies another's
// (6.1.17, 6.1.20, 6.1.27.4), both are listed and the comment says why.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../../src/advisory/mandatory.h"
#include "test_support.h"
#include "vigie/advisory/validate.h"

namespace vigie::advisory {
namespace {

using nlohmann::json;

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path case_document(const std::string& name) {
  return std::filesystem::path(VIGIE_SOURCE_DIR) / "tests/advisory/mandatory" / (name + ".json");
}

// "6.1.1 /product_tree/..." per issue: compact to compare, readable when it fails.
std::vector<std::string> lines(const std::vector<ValidationIssue>& issues) {
  std::vector<std::string> out;
  out.reserve(issues.size());
  for (const auto& issue : issues) out.push_back(issue.test + " " + issue.pointer);
  return out;
}

std::vector<ValidationIssue> without_schema(const std::vector<ValidationIssue>& issues) {
  std::vector<ValidationIssue> out;
  for (const auto& issue : issues) {
    if (issue.test != "schema") out.push_back(issue);
  }
  return out;
}

std::vector<ValidationIssue> mandatory_issues(const json& document) {
  std::vector<ValidationIssue> issues;
  run_mandatory_tests(document, issues);
  return issues;
}

std::vector<std::string> mandatory_lines(const json& document) {
  return lines(mandatory_issues(document));
}

// A minimal CSAF Base document, schema-valid, that passes every test.
json minimal_document() {
  return json::parse(R"({
    "document": {
      "category": "csaf_base", "csaf_version": "2.0", "title": "t",
      "publisher": {"category": "vendor", "name": "Vendor", "namespace": "https://vendor.example"},
      "tracking": {
        "id": "T-1", "status": "final", "version": "1",
        "initial_release_date": "2024-01-10T10:00:00.000Z",
        "current_release_date": "2024-01-10T10:00:00.000Z",
        "revision_history": [{"date": "2024-01-10T10:00:00.000Z", "number": "1", "summary": "s"}]
      }
    }
  })");
}

struct DocumentCase {
  DocumentCase(std::string name, std::vector<std::string> expected, bool schema_valid = true)
      : name(std::move(name)), expected(std::move(expected)), schema_valid(schema_valid) {}
  std::string name;                   // file name without .json
  std::vector<std::string> expected;  // "test pointer", in the order run_mandatory_tests gives
  bool schema_valid;
};

// GoogleTest's name for a case printer.
void PrintTo(const DocumentCase& c, std::ostream* os) {  // NOLINT(readability-identifier-naming)
  *os << c.name;
}

class MandatoryDocuments : public ::testing::TestWithParam<DocumentCase> {};

TEST_P(MandatoryDocuments, YieldExactlyTheExpectedIssues) {
  const DocumentCase& c = GetParam();
  const std::string text = slurp(case_document(c.name));
  ASSERT_FALSE(text.empty()) << case_document(c.name);
  const ValidationReport report = validate_csaf(text);
  const auto mandatory = without_schema(report.issues);
  EXPECT_EQ(lines(mandatory), c.expected);
  if (c.schema_valid) {
    EXPECT_EQ(mandatory.size(), report.issues.size())
        << "schema issue in a document meant to be schema-valid: " << report.issues[0].reason;
  } else {
    EXPECT_GT(report.issues.size(), mandatory.size()) << "the schema check should fail too";
  }
  for (const auto& issue : mandatory) EXPECT_FALSE(issue.reason.empty()) << issue.pointer;
}

const std::vector<DocumentCase> kDocumentCases = {
    {"6.1.1-fail",
     {"6.1.1 /product_tree/product_groups/0/product_ids/1",
      "6.1.1 /vulnerabilities/0/product_status/fixed/0"}},
    {"6.1.1-pass", {}},
    {"6.1.2-fail", {"6.1.2 /product_tree/full_product_names/0/product_id"}},
    {"6.1.2-pass", {}},
    // A mutual pair, a relationship that builds on that pair, and one that refers to itself.
    {"6.1.3-fail",
     {"6.1.3 /product_tree/relationships/0/full_product_name/product_id",
      "6.1.3 /product_tree/relationships/1/full_product_name/product_id",
      "6.1.3 /product_tree/relationships/2/full_product_name/product_id",
      "6.1.3 /product_tree/relationships/3/full_product_name/product_id"}},
    {"6.1.3-pass", {}},
    {"6.1.4-fail", {"6.1.4 /vulnerabilities/0/threats/0/group_ids/0"}},
    {"6.1.4-pass", {}},
    {"6.1.5-fail", {"6.1.5 /product_tree/product_groups/1/group_id"}},
    {"6.1.5-pass", {}},
    {"6.1.6-fail",
     {"6.1.6 /vulnerabilities/0/product_status/known_not_affected/0",
      "6.1.6 /vulnerabilities/0/product_status/under_investigation/0"}},
    {"6.1.6-pass", {}},
    {"6.1.7-fail", {"6.1.7 /vulnerabilities/0/scores/1/products/0"}},
    {"6.1.7-pass", {}},
    {"6.1.8-fail",
     {"6.1.8 /vulnerabilities/0/scores/0/cvss_v3",
      "6.1.8 /vulnerabilities/0/scores/1/cvss_v2/accessVector"},
     false},
    {"6.1.8-pass", {}},
    {"6.1.9-fail",
     {"6.1.9 /vulnerabilities/0/scores/0/cvss_v3/baseScore",
      "6.1.9 /vulnerabilities/0/scores/0/cvss_v3/baseSeverity",
      "6.1.9 /vulnerabilities/0/scores/1/cvss_v2/temporalScore"}},
    // Every score and severity as FIRST's v3.0 and v3.1 calculators give them, and the three
    // worked examples of the CVSS v2 guide (section 3.3).
    {"6.1.9-pass", {}},
    // exploitCodeMaturity HIGH contradicts a vector without E, which means NOT_DEFINED.
    {"6.1.10-fail",
     {"6.1.10 /vulnerabilities/0/scores/0/cvss_v3/attackVector",
      "6.1.10 /vulnerabilities/0/scores/0/cvss_v3/scope",
      "6.1.10 /vulnerabilities/0/scores/0/cvss_v3/availabilityImpact",
      "6.1.10 /vulnerabilities/0/scores/0/cvss_v3/exploitCodeMaturity"}},
    {"6.1.10-pass", {}},
    {"6.1.11-fail", {"6.1.11 /vulnerabilities/0/cwe/name", "6.1.11 /vulnerabilities/1/cwe/id"}},
    {"6.1.11-pass", {}},
    {"6.1.12-fail", {"6.1.12 /document/lang", "6.1.12 /document/source_lang"}},
    {"6.1.12-pass", {}},
    {"6.1.13-fail",
     {"6.1.13 /product_tree/branches/0/product/product_identification_helper/purl",
      "6.1.13 /product_tree/full_product_names/0/product_identification_helper/purl"}},
    {"6.1.13-pass", {}},
    {"6.1.14-fail", {"6.1.14 /document/tracking/revision_history/2/number"}},
    {"6.1.14-pass", {}},
    {"6.1.15-fail", {"6.1.15 /document/source_lang"}},
    {"6.1.15-pass", {}},
    {"6.1.16-fail", {"6.1.16 /document/tracking/version"}},
    {"6.1.16-pass", {}},
    {"6.1.16-pass-draft", {}},
    // A final or interim document with version 0.9.5 has 0.9.5 as its latest revision (else
    // 6.1.16 fails), and that revision fails 6.1.18.
    {"6.1.17-fail",
     {"6.1.17 /document/tracking/status", "6.1.18 /document/tracking/revision_history/0/number"}},
    {"6.1.17-pass", {}},
    {"6.1.18-fail", {"6.1.18 /document/tracking/revision_history/0/number"}},
    {"6.1.18-pass", {}},
    {"6.1.19-fail", {"6.1.19 /document/tracking/revision_history/0/number"}},
    {"6.1.19-pass", {}},
    // A pre-release version in a non-draft document fails 6.1.17 as well, and it differs from
    // the released latest revision (6.1.16 ignores pre-release parts in drafts only).
    {"6.1.20-fail",
     {"6.1.16 /document/tracking/version", "6.1.17 /document/tracking/status",
      "6.1.20 /document/tracking/version"}},
    {"6.1.20-pass", {}},
    {"6.1.21-fail", {"6.1.21 /document/tracking/revision_history/1/number"}},
    {"6.1.21-fail-start", {"6.1.21 /document/tracking/revision_history/0/number"}},
    {"6.1.21-pass", {}},
    {"6.1.22-fail", {"6.1.22 /document/tracking/revision_history/1/number"}},
    {"6.1.22-pass", {}},
    {"6.1.23-fail", {"6.1.23 /vulnerabilities/2/cve"}},
    {"6.1.23-pass", {}},
    {"6.1.24-fail", {"6.1.24 /vulnerabilities/0/involvements/1"}},
    {"6.1.24-pass", {}},
    {"6.1.25-fail",
     {"6.1.25 "
      "/product_tree/full_product_names/0/product_identification_helper/hashes/0/file_hashes/1/"
      "algorithm"}},
    {"6.1.25-pass", {}},
    {"6.1.26-fail", {"6.1.26 /document/category"}},
    {"6.1.26-fail-prefix", {"6.1.26 /document/category"}},
    {"6.1.26-pass", {}},
    {"6.1.27.1-fail", {"6.1.27.1 /document/notes"}},
    {"6.1.27.1-pass", {}},
    {"6.1.27.2-fail", {"6.1.27.2 /document/references"}},
    {"6.1.27.2-pass", {}},
    {"6.1.27.3-fail", {"6.1.27.3 /vulnerabilities"}},
    {"6.1.27.3-pass", {}},
    // A security advisory needs a product status (6.1.27.6), whose products need the missing
    // product tree (6.1.1).
    {"6.1.27.4-fail",
     {"6.1.1 /vulnerabilities/0/product_status/known_affected/0", "6.1.27.4 /product_tree"}},
    {"6.1.27.4-pass", {}},
    {"6.1.27.5-fail", {"6.1.27.5 /vulnerabilities/0/notes"}},
    {"6.1.27.5-pass", {}},
    {"6.1.27.6-fail", {"6.1.27.6 /vulnerabilities/0/product_status"}},
    {"6.1.27.6-pass", {}},
    {"6.1.27.7-fail", {"6.1.27.7 /vulnerabilities/0/product_status"}},
    {"6.1.27.7-pass", {}},
    {"6.1.27.8-fail", {"6.1.27.8 /vulnerabilities/0"}},
    {"6.1.27.8-pass", {}},
    {"6.1.27.9-fail", {"6.1.27.9 /vulnerabilities/0/product_status/known_not_affected/2"}},
    {"6.1.27.9-pass", {}},
    {"6.1.27.10-fail", {"6.1.27.10 /vulnerabilities/0/product_status/known_affected/0"}},
    {"6.1.27.10-pass", {}},
    {"6.1.27.11-fail", {"6.1.27.11 /vulnerabilities"}},
    {"6.1.27.11-pass", {}},
    {"6.1.28-fail", {"6.1.28 /document/source_lang"}},
    {"6.1.28-pass", {}},
    {"6.1.29-fail", {"6.1.29 /vulnerabilities/0/remediations/0"}},
    {"6.1.29-pass", {}},
    {"6.1.30-fail",
     {"6.1.30 /document/tracking/revision_history/1/number", "6.1.30 /document/tracking/version"}},
    {"6.1.30-pass", {}},
    {"6.1.31-fail", {"6.1.31 /product_tree/branches/0/branches/0/branches/0/name"}},
    {"6.1.31-pass", {}},
    {"6.1.32-fail", {"6.1.32 /vulnerabilities/0/flags/0"}},
    {"6.1.32-pass", {}},
    {"6.1.33-fail", {"6.1.33 /vulnerabilities/0/flags/1"}},
    {"6.1.33-pass", {}},
};

INSTANTIATE_TEST_SUITE_P(Mandatory, MandatoryDocuments, ::testing::ValuesIn(kDocumentCases),
                         [](const ::testing::TestParamInfo<DocumentCase>& info) {
                           std::string name = info.param.name;
                           for (char& c : name) {
                             if (c == '.' || c == '-') c = '_';
                           }
                           return name;
                         });

TEST(MandatoryDocumentFolder, EveryDocumentHasACase) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(VIGIE_SOURCE_DIR) / "tests/advisory/mandatory")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const std::string name = entry.path().stem().string();
    EXPECT_TRUE(std::any_of(kDocumentCases.begin(), kDocumentCases.end(),
                            [&](const DocumentCase& c) { return c.name == name; }))
        << name;
  }
  EXPECT_EQ(files, kDocumentCases.size());
}

TEST(MandatoryDocumentFolder, EveryTestIdHasAFailingAndAPassingDocument) {
  const std::vector<std::string> ids = {
      "6.1.1",     "6.1.2",     "6.1.3",    "6.1.4",    "6.1.5",    "6.1.6",    "6.1.7",
      "6.1.8",     "6.1.9",     "6.1.10",   "6.1.11",   "6.1.12",   "6.1.13",   "6.1.14",
      "6.1.15",    "6.1.16",    "6.1.17",   "6.1.18",   "6.1.19",   "6.1.20",   "6.1.21",
      "6.1.22",    "6.1.23",    "6.1.24",   "6.1.25",   "6.1.26",   "6.1.27.1", "6.1.27.2",
      "6.1.27.3",  "6.1.27.4",  "6.1.27.5", "6.1.27.6", "6.1.27.7", "6.1.27.8", "6.1.27.9",
      "6.1.27.10", "6.1.27.11", "6.1.28",   "6.1.29",   "6.1.30",   "6.1.31",   "6.1.32",
      "6.1.33"};
  for (const auto& id : ids) {
    bool fails = false, passes = false;
    for (const auto& c : kDocumentCases) {
      if (c.name.starts_with(id + "-fail")) {
        fails = fails || std::any_of(c.expected.begin(), c.expected.end(),
                                     [&](const std::string& e) { return e.starts_with(id + " "); });
      }
      if (c.name.starts_with(id + "-pass")) passes = passes || c.expected.empty();
    }
    EXPECT_TRUE(fails) << id;
    EXPECT_TRUE(passes) << id;
  }
}

TEST(MandatoryReasons, NameTheOffendingValue) {
  const auto issues = mandatory_issues(json::parse(slurp(case_document("6.1.1-fail"))));
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].reason, "product id CSAFPID-9080700 is referenced but not defined");
  const auto cwe = mandatory_issues(json::parse(slurp(case_document("6.1.11-fail"))));
  ASSERT_EQ(cwe.size(), 2u);
  EXPECT_NE(cwe[0].reason.find("Improper Neutralization of Input During Web Page Generation"),
            std::string::npos)
      << cwe[0].reason;
  const auto scores = mandatory_issues(json::parse(slurp(case_document("6.1.9-fail"))));
  ASSERT_FALSE(scores.empty());
  EXPECT_NE(scores[0].reason.find("gives 6.5"), std::string::npos) << scores[0].reason;
}

// The OASIS examples are valid CSAF 2.0: no schema issue and no mandatory test failure.
TEST(MandatoryExamples, OasisExamplesAreFullyValid) {
  size_t files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(vigie::testing::fixture("csaf/examples"))) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const ValidationReport report = validate_csaf(slurp(entry.path()));
    EXPECT_TRUE(report.valid()) << entry.path().filename() << ": " << report.issues[0].test << " "
                                << report.issues[0].pointer << ": " << report.issues[0].reason;
  }
  EXPECT_GE(files, 19u);
}

// The six CISA medical advisories pass every mandatory test. Checked by hand against the
// standard: their CVSS v3.0 vectors score as given (e.g. AV:A/AC:H/PR:N/UI:N/S:C/C:L/I:H/A:L:
// ISS 0.7323, impact 5.2688, exploitability 1.6202, 1.08 * 6.889 rounded up = 7.5 HIGH), no
// property contradicts its vector, the revision histories (one or two items, numbers 1 and 2)
// are sorted and complete and end at the document version, the CWE names are the catalogue's,
// en-US is a valid language tag, and every referenced product is defined once.
TEST(MandatoryExamples, CisaMedicalAdvisoriesPassEveryTest) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(vigie::testing::fixture("csaf"))) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const json document = json::parse(slurp(entry.path()));
    EXPECT_EQ(mandatory_lines(document), std::vector<std::string>{}) << entry.path().filename();
    EXPECT_TRUE(validate_csaf(slurp(entry.path())).valid()) << entry.path().filename();
  }
  EXPECT_EQ(files, 6u);
}

// --- CVSS computation (6.1.9) ---

struct CvssCase {
  std::string version;
  std::string vector;
  double base, temporal, environmental;
};

json document_with_score(const json& cvss, const std::string& key) {
  json document = minimal_document();
  document["product_tree"] = json::parse(R"({"full_product_names":
      [{"name": "Product A", "product_id": "CSAFPID-0001"}]})");
  document["vulnerabilities"] =
      json::array({{{"scores", json::array({{{"products", {"CSAFPID-0001"}}, {key, cvss}}})}}});
  return document;
}

std::string severity(double score) {
  if (score == 0) return "NONE";
  if (score < 4) return "LOW";
  if (score < 7) return "MEDIUM";
  if (score < 9) return "HIGH";
  return "CRITICAL";
}

json cvss_object(const CvssCase& c) {
  json cvss = {{"version", c.version},
               {"vectorString", c.vector},
               {"baseScore", c.base},
               {"temporalScore", c.temporal},
               {"environmentalScore", c.environmental}};
  if (c.version != "2.0") {
    cvss["baseSeverity"] = severity(c.base);
    cvss["temporalSeverity"] = severity(c.temporal);
    cvss["environmentalSeverity"] = severity(c.environmental);
  }
  return cvss;
}

TEST(MandatoryCvss, ScoresMatchTheReferenceValuesAndEachWrongScoreIsReported) {
  // Values from FIRST's calculators (v3.0, v3.1) and the CVSS v2 guide.
  const std::vector<CvssCase> cases = {
      {"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, 9.8, 9.8},
      {"3.1", "CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", 6.5, 6.5, 6.5},
      // v3.1 Roundup: 10 * 0.92 is 9.2000000000000011 in binary, and must stay 9.2.
      {"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:L/E:H/RL:U/RC:U", 10.0, 9.2, 9.2},
      // The v3.1 environmental formula for a changed scope (0.9731, power 13).
      {"3.1", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/CR:H/IR:H/AR:H/MS:C", 7.8, 7.8, 8.8},
      {"3.1",
       "CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:C/C:H/I:H/A:H/E:F/RL:O/RC:C/CR:H/IR:L/AR:M/MAV:L/MAC:L/"
       "MPR:H/MUI:R/MS:U/MC:L/MI:H/MA:N",
       8.5, 7.9, 3.7},
      // FIRST's v3.0 calculator rounds 9.2000000000000011 up to 9.3.
      {"3.0", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:L/E:H/RL:U/RC:U", 10.0, 9.3, 9.3},
      {"3.0", "CVSS:3.0/AV:L/AC:H/PR:L/UI:R/S:C/C:H/I:H/A:N/E:U/RL:W/RC:U", 7.2, 5.9, 5.9},
      // CVSS v2 guide, CVE-2002-0392: (8.3 + 1.7 * 0.5) * 1.0 = 9.15 rounds to 9.2.
      {"2.0", "AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:H", 7.8, 6.4, 9.2},
      // Without environmental metrics, the v2 environmental score is the temporal score.
      {"2.0", "AV:L/AC:H/Au:M/C:P/I:C/A:C/E:U/RL:OF/RC:C", 5.6, 4.1, 4.1},
      {"2.0", "AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3, 4.3, 4.3},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.vector);
    const std::string key = c.version == "2.0" ? "cvss_v2" : "cvss_v3";
    EXPECT_EQ(mandatory_lines(document_with_score(cvss_object(c), key)),
              std::vector<std::string>{});
    const std::string at = "/vulnerabilities/0/scores/0/" + key + "/";
    for (const std::string score : {"baseScore", "temporalScore", "environmentalScore"}) {
      json wrong = cvss_object(c);
      wrong[score] = wrong[score].get<double>() == 10.0 ? 9.9 : wrong[score].get<double>() + 0.1;
      if (c.version != "2.0") {  // keep the severity in line so that only the score is wrong
        const std::string kind = score.substr(0, score.size() - 5);
        wrong[kind + "Severity"] = severity(wrong[score].get<double>());
      }
      EXPECT_EQ(mandatory_lines(document_with_score(wrong, key)),
                std::vector<std::string>{"6.1.9 " + (at + score)});
    }
  }
}

TEST(MandatoryCvss, AVersion30ScoreOfExactArithmeticIsAcceptedToo) {
  CvssCase exact = {"3.0", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:L/E:H/RL:U/RC:U", 10.0, 9.2,
                    9.2};
  EXPECT_EQ(mandatory_lines(document_with_score(cvss_object(exact), "cvss_v3")),
            std::vector<std::string>{});
  // The same numbers under a v3.1 vector: 9.3 is not a v3.1 score.
  CvssCase wrong = {"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:L/E:H/RL:U/RC:U", 10.0, 9.3,
                    9.3};
  EXPECT_EQ(mandatory_lines(document_with_score(cvss_object(wrong), "cvss_v3")),
            (std::vector<std::string>{"6.1.9 /vulnerabilities/0/scores/0/cvss_v3/temporalScore",
                                      "6.1.9 /vulnerabilities/0/scores/0/cvss_v3/"
                                      "environmentalScore"}));
}

TEST(MandatoryCvss, VectorsThatCannotBeScoredOrParsed) {
  auto lines_for = [](const std::string& version, const std::string& vector, double score = 5.0) {
    json cvss = {{"version", version}, {"vectorString", vector}, {"baseScore", score}};
    if (version != "2.0") cvss["baseSeverity"] = severity(score);
    return mandatory_lines(document_with_score(cvss, version == "2.0" ? "cvss_v2" : "cvss_v3"));
  };
  const std::string v3 = "/vulnerabilities/0/scores/0/cvss_v3/";
  // A base metric missing, or one given twice: the schema's pattern allows both.
  EXPECT_EQ(lines_for("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"),
            std::vector<std::string>{"6.1.9 " + v3 + "vectorString"});
  EXPECT_EQ(lines_for("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L"),
            std::vector<std::string>{"6.1.9 " + v3 + "vectorString"});
  // Not a CVSS v3 vector at all, a value outside the metric, a version it does not match.
  EXPECT_EQ(lines_for("3.1", "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
            std::vector<std::string>{"6.1.8 " + v3 + "vectorString"});
  EXPECT_EQ(lines_for("3.1", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            std::vector<std::string>{"6.1.8 " + v3 + "vectorString"});
  EXPECT_EQ(lines_for("3.0", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:H", 8.2),
            std::vector<std::string>{"6.1.8 " + v3 + "version"});
  EXPECT_EQ(lines_for("2.0", "AV:N/AC:L/Au:N/C:P/I:P"),
            std::vector<std::string>{"6.1.9 /vulnerabilities/0/scores/0/cvss_v2/vectorString"});
}

// --- Language tags (6.1.12) ---

TEST(MandatoryLanguage, ValidAndInvalidTags) {
  auto valid = [](const std::string& tag) {
    json document = minimal_document();
    document["document"]["lang"] = tag;
    return mandatory_issues(document).empty();
  };
  for (const char* tag :
       {"en", "en-US", "de-CH-1996", "zh-Hant-TW", "sr-Latn-RS", "es-419", "zh-yue", "qaa",
        "i-klingon", "en-GB-oed", "zh-min-nan", "x-private", "en-US-x-twain", "de-DE-u-co-phonebk",
        "EN-us", "tlh", "az-Arab-x-AZE-derbend", "sl-rozaj-biske", "qtz-Qabx-QZ"}) {
    EXPECT_TRUE(valid(tag)) << tag;
  }
  for (const char* tag : {"EZ", "", "en-", "-en", "abcd", "en-ZQ", "de-1901-1901", "en-a-bb-a-cc",
                          "en-b-ccc", "ar-aao-abh", "en-aao", "en-Qzzz", "toolongtag-x", "x",
                          "en-x", "e", "en_US", "zh-Latn-Hant"}) {
    EXPECT_FALSE(valid(tag)) << tag;
  }
}

// --- Package URLs (6.1.13) ---

TEST(MandatoryPurl, ValidAndInvalidPackageUrls) {
  auto valid = [](const std::string& purl) {
    json document = minimal_document();
    document["product_tree"] = {{"full_product_names",
                                 {{{"name", "A"},
                                   {"product_id", "CSAFPID-0001"},
                                   {"product_identification_helper", {{"purl", purl}}}}}}};
    return mandatory_issues(document).empty();
  };
  for (const char* purl :
       {"pkg:npm/foobar@12.3.1", "pkg:npm/%40angular/animation@12.3.1",
        "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie",
        "pkg:golang/google.golang.org/genproto#googleapis/api/annotations",
        "pkg:generic/openssl@1.1.10g?download_url=https://openssl.org/source/openssl-1.1.0g.tar.gz",
        "pkg:github/package-url/purl-spec@244fd47e07d1004", "pkg://maven/org.apache/commons@1"}) {
    EXPECT_TRUE(valid(purl)) << purl;
  }
  for (const char* purl :
       {"pkg:maven/@1.3.4", "npm/foobar@1", "pkg:npm", "pkg:1npm/foobar", "pkg:n$m/foobar",
        "pkg:npm/foo%2", "pkg:npm/foobar@", "pkg:npm/foobar?a=1&a=2", "pkg:npm/foobar?1a=x",
        "pkg:npm/foobar?novalue", "pkg:npm/a%2Fb/foobar"}) {
    EXPECT_FALSE(valid(purl)) << purl;
  }
}

// --- Revision history ordering (6.1.14, 6.1.16, 6.1.21) ---

json document_with_history(
    const std::vector<std::pair<std::string, std::string>>& numbers_and_dates,
    const std::string& version, const std::string& status = "final") {
  json document = minimal_document();
  json history = json::array();
  for (const auto& [number, date] : numbers_and_dates) {
    history.push_back({{"date", date}, {"number", number}, {"summary", "s"}});
  }
  document["document"]["tracking"]["revision_history"] = history;
  document["document"]["tracking"]["version"] = version;
  document["document"]["tracking"]["status"] = status;
  return document;
}

TEST(MandatoryRevisionHistory, SemanticVersionsAreOrderedByPrecedence) {
  // 1.10.0 comes after 1.9.0 (numerically, not as text) and 2.0.0 after its pre-releases.
  const json sorted = document_with_history({{"1.9.0", "2024-01-01T00:00:00Z"},
                                             {"1.10.0", "2024-01-02T00:00:00Z"},
                                             {"2.0.0-alpha", "2024-01-03T00:00:00Z"},
                                             {"2.0.0-alpha.1", "2024-01-04T00:00:00Z"},
                                             {"2.0.0-beta", "2024-01-05T00:00:00Z"},
                                             {"2.0.0", "2024-01-06T00:00:00Z"}},
                                            "2.0.0");
  EXPECT_EQ(mandatory_lines(sorted),
            (std::vector<std::string>{"6.1.19 /document/tracking/revision_history/2/number",
                                      "6.1.19 /document/tracking/revision_history/3/number",
                                      "6.1.19 /document/tracking/revision_history/4/number"}));
  const json unsorted = document_with_history(
      {{"1.10.0", "2024-01-01T00:00:00Z"}, {"1.9.0", "2024-01-02T00:00:00Z"}}, "1.9.0");
  EXPECT_EQ(mandatory_lines(unsorted),
            std::vector<std::string>{"6.1.14 /document/tracking/revision_history/1/number"});
}

TEST(MandatoryRevisionHistory, DatesAreComparedAsInstants) {
  // 10:30+02:00 is 08:30 UTC, before 09:00 UTC: by instant, revision 1 comes first.
  const json history = document_with_history(
      {{"2", "2024-01-01T09:00:00Z"}, {"1", "2024-01-01T10:30:00+02:00"}}, "2");
  EXPECT_EQ(mandatory_lines(history), std::vector<std::string>{});
  // Build metadata never counts in 6.1.16.
  EXPECT_EQ(mandatory_lines(document_with_history({{"1.0.0+a", "2024-01-01T00:00:00Z"}}, "1.0.0")),
            std::vector<std::string>{});
}

TEST(MandatoryRevisionHistory, GapsAreReportedOncePerGap) {
  const json history = document_with_history(
      {{"1", "2024-01-01T00:00:00Z"}, {"2", "2024-01-02T00:00:00Z"}, {"7", "2024-01-03T00:00:00Z"}},
      "7");
  const auto issues = mandatory_issues(history);
  ASSERT_EQ(lines(issues),
            std::vector<std::string>{"6.1.21 /document/tracking/revision_history/2/number"});
  EXPECT_NE(issues[0].reason.find("versions 3 to 6"), std::string::npos) << issues[0].reason;
}

// --- Robustness: arbitrary JSON, deep and large documents ---

// Replaces the value at one place of an example with a value of another type, for many places:
// no test may throw or crash on a schema-invalid document.
TEST(MandatoryRobustness, AnyValueOfAnyTypeAnywhere) {
  const std::vector<json> replacements = {nullptr,
                                          7,
                                          -1.5,
                                          true,
                                          "",
                                          "x",
                                          json::array(),
                                          json::object(),
                                          json::array({1, nullptr}),
                                          json::object({{"product_id", 3}}),
                                          "CVSS:3.1/AV:N",
                                          "2024-13-45T99:99:99Z",
                                          "1.0.0-"};
  size_t runs = 0;
  for (const char* name :
       {"csaf/examples/bsi-2022-0001.json", "csaf/examples/sec-vex-2022-0001.json",
        "csaf/examples/cisco-sa-20180328-smi2.json", "csaf/icsma-18-037-02.json"}) {
    const json original = json::parse(slurp(vigie::testing::fixture(name)));
    const json flat = original.flatten();
    std::vector<std::string> places;
    for (const auto& [pointer, value] : flat.items()) {
      // Every place, and the objects and arrays that hold it.
      for (std::string place = pointer; !place.empty(); place = place.substr(0, place.rfind('/'))) {
        places.push_back(place);
      }
    }
    std::sort(places.begin(), places.end());
    places.erase(std::unique(places.begin(), places.end()), places.end());
    for (size_t i = 0; i < places.size(); i += 3) {
      json mutated = original;
      mutated[json::json_pointer(places[i])] = replacements[i % replacements.size()];
      std::vector<ValidationIssue> issues;
      EXPECT_NO_THROW(run_mandatory_tests(mutated, issues)) << name << " " << places[i];
      ++runs;
    }
  }
  for (const json& document : {json(nullptr), json(1), json("x"), json::array(), json::object(),
                               json::parse(R"({"document": [], "vulnerabilities": {}})"),
                               json::parse(R"({"product_tree": {"branches": [[], 1, {}]}})")}) {
    std::vector<ValidationIssue> issues;
    EXPECT_NO_THROW(run_mandatory_tests(document, issues)) << document.dump();
  }
  EXPECT_GT(runs, 500u);
}

TEST(MandatoryRobustness, DeepBranchesAndLongRelationshipChains) {
  // Branches 1000 deep (built in memory: the parser refuses such nesting) with one product at
  // the bottom, referenced by a chain of 20000 relationships, then closed into one circle.
  json document = minimal_document();
  json leaf = {{"category", "product_version"},
               {"name", "1.0"},
               {"product", {{"name", "Deep"}, {"product_id", "DEEP"}}}};
  for (int depth = 0; depth < 1000; ++depth) {
    json parent = {{"category", "vendor"}, {"name", "v"}, {"branches", json::array()}};
    parent["branches"].push_back(std::move(leaf));
    leaf = std::move(parent);
  }
  document["product_tree"]["branches"] = json::array();
  document["product_tree"]["branches"].push_back(std::move(leaf));
  json relationships = json::array();
  for (int i = 0; i < 20000; ++i) {
    relationships.push_back(
        {{"category", "installed_on"},
         {"full_product_name", {{"name", "r"}, {"product_id", "R" + std::to_string(i)}}},
         {"product_reference", i == 0 ? "DEEP" : "R" + std::to_string(i - 1)},
         {"relates_to_product_reference", "DEEP"}});
  }
  document["product_tree"]["relationships"] = std::move(relationships);
  EXPECT_EQ(mandatory_lines(document), std::vector<std::string>{});

  document["product_tree"]["relationships"][0]["product_reference"] = "R19999";
  const auto issues = mandatory_issues(document);
  EXPECT_EQ(issues.size(), 20000u);
  EXPECT_EQ(issues.front().test, "6.1.3");
}

TEST(MandatoryRobustness, LargeDocumentsTakeLinearTime) {
  // 50000 products referenced from 50000 statuses, scores and groups: quadratic work would take
  // minutes.
  json document = minimal_document();
  json names = json::array(), ids = json::array();
  for (int i = 0; i < 50000; ++i) {
    const std::string id = "CSAFPID-" + std::to_string(i);
    names.push_back({{"name", "P"}, {"product_id", id}});
    ids.push_back(id);
  }
  document["product_tree"]["full_product_names"] = names;
  document["product_tree"]["product_groups"] =
      json::array({{{"group_id", "G"}, {"product_ids", ids}}});
  document["vulnerabilities"] = json::array(
      {{{"product_status", {{"known_affected", ids}}},
        {"flags", json::array({{{"label", "component_not_present"}, {"group_ids", {"G"}}},
                               {{"label", "component_not_present"}, {"product_ids", ids}}})},
        {"scores",
         json::array(
             {{{"products", ids},
               {"cvss_v3", cvss_object({"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8,
                                        9.8, 9.8})}}})}}});
  const auto start = std::chrono::steady_clock::now();
  const auto issues = mandatory_issues(document);
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(issues.size(), 50000u);  // each product in two VEX justification flags (6.1.33)
  EXPECT_LT(seconds, 10.0);
}

}  // namespace
}  // namespace vigie::advisory
