// Advisories in the store: import (validated, all or nothing), incremental assessment, the
// findings' lifecycle and deadlines, notices and their acknowledgement, reports. On SQLite and
// PostgreSQL.
#include "vigie/advisory/findings.h"

#include <gtest/gtest.h>

#include <fstream>

#include "csaf_builder.h"
#include "test_support.h"
#include "vigie/advisory/notices.h"
#include "vigie/advisory/report.h"
#include "vigie/inventory/import.h"
#include "vigie/inventory/inventory.h"

namespace vigie::advisory {
namespace {

using testing::json;
using testing::wannacry_like;

core::TimePoint at(const std::string& date) { return *core::parse_utc(date); }

class FindingsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    auto path = dir_ / "devices.csv";
    vigie::testing::write_file(
        path,
        "vendor,product,part_number,serial_number,software_version,hostname,site,zone\n"
        "Siemens Healthcare,Artis zee,,1001,VC14B,sel-artiszee-02,CHU,Angio\n"
        "SIEMENS,Artis zee,,1002,VC14J,sel-artiszee-04,CHU,Angio\n"
        "Siemens Healthineers,Arcadis Varic Gen2,10143406,14999,,sel-arcadis-04,CHU,Bloc\n"
        "Siemens Healthineers,Arcadis Varic Gen2,10143406,15000,,nrd-arcadis-02,CHU,Bloc\n"
        "Siemens Healthineers,Symbia T2,,3161,VA70A,sel-symbia-02,CHU,Nucleaire\n"
        "Siemens Healthineers,Artis zee,,1003,,sel-artiszee-09,CHU,Angio\n"
        "Philips,Essenta DR Compact,712072,1234,,sel-essenta-01,CHU,Radio\n");
    auto r = inventory::import_devices(*store_, path, inventory::ImportFormat::kCsv, {});
    ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
  }

  Actor actor(const std::string& name = "biomed") { return {name, clock_, {}}; }

  Result<ImportResult> import(const json& document, bool force = false) {
    return import_advisory(*store_, document.dump(), "test.json", {force}, actor());
  }

  std::vector<Finding> findings(FindingFilter filter = {}) {
    std::vector<Finding> out;
    EXPECT_TRUE(
        for_each_finding(*store_, filter, clock_, [&](const Finding& f) { out.push_back(f); }));
    return out;
  }

  Finding finding_of(const std::string& serial) {
    FindingFilter all;
    all.all = true;
    for (const auto& f : findings(all)) {
      if (f.serial_number == serial) return f;
    }
    ADD_FAILURE() << "no finding for s/n " << serial;
    return {};
  }

  std::int64_t count(const std::string& table) {
    return store_->query_int("SELECT COUNT(*) FROM " + table).value();
  }

  std::int64_t device_id(const std::string& serial) {
    std::vector<store::Value> p = {serial};
    return store_->query_int("SELECT id FROM devices WHERE serial_number = ?", p).value();
  }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  core::ManualClock clock_{at("2026-03-02T09:00:00Z")};
};

TEST_P(FindingsTest, ImportAssessesTheVendorsDevicesWithActionsAndDeadlines) {
  auto r = import(wannacry_like());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->outcome, "imported");
  EXPECT_EQ(r->assessed.devices, 6u);  // the Siemens ones only
  EXPECT_EQ(r->assessed.opened, 4u);   // VC14B, s/n 14999, VA70A, and the Artis with no version

  auto upgrade = finding_of("1001");
  EXPECT_EQ(upgrade.verdict, Verdict::kAffected);
  EXPECT_EQ(upgrade.status, FindingStatus::kOpen);
  ASSERT_FALSE(upgrade.actions.empty());
  EXPECT_EQ(upgrade.actions.front().target_version, "VC14J");
  EXPECT_EQ(upgrade.due_on, "2026-04-01");  // CVSS 8.1 is high: 30 days
  EXPECT_EQ(finding_of("1002").verdict, Verdict::kFixed);
  EXPECT_EQ(finding_of("15000").verdict, Verdict::kNotAffected);
  EXPECT_EQ(finding_of("14999").actions.front().category, "mitigation");
  EXPECT_EQ(finding_of("3161").actions.front().target_version, "VB10A");
  auto unknown = finding_of("1003");
  EXPECT_EQ(unknown.verdict, Verdict::kUnknown);
  EXPECT_EQ(unknown.missing, std::vector<std::string>{"software_version"});

  // The default list: what still needs work.
  EXPECT_EQ(findings().size(), 4u);
  auto again = import(wannacry_like());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, "unchanged");
  EXPECT_EQ(count("advisories"), 1);
}

