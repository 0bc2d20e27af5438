// The three letters the demo hospital received (data/advisories/), matched against its
// inventory (data/demo/devices.csv): each letter names exactly the devices data/demo/README.md
// lists for it, with the action the letter gives. On SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "test_support.h"
#include "vigie/advisory/findings.h"
#include "vigie/advisory/notices.h"
#include "vigie/core/file.h"
#include "vigie/inventory/import.h"
#include "vigie/inventory/inventory.h"

namespace vigie::advisory {
namespace {

const std::filesystem::path kData = std::filesystem::path(VIGIE_SOURCE_DIR) / "data";

// Devices are named by hostname, or "s/n N" when they have none (as in the demo README).
std::string name_of(const Finding& f) {
  return f.hostname.empty() ? "s/n " + f.serial_number : f.hostname;
}

class SeedLettersTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    auto r = inventory::import_devices(*store_, kData / "demo" / "devices.csv",
                                       inventory::ImportFormat::kCsv, {});
    ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
    for (const char* file :
         {"siemens-ax047-17-s.json", "siemens-mi-510-17-s.json", "philips-2023-pd-dxr-009.json"}) {
      auto text = core::read_file(kData / "advisories" / file);
      ASSERT_TRUE(text) << text.error().to_string();
      auto report = validate_csaf(*text);
      for (const auto& i : report.issues)
        ADD_FAILURE() << file << " " << i.test << " " << i.pointer << " " << i.reason;
      auto imported = import_advisory(*store_, *text, file, {}, actor());
      ASSERT_TRUE(imported) << imported.error().to_string();
    }
    FindingFilter all;
    all.all = true;
    ASSERT_TRUE(for_each_finding(*store_, all, clock_, [&](const Finding& f) {
      by_letter_[f.advisory][f.verdict].insert(name_of(f));
      findings_[{f.advisory, name_of(f)}] = f;
    }));
  }

  Actor actor() { return {"biomed", clock_, {}}; }

  const std::set<std::string>& named(const std::string& advisory, Verdict verdict) {
    return by_letter_[advisory][verdict];
  }

  const Finding& finding(const std::string& advisory, const std::string& device) {
    auto it = findings_.find({advisory, device});
    if (it == findings_.end()) {
      ADD_FAILURE() << advisory << " names no device " << device;
      static const Finding kNone;
      return kNone;
    }
    return it->second;
  }

  static std::set<std::string> categories(const Finding& f) {
    std::set<std::string> out;
    for (const auto& a : f.actions) out.insert(a.category);
    return out;
  }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  core::ManualClock clock_{*core::parse_utc("2026-03-02T09:00:00Z")};
  std::map<std::string, std::map<Verdict, std::set<std::string>>> by_letter_;
  std::map<std::pair<std::string, std::string>, Finding> findings_;
};

