#include "vigie/phi/check.h"

#include <fmt/format.h>

#include <algorithm>

#include "dcmtk_io.h"
#include "pixel_policy.h"
#include "vigie/phi/scrub.h"

namespace vigie::phi {
namespace {

using internal::string_of;
using internal::tag_text;

bool remapped_uid(std::string_view uid) {
  while (!uid.empty() && (uid.back() == ' ' || uid.back() == '\0')) uid.remove_suffix(1);
  if (uid.empty()) return true;
  if (!uid.starts_with("2.25.") || uid.size() > 64 || uid.size() < 6) return false;
  std::string_view digits = uid.substr(5);
  if (digits.size() > 1 && digits.front() == '0') return false;
  return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool all_remapped(std::string_view values) {
  size_t start = 0;
  while (start <= values.size()) {
    size_t end = values.find('\\', start);
    if (end == std::string_view::npos) end = values.size();
    if (!remapped_uid(values.substr(start, end - start))) return false;
    start = end + 1;
  }
  return true;
}

class Checker {
 public:
  Checker(const Profile& profile, Options options) : profile_(profile), options_(options) {}

  void item(DcmItem& item, const std::string& path, int depth) {
    if (depth > 64) {
      findings_.push_back({path, "nesting too deep to check", "more than 64 sequence levels"});
      return;
    }
    std::vector<std::pair<std::uint32_t, std::string>> creators;
    for (unsigned long i = 0; i < item.card(); ++i) {
      DcmElement* e = item.getElement(i);
      const DcmTagKey tag = e->getTag();
      if ((tag.getGroup() & 1U) != 0 && tag.getElement() >= 0x10 && tag.getElement() <= 0xFF) {
        creators.emplace_back((std::uint32_t{tag.getGroup()} << 8) | tag.getElement(),
                              string_of(*e));
      }
    }
    for (unsigned long i = 0; i < item.card(); ++i) {
      DcmElement* e = item.getElement(i);
      const DcmTagKey tag = e->getTag();
      std::string where = path.empty() ? tag_text(tag) : path + "/" + tag_text(tag);
      if ((tag.getGroup() & 1U) != 0) {
        private_element(*e, where, creators);
      } else {
        element(*e, where);
      }
      if (e->ident() == EVR_SQ) {
        auto* sq = static_cast<DcmSequenceOfItems*>(e);
        for (unsigned long j = 0; j < sq->card(); ++j) {
          this->item(*sq->getItem(j), fmt::format("{}[{}]", where, j), depth + 1);
        }
      }
    }
  }

  std::vector<CheckFinding>& findings() { return findings_; }

 private:
  void private_element(DcmElement& e, const std::string& where,
                       const std::vector<std::pair<std::uint32_t, std::string>>& creators) {
    const std::uint16_t g = e.getTag().getGroup();
    const std::uint16_t el = e.getTag().getElement();
    if (options_.has(Option::kRetainSafePrivate)) {
      if (el >= 0x10 && el <= 0xFF) return;  // a creator: checked through its elements
      std::uint32_t block = (std::uint32_t{g} << 8) | (el >> 8U);
      auto it = std::find_if(creators.begin(), creators.end(),
                             [&](const auto& c) { return c.first == block; });
      if (el >= 0x1000 && it != creators.end() &&
          profile_.safe_private(g, static_cast<std::uint8_t>(el & 0xFFU), it->second)) {
        return;
      }
      findings_.push_back({where, "private attribute", "not on the safe private list"});
      return;
    }
    findings_.push_back({where, "private attribute", "private attributes must be removed"});
  }

  void element(DcmElement& e, const std::string& where) {
    const DcmTagKey tag = e.getTag();
    const ProfileRow* row = profile_.row(tag.getGroup(), tag.getElement());
    if (row == nullptr) return;
    // What the options allow for this row, read from the table columns directly.
    for (const auto& o : all_options()) {
      const std::string& code = row->options[static_cast<size_t>(o.option)];
      if (!code.empty() && options_.has(o.option)) return;  // K or C: kept or cleaned
    }
    auto codes = split_code(row->basic);
    bool allow_zero = std::find(codes.begin(), codes.end(), "Z") != codes.end();
    bool allow_dummy = std::find(codes.begin(), codes.end(), "D") != codes.end();
    bool allow_uid = std::find_if(codes.begin(), codes.end(), [](const std::string& c) {
                       return c.starts_with("U");
                     }) != codes.end();
    const bool sequence = e.ident() == EVR_SQ;
    const bool empty =
        sequence ? static_cast<DcmSequenceOfItems&>(e).card() == 0 : e.getLength() == 0;
    if (allow_zero && empty) return;
    if ((allow_uid || allow_dummy) && sequence) return;  // its items are checked one by one
    if ((allow_uid || allow_dummy) && e.getVR() == EVR_UI) {
      if (all_remapped(string_of(e))) return;
      findings_.push_back({where, "UID not remapped", row->name});
      return;
    }
    if (allow_dummy && !sequence) {
      std::string vr = DcmVR(e.getVR()).getVRName();
      std::string value = string_of(e);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\0')) value.pop_back();
      std::string_view dummy = dummy_value(vr);
      bool zero_binary =
          dummy.empty() && (value.empty() || value.find_first_not_of("0\\.") == std::string::npos);
      if (value == dummy || zero_binary) return;
    }
    bool only_remove = !allow_zero && !allow_dummy && !allow_uid;
    findings_.push_back(
        {where, only_remove ? "attribute not removed" : "identifying value", row->name});
  }

  const Profile& profile_;
  Options options_;
  std::vector<CheckFinding> findings_;
};

Options claimed_options(DcmItem& ds) {
  Options options;
  DcmSequenceOfItems* codes = nullptr;
  if (ds.findAndGetSequence(DCM_DeidentificationMethodCodeSequence, codes).bad() ||
      codes == nullptr) {
    return options;
  }
  for (unsigned long i = 0; i < codes->card(); ++i) {
    OFString value;
    codes->getItem(i)->findAndGetOFString(DCM_CodeValue, value);
    for (const auto& o : all_options()) {
      if (o.code == value.c_str()) options.set(o.option);
    }
  }
  return options;
}

bool pixels_are_zero(DcmItem& ds) {
  DcmElement* e = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, e).bad() || e == nullptr) return true;
  Uint8* bytes = nullptr;
  if (e->getUint8Array(bytes).bad() || bytes == nullptr) return false;
  const Uint32 n = e->getLength();
  return std::all_of(bytes, bytes + n, [](Uint8 b) { return b == 0; });
}

}  // namespace