TEST_P(FindingsTest, AnUpgradedDeviceClosesItsFindingWithTheReason) {
  ASSERT_TRUE(import(wannacry_like()));
  std::int64_t id = device_id("1001");
  ASSERT_TRUE(inventory::set_device_fields(*store_, id, {{"software_version", "VC14J"}}));
  clock_.advance(std::chrono::hours(24));
  auto s = assess_device(*store_, id, actor());
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->devices, 1u);
  EXPECT_EQ(s->closed, 1u);
  auto f = finding_of("1001");
  EXPECT_EQ(f.verdict, Verdict::kFixed);
  EXPECT_EQ(f.status, FindingStatus::kFixed);
  EXPECT_NE(f.status_note.find("now at VC14J"), std::string::npos) << f.status_note;
  EXPECT_EQ(f.closed_at, "2026-03-03T09:00:00Z");
  auto history = finding_history(*store_, f.id);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].status, "fixed");

  // Downgraded again (a restored image): the finding reopens.
  ASSERT_TRUE(inventory::set_device_fields(*store_, id, {{"software_version", "VC14B"}}));
  auto back = assess_device(*store_, id, actor());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->reopened, 1u);
  EXPECT_EQ(finding_of("1001").status, FindingStatus::kOpen);
}

TEST_P(FindingsTest, ANewVersionOfTheAdvisoryReplacesTheOldAndReassesses) {
  ASSERT_TRUE(import(wannacry_like()));
  json v2 = wannacry_like("TEST-AX047", 2);
  // Version 2 drops the Symbia products: their finding closes as no longer named.
  v2["product_tree"]["branches"][0]["branches"].erase(2);
  auto& status = v2["vulnerabilities"][0]["product_status"]["known_affected"];
  status = json{"AZ-VC14B", "VARIC-GEN2"};
  auto& remediations = v2["vulnerabilities"][0]["remediations"];
  remediations.erase(5);
  remediations.erase(4);
  v2["vulnerabilities"][0]["scores"][0]["products"] = json{"AZ-VC14B", "VARIC-GEN2"};
  auto r = import(v2);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->outcome, "updated");
  EXPECT_EQ(count("advisories"), 1);
  auto symbia = finding_of("3161");
  EXPECT_EQ(symbia.verdict, Verdict::kNotAffected);
  EXPECT_EQ(symbia.status, FindingStatus::kNotApplicable);
  EXPECT_EQ(symbia.status_note, "no longer named by the advisory");
}

TEST_P(FindingsTest, BadDocumentsAreRefusedAndNothingIsStored) {
  json dangling = wannacry_like();
  dangling["vulnerabilities"][0]["product_status"]["known_affected"].push_back("NOPE");
  json wrong_type = wannacry_like();
  wrong_type["document"]["tracking"]["version"] = 1;
  std::string deep(size_t{100} << 20, '[');  // 100 MiB of nesting
  for (const std::string& text :
       {dangling.dump(), wrong_type.dump(), wannacry_like().dump().substr(0, 500), deep}) {
    auto r = import_advisory(*store_, text, "bad.json", {}, actor());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidInput);
    EXPECT_EQ(r.error().where, "bad.json");
  }
  auto r = import_advisory(*store_, dangling.dump(), "bad.json", {}, actor());
  EXPECT_NE(r.error().message.find("6.1.1 /vulnerabilities/0/product_status/known_affected/4"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(count("advisories"), 0);
  EXPECT_EQ(count("findings"), 0);

  // --force stores it and records why it was invalid.
  auto forced = import(dangling, true);
  ASSERT_TRUE(forced) << forced.error().to_string();
  EXPECT_FALSE(forced->forced_failures.empty());
  auto list = list_advisories(*store_);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE(list->front().forced);
}

TEST_P(FindingsTest, WorkflowNeedsJustificationsAndKeepsWhoAndWhen) {
  ASSERT_TRUE(import(wannacry_like()));
  auto f = finding_of("14999");
  EXPECT_FALSE(set_finding_status(*store_, f.id, {FindingStatus::kRiskAccepted, "", ""}, actor()));
  EXPECT_FALSE(set_finding_status(*store_, f.id, {FindingStatus::kMitigated, "", ""}, actor()));
  EXPECT_FALSE(
      set_finding_status(*store_, f.id, {FindingStatus::kRiskAccepted, "why", "soon"}, actor()));
  ASSERT_TRUE(
      set_finding_status(*store_, f.id, {FindingStatus::kInProgress, "", ""}, actor("alice")));
  ASSERT_TRUE(set_finding_status(
      *store_, f.id,
      {FindingStatus::kRiskAccepted, "Isolated VLAN, replacement ordered", "2026-06-30"},
      actor("bob")));
  auto after = finding_of("14999");
  EXPECT_EQ(after.status, FindingStatus::kRiskAccepted);
  EXPECT_EQ(after.status_by, "bob");
  EXPECT_EQ(after.accepted_until, "2026-06-30");
  EXPECT_FALSE(after.needs_work("2026-06-30"));
  EXPECT_TRUE(after.needs_work("2026-07-01"));  // the acceptance expired
  auto history = finding_history(*store_, f.id);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[1].actor, "alice");
  EXPECT_EQ((*history)[2].note, "Isolated VLAN, replacement ordered");
  EXPECT_FALSE(set_finding_status(*store_, 999999, {FindingStatus::kInProgress, "", ""}, actor()));
}