TEST_P(SeedLettersTest, Ax047NamesExactlyTheWannaCryDevices) {
  const std::string ax = "AX047/17/S";
  std::set<std::string> affected = {
      // Artis zee, and its biplane variant
      "sel-artiszee-01", "nrd-artiszee-01", "sel-artiszee-02", "sel-artiszee-03", "sel-artiszee-07",
      "sel-artiszee-06",
      // AXIOM Artis, one sold and one decommissioned
      "sel-axiom-01", "sel-axiom-02", "nrd-axiom-02", "s/n 47833", "s/n 89872",
      // Artis One, Sensis
      "nrd-artisone-01", "sel-artisone-01", "sel-sensis-01", "sel-sensis-02", "nrd-sensis-01",
      "sel-sensis-04", "sel-sensis-03",
      // syngo X-Workplace under its three spellings
      "sel-xwp-01", "sel-xwp-03", "sel-xwp-04", "sel-xwp-05", "sel-xwp-07", "nrd-xwp-01",
      "nrd-xwp-03",
      // X-Leonardo: no patch possible
      "sel-xleo-01", "sel-xleo-02", "nrd-xleo-01", "s/n 51423", "s/n 47477",
      // Arcadis: every serial of the first generation, below the limit for Gen2
      "sel-arcadis-01", "s/n 3057", "sel-arcadis-02", "s/n 1996", "nrd-arcadis-01",
      "sel-arcadis-03", "sel-arcadis-04", "nrd-arcadis-03", "sel-arcadis-06", "sel-arcadis-07",
      "til-arcadis-02"};
  EXPECT_EQ(named(ax, Verdict::kAffected), affected);
  EXPECT_EQ(
      named(ax, Verdict::kFixed),
      (std::set<std::string>{"sel-artiszee-04", "sel-artiszee-05", "sel-axiom-03", "nrd-axiom-01",
                             "nrd-artisone-02", "sel-sensis-05", "sel-sensis-06", "nrd-sensis-02",
                             "nrd-sensis-03", "sel-xwp-02", "sel-xwp-06", "nrd-xwp-02"}));
  EXPECT_EQ(named(ax, Verdict::kNotAffected),
            (std::set<std::string>{"nrd-arcadis-02", "til-arcadis-01", "sel-arcadis-05",
                                   "nrd-arcadis-04", "nrd-arcadis-05", "sel-arcadis-08"}));
  EXPECT_TRUE(named(ax, Verdict::kUnknown).empty());

  // An Artis zee at VC14B: upgrade to VC14J.
  const Finding& artis = finding(ax, "sel-artiszee-02");
  ASSERT_FALSE(artis.actions.empty());
  EXPECT_EQ(artis.actions.front().category, "vendor_fix");
  EXPECT_EQ(artis.actions.front().target_version, "VC14J");
  EXPECT_EQ(finding(ax, "sel-axiom-02").actions.front().target_version, "VB23P");
  // An Arcadis Varic Gen2 with serial 14999: no patch; block 139/445/3389 or disconnect.
  const Finding& arcadis = finding(ax, "sel-arcadis-04");
  EXPECT_EQ(categories(arcadis),
            (std::set<std::string>{"mitigation", "workaround", "no_fix_planned"}));
  EXPECT_EQ(arcadis.actions.front().category, "mitigation");
  EXPECT_NE(arcadis.actions.front().text.find("139"), std::string::npos);
  EXPECT_NE(arcadis.actions.front().text.find("445"), std::string::npos);
  EXPECT_NE(arcadis.actions.front().text.find("3389"), std::string::npos);
  // The same model with serial 15000 is not affected.
  EXPECT_EQ(finding(ax, "nrd-arcadis-02").verdict, Verdict::kNotAffected);
}

TEST_P(SeedLettersTest, Mi510NamesTheNuclearMedicineSystemsWithTheVa70Rule) {
  const std::string mi = "MI 510 17 S";
  EXPECT_EQ(named(mi, Verdict::kAffected),
            (std::set<std::string>{
                "s/n 6929",         "sel-ecam-01",     "nrd-symbia-01",   "sel-symbia-01",
                "sel-symbia-03",    "sel-symbia-02",   "nrd-symbia-04",   "sel-miwp-02",
                "nrd-symbia-03",    "nrd-symbia-02",   "sel-symbia-04",   "sel-symbia-05",
                "sel-symbia-06",    "til-symbia-01",   "til-symbia-02",   "nrd-symbianet-01",
                "sel-symbianet-01", "nrd-miwp-01",     "sel-miwp-01",     "til-miwp-01",
                "nrd-biograph-01",  "sel-biograph-02", "sel-biograph-01", "til-biograph-01",
                "til-biograph-02",  "nrd-biograph-02", "s/n 3456",        "s/n 7107",
                "s/n 4868"}));
  EXPECT_TRUE(named(mi, Verdict::kUnknown).empty());
  // A Symbia at VA70: upgrade to VB10 first.
  for (const auto* va70 : {"sel-symbia-02", "nrd-symbia-04", "sel-miwp-02"}) {
    const Finding& f = finding(mi, va70);
    ASSERT_FALSE(f.actions.empty()) << va70;
    EXPECT_EQ(f.actions.front().category, "vendor_fix") << va70;
    EXPECT_EQ(f.actions.front().target_version, "VB10A") << va70;
    EXPECT_NE(f.actions.front().text.find("first"), std::string::npos) << va70;
  }
  // Below the minimum: firewall 139/445/3389 or disconnect; at the minimum: the patch.
  const Finding& below = finding(mi, "nrd-symbia-01");
  EXPECT_EQ(categories(below), (std::set<std::string>{"mitigation", "workaround"}));
  EXPECT_NE(below.actions.front().text.find("445"), std::string::npos);
  EXPECT_EQ(finding(mi, "sel-symbia-01").actions.front().category, "vendor_fix");
}