core::Result<std::vector<CheckFinding>> check_dicom(std::string_view bytes, std::string_view name) {
  auto file = internal::read_dicom(bytes, name);
  if (!file) return tl::unexpected(file.error());
  DcmDataset& ds = *(*file)->getDataset();
  Options options = claimed_options(ds);
  Checker checker(Profile::standard(), options);
  checker.item(ds, "", 0);
  auto& findings = checker.findings();

  OFString removed;
  ds.findAndGetOFString(DCM_PatientIdentityRemoved, removed);
  if (removed != "YES") {
    findings.push_back({"(0012,0062)", "not marked de-identified", "Patient Identity Removed"});
  }
  OFString sop;
  OFString media;
  ds.findAndGetOFString(DCM_SOPInstanceUID, sop);
  if ((*file)->getMetaInfo() != nullptr) {
    (*file)->getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, media);
  }
  if (!media.empty() && media != sop) {
    findings.push_back({"(0002,0003)", "file meta inconsistent",
                        "Media Storage SOP Instance UID differs from (0008,0018)"});
  }
  if (!media.empty() && !remapped_uid(media.c_str()) && !options.has(Option::kRetainUids)) {
    findings.push_back({"(0002,0003)", "UID not remapped", "Media Storage SOP Instance UID"});
  }
  std::string verdict = internal::burned_in_verdict(ds);
  if (!verdict.empty()) {
    if (!options.has(Option::kCleanPixelData)) {
      findings.push_back({"(7FE0,0010)", "pixel data may show burned-in text", verdict});
    } else if (!pixels_are_zero(ds)) {
      findings.push_back({"(7FE0,0010)", "pixel data not blank",
                          "Clean Pixel Data is claimed but the pixels are not zero"});
    }
  }
  return std::move(findings);
}

core::Result<std::vector<CheckFinding>> check_text(const Scrubber& scrubber, std::string_view text,
                                                   std::string_view name) {
  auto found = scrubber.find(text, name);
  if (!found) return tl::unexpected(found.error());
  std::vector<CheckFinding> out;
  for (const auto& f : *found) {
    out.push_back({fmt::format("line {}", f.line), "PHI in text", f.kind});
  }
  return out;
}

}  // namespace vigie::phi