TEST_P(FindingsTest, OverdueFindingsAreListed) {
  ASSERT_TRUE(import(wannacry_like()));
  FindingFilter overdue;
  overdue.overdue = true;
  EXPECT_TRUE(findings(overdue).empty());
  clock_.advance(std::chrono::hours(24 * 31));
  auto late = findings(overdue);
  EXPECT_EQ(late.size(), 4u);
  for (const auto& f : late) EXPECT_TRUE(f.overdue);
}

TEST_P(FindingsTest, NoticeResponseDueAndCompletion) {
  ASSERT_TRUE(import(wannacry_like()));
  auto letter = dir_ / "letter.txt";
  vigie::testing::write_file(letter, "Lettre de sécurité AX047/17/S");
  NoticeInput in;
  in.reference = "AX047/17/S";
  in.advisory = "TEST-AX047";
  in.received_on = "2026-03-02";
  in.channel = "registered letter";
  in.response_days = 30;
  in.document = letter;
  auto id = add_notice(*store_, dir_.path() / "home", in, actor());
  ASSERT_TRUE(id) << id.error().to_string();
  auto dup = add_notice(*store_, dir_.path() / "home", in, actor());
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, core::ErrorCode::kConflict);

  auto n = get_notice(*store_, "AX047/17/S", clock_);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->response_due, "2026-04-01");
  EXPECT_EQ(n->affected_devices, 3);
  EXPECT_EQ(n->open_findings, 4);  // and the Artis zee whose version is unknown
  EXPECT_FALSE(n->complete);
  EXPECT_EQ(n->document_sha256.size(), 64u);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "home" / n->document_path));

  clock_.advance(std::chrono::hours(24 * 31));
  EXPECT_TRUE(get_notice(*store_, "AX047/17/S", clock_)->response_overdue);
  ASSERT_TRUE(
      acknowledge_notice(*store_, "AX047/17/S", {"Dr Martin", "2026-04-02", "AR-17"}, actor()));
  n = get_notice(*store_, "AX047/17/S", clock_);
  EXPECT_FALSE(n->response_overdue);
  EXPECT_FALSE(n->complete);  // devices still need work
  for (const auto& serial : {"1001", "14999", "3161", "1003"}) {
    ASSERT_TRUE(set_finding_status(*store_, finding_of(serial).id,
                                   {FindingStatus::kMitigated, "Firewalled", ""}, actor()));
  }
  EXPECT_TRUE(get_notice(*store_, "AX047/17/S", clock_)->complete);
  auto of_device = notices_of_device(*store_, device_id("1001"), clock_);
  ASSERT_TRUE(of_device);
  ASSERT_EQ(of_device->size(), 1u);
}

TEST_P(FindingsTest, ReportsInHtmlAndCsvInFrenchAndEnglish) {
  ASSERT_TRUE(import(wannacry_like()));
  NoticeInput in;
  in.reference = "AX047/17/S";
  in.advisory = "TEST-AX047";
  in.received_on = "2026-03-02";
  in.channel = "e-mail";
  in.response_days = 30;
  auto added = add_notice(*store_, dir_.path(), in, actor());
  ASSERT_TRUE(added) << added.error().to_string();
  auto html = notice_report(*store_, "AX047/17/S", ReportFormat::kHtml, Language::kFrench, clock_);
  ASSERT_TRUE(html) << html.error().to_string();
  EXPECT_NE(html->find("<html lang=\"fr\""), std::string::npos);
  EXPECT_NE(html->find("sel-artiszee-02"), std::string::npos);
  EXPECT_NE(html->find("VC14J"), std::string::npos);
  EXPECT_NE(html->find("2026-04-01"), std::string::npos);
  EXPECT_EQ(html->find("<script"), std::string::npos);  // self-contained and inert
  auto english =
      notice_report(*store_, "AX047/17/S", ReportFormat::kHtml, Language::kEnglish, clock_);
  ASSERT_TRUE(english);
  EXPECT_NE(*english, *html);
  auto csv = notice_report(*store_, "AX047/17/S", ReportFormat::kCsv, Language::kEnglish, clock_);
  ASSERT_TRUE(csv);
  size_t lines = std::count(csv->begin(), csv->end(), '\n');
  // The header and every device the advisory names, checked ones included (fixed, not
  // affected): the file shows that each was looked at.
  EXPECT_EQ(lines, 7u) << *csv;
  EXPECT_NE(csv->find(",15000,"), std::string::npos);
  auto device =
      device_report(*store_, device_id("1001"), ReportFormat::kHtml, Language::kFrench, clock_);
  ASSERT_TRUE(device);
  EXPECT_NE(device->find("AX047/17/S"), std::string::npos);
  EXPECT_FALSE(notice_report(*store_, "NOPE", ReportFormat::kCsv, Language::kFrench, clock_));
}

INSTANTIATE_TEST_SUITE_P(Backends, FindingsTest, ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::advisory
