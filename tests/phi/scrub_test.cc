#include "vigie/phi/scrub.h"

#include <gtest/gtest.h>

#include "test_support.h"
#include "vigie/phi/check.h"

namespace vigie::phi {
namespace {

struct ScrubCase {
  std::string name;
  std::string input;
  std::vector<std::string> gone;   // PHI that must not survive
  std::vector<std::string> kept;   // text that must survive (no over-masking of structure)
  std::vector<std::string> kinds;  // mask kinds that must be counted
};

Scrubber scrubber_with(std::vector<std::string> deny = {}, std::vector<SitePattern> patterns = {}) {
  ScrubConfig config;
  config.deny_list = std::move(deny);
  config.patterns = std::move(patterns);
  auto s = Scrubber::create(std::move(config));
  EXPECT_TRUE(s);
  return std::move(*s);
}

const std::string kAdt =
    "MSH|^~\\&|RIS|CHU VALMONT|PACS|SIEMENS|20240101120000||ADT^A08|MSG0001|P|2.5\r"
    "PID|1|EXT77|IPP12345678^^^CHU^PI|ALT9|DUPONT^JEAN^^^M.|MARTIN|19700101|M|||"
    "12 rue des Lilas^^Valmont^^75000||0612345678|||||ACC99|1700175123456\r"
    "NK1|1|DUPONT^MARIE|SPO|12 rue des Lilas|0611111111\r"
    "PV1|1|O|RAD^01||||1234^HOUSE^GREGORY|5678^WILSON^JAMES|||||||||9999^CUDDY|"
    "|V123456\r"
    "ORC|NW|PLC001|FIL001|GRP1||||||USR^ENTERER|USR^VERIFIER|ORD^ORDERING\r"
    "OBR|1|PLC001|FIL001|71020^CHEST XRAY^CPT|||20240101|||||||||ORD^ORDERING||"
    "ACC123456|FLD2|FLD3|FLD4\r";

std::vector<ScrubCase> cases() {
  return {
      {"hl7 PID fields by number",
       kAdt,
       {"IPP12345678", "DUPONT", "JEAN", "19700101", "Lilas", "0612345678", "ACC99",
        "1700175123456", "EXT77", "ALT9", "MARTIN"},
       {"MSH|^~\\&|RIS|CHU VALMONT", "ADT^A08", "PID|1|", "|M|", "71020^CHEST XRAY^CPT"},
       {"hl7:PID-3", "hl7:PID-5", "hl7:PID-6", "hl7:PID-7", "hl7:PID-11", "hl7:PID-13",
        "hl7:PID-18", "hl7:PID-19"}},
      {"hl7 NK1 PV1 ORC OBR",
       kAdt,
       {"MARIE", "0611111111", "HOUSE", "WILSON", "CUDDY", "V123456", "PLC001", "FIL001",
        "ACC123456", "ENTERER", "ORDERING"},
       {"NK1|1|***|SPO|", "PV1|1|O|RAD^01|"},
       {"hl7:NK1-2", "hl7:PV1-7", "hl7:PV1-8", "hl7:PV1-19", "hl7:ORC-2", "hl7:ORC-3", "hl7:OBR-2",
        "hl7:OBR-3", "hl7:OBR-18"}},
      {"hl7 encoding characters read from MSH",
       "MSH#$~\\&#RIS#CHU#PACS#X#20240101##ADT$A08#1#P#2.5\nPID#1##IPP42$$$CHU##SMITH$ANNA\n",
       {"IPP42", "SMITH", "ANNA"},
       {"MSH#$~\\&#RIS", "PID#1##***##***"},
       {"hl7:PID-3"}},
      {"hl7 unknown segment masked whole",
       "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rZPI|1|SECRETVALUE|other\r",
       {"SECRETVALUE", "other"},
       {"ZPI|***|***|***"},
       {"hl7:unknown-segment"}},
      {"hl7 free text in OBX",
       "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5\rOBX|1|TX|||Seen by Dr House, "
       "mail anna@example.org\r",
       {"House", "anna@example.org"},
       {"OBX|1|TX|||Seen by Dr "},
       {"name", "email"}},
      {"dcmdump lines by tag",
       "(0010,0010) PN [DOE^JOHN]                               #   8, 1 PatientName\n"
       "(0010,0020) LO [PAT-0042]                               #   8, 1 PatientID\n"
       "(0029,1010) OB 01\\02\\03                                #   3, 1 Unknown\n"
       "(0008,0060) CS [CT]                                     #   2, 1 Modality\n",
       {"DOE", "PAT-0042", "01\\02\\03"},
       {"(0008,0060) CS [CT]", "#   8, 1 PatientName"},
       {"dicom-dump"}},
      {"gdcmdump lines by tag",
       "(0010,0010) PN [Rubo DEMO]                                        # 10,1 Patient's Name\n",
       {"Rubo", "DEMO"},
       {"Patient's Name"},
       {"dicom-dump"}},
      {"key=value with PHI-like keys",
       "INFO patient_name=\"Jean Dupont\" PatientID: 12345 hostname=ct01 nom=Durand "
       "file=/tmp/a.dcm accessionNumber=A77 user=jdoe",
       {"Jean Dupont", "12345", "Durand", "A77", "jdoe"},
       {"hostname=ct01", "file=/tmp/a.dcm"},
       {"key-value"}},
      {"names, birth dates, e-mail, phones, national ids",
       "Mme Claire Martin born on 1970-02-01, DOB 01/02/1970, jean@h.fr, +33 6 12 34 56 78, "
       "(555) 123-4567, ssn 123-45-6789, NIR 1 70 02 75 123 456 78, DUPONT^JEAN",
       {"Claire Martin", "1970-02-01", "01/02/1970", "jean@h.fr", "6 12 34 56 78", "123-4567",
        "123-45-6789", "123 456", "DUPONT^JEAN"},
       {"Mme ", "born on "},
       {"name", "birth-date", "email", "phone", "national-id"}},
      {"over-long line masked whole",
       std::string(9000, 'a') + "\nnext line\n",
       {"aaaa"},
       {"next line"},
       {"unparsed-line"}},
  };
}

class ScrubTable : public ::testing::TestWithParam<ScrubCase> {};

TEST_P(ScrubTable, MasksWhatItMustAndKeepsTheRest) {
  const auto& c = GetParam();
  Scrubber s = scrubber_with();
  auto out = s.scrub(c.input, "in.txt");
  ASSERT_TRUE(out) << out.error().to_string();
  for (const auto& g : c.gone)
    EXPECT_EQ(out->text.find(g), std::string::npos) << g << "\n" << out->text;
  for (const auto& k : c.kept)
    EXPECT_NE(out->text.find(k), std::string::npos) << k << "\n" << out->text;
  for (const auto& kind : c.kinds) EXPECT_GT(out->masks[kind], 0U) << kind;
  // Idempotent: the scrubbed text has nothing left for the checker.
  auto findings = s.find(out->text, "out.txt");
  ASSERT_TRUE(findings);
  for (const auto& f : *findings) ADD_FAILURE() << "line " << f.line << ": " << f.kind;
  // And the checker does find the PHI of the input.
  auto before = s.find(c.input, "in.txt");
  ASSERT_TRUE(before);
  EXPECT_FALSE(before->empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, ScrubTable, ::testing::ValuesIn(cases()), [](const auto& info) {
  std::string n = info.param.name;
  for (char& ch : n) {
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0) ch = '_';
  }
  return n;
});

TEST(Scrub, DenyListValuesFromTheSameTransferAreMaskedAsWords) {
  Scrubber s = scrubber_with({"phantom1-sid1", "Rubo", "19951025", "x"});
  auto out = s.scrub("upload of phantom1-sid1 by RUBO on 19951025; Rubout stays; x stays", "log");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->text,
            "upload of [PHI:deny-list] by [PHI:deny-list] on [PHI:deny-list]; "
            "Rubout stays; x stays");
  EXPECT_EQ(out->masks["deny-list"], 3U);
}

TEST(Scrub, SitePatternsAreApplied) {
  Scrubber s = scrubber_with({}, {{"ipp", "IPP[0-9]{8}"}});
  auto out = s.scrub("exam for IPP00012345 done", "log");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->text, "exam for [PHI:ipp] done");
  EXPECT_FALSE(Scrubber::create(ScrubConfig{{{"bad", "([unclosed"}}, {}, 8192, 1 << 20}));
}