TEST_P(SeedLettersTest, EssentaNoticeNamesEveryEssentaWithFirewallAndVlan) {
  const std::string dxr = "2023-PD-DXR-009";
  EXPECT_EQ(named(dxr, Verdict::kAffected),
            (std::set<std::string>{"sel-essenta-01", "nrd-essenta-01", "til-essenta-01",
                                   "sel-essenta-02", "nrd-essenta-02", "s/n 186335"}));
  for (const auto& device : named(dxr, Verdict::kAffected)) {
    std::string all;
    for (const auto& a : finding(dxr, device).actions) all += a.text + "\n";
    EXPECT_NE(all.find("firewall"), std::string::npos) << device;
    EXPECT_NE(all.find("VLAN"), std::string::npos) << device;
  }
  // The acknowledgement is due 30 days after receipt.
  NoticeInput in;
  in.reference = dxr;
  in.advisory = dxr;
  in.received_on = "2023-09-18";
  in.channel = "registered letter";
  in.response_days = 30;
  ASSERT_TRUE(add_notice(*store_, dir_.path(), in, actor()));
  auto notice = get_notice(*store_, dxr, clock_);
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->response_due, "2023-10-18");
  EXPECT_EQ(notice->affected_devices, 6);
}

TEST_P(SeedLettersTest, LookAlikesAndOtherProductsAreNamedByNoLetter) {
  for (const auto& [key, f] : findings_) {
    EXPECT_EQ(f.product.find("Mobilett"), std::string::npos) << key.second;
    EXPECT_EQ(f.product.find("SOMATOM"), std::string::npos) << key.second;
    EXPECT_NE(key.second, "sel-biograph-03");
    EXPECT_NE(key.second, "sel-via-01");
  }
  // X-Leonardo VA70 has the version of the MI 510 rule but is no nuclear-medicine system.
  EXPECT_EQ(findings_.count({"MI 510 17 S", "sel-xleo-01"}), 0u);
}

TEST_P(SeedLettersTest, AnUpgradedAxiomClosesItsFinding) {
  std::int64_t id = finding("AX047/17/S", "sel-axiom-02").device_id;
  ASSERT_TRUE(inventory::set_device_fields(*store_, id, {{"software_version", "VB23P"}}));
  auto s = assess_device(*store_, id, actor());
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->closed, 1u);
  auto f = get_finding(*store_, finding("AX047/17/S", "sel-axiom-02").id, clock_);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->verdict, Verdict::kFixed);
  EXPECT_EQ(f->status, FindingStatus::kFixed);
  EXPECT_NE(f->status_note.find("now at VB23P"), std::string::npos) << f->status_note;
}

// Every value of the shipped advisories is tied to the letter: each pointer of a provenance
// file exists in its advisory and each quote is in the letter (white space runs made single).
TEST(SeedLetterProvenance, EveryQuoteIsInTheLetterAndEveryPointerResolves) {
  auto squeeze = [](const std::string& text) {
    std::string out;
    for (char c : text) {
      bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
      if (space && (out.empty() || out.back() == ' ')) continue;
      out += space ? ' ' : c;
    }
    return out;
  };
  const std::pair<const char*, const char*> files[] = {
      {"siemens-ax047-17-s", "AX047-17-S.txt"},
      {"siemens-mi-510-17-s", "MI-510-17-S.txt"},
      {"philips-2023-pd-dxr-009", "2023-PD-DXR-009.txt"}};
  for (const auto& [advisory, letter] : files) {
    auto doc = nlohmann::json::parse(
        *core::read_file(kData / "advisories" / (std::string(advisory) + ".json")));
    auto sources = nlohmann::json::parse(
        *core::read_file(kData / "advisories" / (std::string(advisory) + ".sources.json")));
    std::string text = squeeze(*core::read_file(kData / "advisories" / "letters" / letter));
    ASSERT_GT(sources["fields"].size(), 0u) << advisory;
    for (const auto& field : sources["fields"]) {
      auto pointer = field["pointer"].get<std::string>();
      EXPECT_TRUE(doc.contains(nlohmann::json::json_pointer(pointer)))
          << advisory << " " << pointer;
      EXPECT_NE(text.find(squeeze(field["quote"].get<std::string>())), std::string::npos)
          << advisory << " " << pointer << ": " << field["quote"];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, SeedLettersTest,
                         ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::advisory