TEST(Scrub, SitePatternsFileIsReadAndBadLinesNamed) {
  vigie::testing::TempDir dir;
  vigie::testing::write_file(dir / "p.txt", "# site\nipp IPP[0-9]{8}\n\nbadline\n");
  auto p = load_patterns(dir / "p.txt");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().where.find("p.txt:4"), std::string::npos);
  vigie::testing::write_file(dir / "q.txt", "ipp IPP[0-9]{8}\nacc ACC-[0-9]+\n");
  auto q = load_patterns(dir / "q.txt");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 2U);
  EXPECT_EQ((*q)[1].regex, "ACC-[0-9]+");
}

TEST(Scrub, WhatItCannotReadIsRefusedNotPassed) {
  Scrubber s = scrubber_with();
  for (const std::string& bad : {std::string("abc\0def", 7), std::string("caf\xe9 latin-1"),
                                 std::string("MSH|^^^^|bad\r")}) {
    auto out = s.scrub(bad, "file.bin");
    ASSERT_FALSE(out) << bad;
    EXPECT_EQ(out.error().where.substr(0, 8), "file.bin");
  }
  ScrubConfig small;
  small.max_bytes = 4;
  auto tiny = Scrubber::create(small);
  ASSERT_TRUE(tiny);
  EXPECT_FALSE(tiny->scrub("12345", "big"));
}

TEST(Scrub, HardLineNotSegmentInsideHl7IsMasked) {
  Scrubber s = scrubber_with();
  auto out = s.scrub("MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\rfree text Jean\r", "m");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->text.find("Jean"), std::string::npos);
  EXPECT_EQ(out->masks["unparsed-line"], 1U);
}

TEST(Scrub, CheckTextReportsLinesAndKindsNeverValues) {
  Scrubber s = scrubber_with();
  auto findings = check_text(s, "ok line\npatient_name=Jean\n", "log");
  ASSERT_TRUE(findings);
  ASSERT_EQ(findings->size(), 1U);
  EXPECT_EQ((*findings)[0].where, "line 2");
  EXPECT_EQ((*findings)[0].detail, "key-value");
  EXPECT_EQ((*findings)[0].kind.find("Jean"), std::string::npos);
}

}  // namespace
}  // namespace vigie::phi
