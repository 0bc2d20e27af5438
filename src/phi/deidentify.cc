#include "vigie/phi/deidentify.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "charset.h"
#include "dcmtk_io.h"
#include "pixel_policy.h"
#include "vigie/phi/scrub.h"

namespace vigie::phi {
namespace {

using core::ErrorCode;
using internal::string_of;
using internal::tag_text;

std::vector<std::string> split_values(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find('\\', start);
    if (end == std::string_view::npos) end = value.size();
    out.emplace_back(value.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string join_values(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += '\\';
    out += values[i];
  }
  return out;
}

// The elements of an item in order: DcmItem::getElement(i) walks its list from the start each
// time, nextInContainer follows it.
std::vector<DcmElement*> elements_of(DcmItem& item) {
  std::vector<DcmElement*> out;
  out.reserve(item.card());
  for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o)) {
    out.push_back(static_cast<DcmElement*>(o));
  }
  return out;
}

std::string vr_name(DcmElement& e) { return DcmVR(e.getVR()).getVRName(); }

bool is_string_vr(DcmElement& e) { return DcmVR(e.getVR()).isaString(); }

void zero_fill(DcmElement& e) {
  Uint8* bytes = nullptr;
  if (e.getUint8Array(bytes).good() && bytes != nullptr) {
    std::memset(bytes, 0, e.getLength());
    return;
  }
  Uint16* words = nullptr;
  if (e.getUint16Array(words).good() && words != nullptr) {
    std::memset(words, 0, e.getLength());
    return;
  }
  e.putString("0");  // numeric VRs (US, SL, FD...): one zero
}

// A DA value moved back by `days`; nullopt when it is not YYYYMMDD.
std::optional<std::string> shift_date(std::string_view da, int days) {
  if (da.size() < 8 ||
      !std::all_of(da.begin(), da.begin() + 8, [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int y = std::stoi(std::string(da.substr(0, 4)));
  unsigned m = static_cast<unsigned>(std::stoi(std::string(da.substr(4, 2))));
  unsigned d = static_cast<unsigned>(std::stoi(std::string(da.substr(6, 2))));
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok()) return std::nullopt;
  std::chrono::year_month_day shifted{std::chrono::sys_days(ymd) - std::chrono::days(days)};
  return fmt::format("{:04d}{:02d}{:02d}", static_cast<int>(shifted.year()),
                     static_cast<unsigned>(shifted.month()), static_cast<unsigned>(shifted.day())) +
         std::string(da.substr(8));
}

// One run over one dataset.
class Walker {
 public:
  Walker(const Key& key, const DeidConfig& config, const Profile& profile, std::string_view name)
      : key_(key), config_(config), profile_(profile), name_(name) {}

  // Values of the identifying attributes, before anything changes (UTF-8 after conversion).
  void collect(DcmItem& item, int depth, std::set<std::string>& out) {
    if (depth > config_.max_depth) return;
    for (DcmElement* e : elements_of(item)) {
      if (e->ident() == EVR_SQ) {
        auto* sq = static_cast<DcmSequenceOfItems*>(e);
        for (unsigned long j = 0; j < sq->card(); ++j) collect(*sq->getItem(j), depth + 1, out);
        continue;
      }
      const DcmTagKey tag = e->getTag();
      if ((tag.getGroup() & 1U) != 0) continue;
      const ProfileRow* row = profile_.row(tag.getGroup(), tag.getElement());
      if (row == nullptr || !is_string_vr(*e)) continue;
      std::string vr = vr_name(*e);
      bool identity_code =
          row->basic.find('Z') != std::string::npos || row->basic.find('D') != std::string::npos;
      static const std::unordered_set<std::string_view> kTextVrs = {"LO", "SH", "DA", "LT",
                                                                    "ST", "UT", "UC"};
      if (vr != "PN" && !(identity_code && kTextVrs.contains(vr))) continue;
      for (const auto& v : split_values(string_of(*e))) add_identifying(vr, v, out);
    }
  }

  core::Status walk(DcmItem& item, int depth) {
    if (depth > config_.max_depth) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("sequences nested deeper than {}", config_.max_depth),
                        std::string(name_));
    }
    std::map<std::uint32_t, std::string> creators;
    const std::vector<DcmElement*> elements = elements_of(item);
    for (DcmElement* e : elements) {
      const DcmTagKey tag = e->getTag();
      if ((tag.getGroup() & 1U) != 0 && tag.getElement() >= 0x10 && tag.getElement() <= 0xFF) {
        creators[(std::uint32_t{tag.getGroup()} << 8) | tag.getElement()] = string_of(*e);
      }
    }
    std::set<std::uint32_t> kept_blocks;
    for (size_t k = elements.size(); k-- > 0;) {
      DcmElement* e = elements[k];
      const DcmTagKey tag = e->getTag();
      const std::uint16_t g = tag.getGroup();
      const std::uint16_t el = tag.getElement();
      if (el == 0x0000) {  // group lengths are retired; DCMTK recomputes those it writes
        remove(item, e);
        continue;
      }
      if (g == 0x0002) {  // file meta elements have no place in a dataset: the header has its own
        remove(item, e);
        count(Action::kRemove);
        continue;
      }
      if ((g & 1U) != 0) {
        VIGIE_TRY(private_element(item, *e, creators, kept_blocks, depth));
        continue;
      }
      if ((g & 0xFF00U) == 0x6000U && g <= 0x601EU) {
        const ProfileRow* data_row = profile_.row(g, 0x3000);
        if (Profile::resolve(*data_row, config_.options) == Action::kRemove) {
          remove(item, e);  // the whole overlay goes with its data
          count(Action::kRemove);
          continue;
        }
      }
      const ProfileRow* row = profile_.row(g, el);
      if (row == nullptr) {
        if (e->ident() == EVR_SQ) VIGIE_TRY(walk_sequence(*e, depth));
        continue;
      }
      VIGIE_TRY(apply(item, *e, Profile::resolve(*row, config_.options), depth));
    }
    return {};
  }

  void set_charset_ok(bool ok) { charset_ok_ = ok; }
  void set_date_offset(int days) { date_offset_ = days; }
  void set_deny_list(std::vector<std::string> values) { deny_ = std::move(values); }
  ActionCounts& counts() { return counts_; }

 private:
  static void add_identifying(const std::string& vr, std::string_view value,
                              std::set<std::string>& out) {
    std::string v(value);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    if (v.size() < 2 || v == dummy_value(vr)) return;
    if (vr == "PN") {
      std::string part;
      for (char c : v + "^") {
        if (c == '^' || c == '=') {
          if (part.size() >= 2) out.insert(part);
          part.clear();
        } else {
          part += c;
        }
      }
      return;
    }
    if (vr == "DA" && v.size() == 8) {
      out.insert(v);
      out.insert(fmt::format("{}-{}-{}", v.substr(0, 4), v.substr(4, 2), v.substr(6, 2)));
      out.insert(fmt::format("{}/{}/{}", v.substr(6, 2), v.substr(4, 2), v.substr(0, 4)));
      return;
    }
    if (v.size() >= 3) out.insert(v);
  }

  void count(Action a) { ++counts_.by_action.at(static_cast<size_t>(a)); }

  static void remove(DcmItem& item, DcmElement* element) {
    // DcmItem::remove hands the element over to the caller, who deletes it: unique_ptr does.
    std::unique_ptr<DcmElement> gone(
        item.remove(element));  // NOLINT(cppcoreguidelines-owning-memory)
  }

  core::Status walk_sequence(DcmElement& e, int depth) {
    auto& sq = static_cast<DcmSequenceOfItems&>(e);
    for (unsigned long j = 0; j < sq.card(); ++j) VIGIE_TRY(walk(*sq.getItem(j), depth + 1));
    return {};
  }

  core::Status private_element(DcmItem& item, DcmElement& e,
                               const std::map<std::uint32_t, std::string>& creators,
                               std::set<std::uint32_t>& kept_blocks, int depth) {
    const std::uint16_t g = e.getTag().getGroup();
    const std::uint16_t el = e.getTag().getElement();
    bool keep = false;
    if (config_.options.has(Option::kRetainSafePrivate)) {
      if (el >= 0x1000) {
        std::uint32_t block = (std::uint32_t{g} << 8) | (el >> 8U);
        auto it = creators.find(block);
        keep = it != creators.end() &&
               profile_.safe_private(g, static_cast<std::uint8_t>(el & 0xFFU), it->second);
        if (keep) kept_blocks.insert(block);
      } else if (el >= 0x10 && el <= 0xFF) {
        keep = kept_blocks.contains((std::uint32_t{g} << 8) | el);
      }
    }
    if (!keep) {
      remove(item, &e);
      count(Action::kRemove);
      ++counts_.private_removed;
      return {};
    }
    count(Action::kKeep);
    ++counts_.private_retained;
    if (e.ident() == EVR_SQ) return walk_sequence(e, depth);
    return {};
  }

  core::Status apply(DcmItem& item, DcmElement& e, Action action, int depth) {
    count(action);
    const bool sequence = e.ident() == EVR_SQ;
    switch (action) {
      case Action::kRemove:
        remove(item, &e);
        return {};
      case Action::kZero:
        e.clear();
        return {};
      case Action::kKeep:
        return sequence ? walk_sequence(e, depth) : core::Status{};
      case Action::kDummy:
        return dummy(item, e);
      case Action::kClean:
        return clean(item, e, depth);
      case Action::kUid:
        if (sequence) return walk_sequence(e, depth);
        if (e.getVR() == EVR_UI) {
          replace_uids(e);
          return {};
        }
        remove(item, &e);  // a UID row that holds no UID cannot be remapped: fail safe
        return {};
    }
    return {};
  }

  void replace_uids(DcmElement& e) {
    auto values = split_values(string_of(e));
    for (auto& v : values) {
      while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
      if (v.empty()) continue;
      v = key_.map_uid(v);
      ++counts_.uids_replaced;
    }
    e.putOFStringArray(join_values(values).c_str());
  }

  core::Status dummy(DcmItem& item, DcmElement& e) {
    if (e.ident() == EVR_SQ) {
      // A non-empty sequence with no identifying content: one empty item.
      static_cast<DcmSequenceOfItems&>(e).clear();
      DcmItem* created = nullptr;
      item.findOrCreateSequenceItem(e.getTag(), created, 0);
      return {};
    }
    if (e.getVR() == EVR_UI) {
      replace_uids(e);
      return {};
    }
    std::string vr = vr_name(e);
    std::string_view value = dummy_value(vr);
    if (!value.empty()) {
      e.putString(std::string(value).c_str());
    } else {
      zero_fill(e);
    }
    return {};
  }

  core::Status clean(DcmItem& item, DcmElement& e, int depth) {
    if (e.ident() == EVR_SQ) return walk_sequence(e, depth);
    std::string vr = vr_name(e);
    if (vr == "DA" || vr == "DT") {
      auto values = split_values(string_of(e));
      for (auto& v : values) {
        if (v.empty()) continue;
        auto moved = config_.options.has(Option::kRetainLongitudinalModifiedDates)
                         ? shift_date(v, date_offset_)
                         : std::nullopt;
        v = moved ? *moved : std::string(dummy_value(vr));
        if (moved) ++counts_.dates_shifted;
      }
      e.putOFStringArray(join_values(values).c_str());
      return {};
    }
    if (vr == "TM") return {};  // times of day are kept; the dates carry the shift
    if (!is_string_vr(e)) {
      if (vr == "OB" || vr == "OW" || vr == "UN" || vr == "OF" || vr == "OD" || vr == "OL") {
        zero_fill(e);  // graphics bitmaps and curves: no text can survive zeros
      }
      return {};
    }
    if (charset_ok_ && !scrubber_) {
      // Built on the first text to clean: most files under most options need none.
      ScrubConfig scrub_config;
      scrub_config.deny_list = deny_;
      auto created = Scrubber::create(std::move(scrub_config));
      if (created) scrubber_ = std::move(*created);
    }
    if (!charset_ok_ || !scrubber_) {
      remove(item, &e);  // text in a character set we could not read: cannot clean, remove
      return {};
    }
    MaskCounts masks;
    std::string cleaned = scrubber_->scrub_value(string_of(e), masks);
    e.putOFStringArray(cleaned.c_str());
    return {};
  }

  const Key& key_;
  const DeidConfig& config_;
  const Profile& profile_;
  std::string_view name_;
  std::vector<std::string> deny_;
  std::optional<Scrubber> scrubber_;
  bool charset_ok_ = true;
  int date_offset_ = 0;
  ActionCounts counts_;
};

std::string first_value(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  if (item.findAndGetOFStringArray(tag, v).bad()) return {};
  return {v.c_str(), v.size()};
}

void record_method(DcmDataset& ds, const Options& options, bool blanked) {
  ds.putAndInsertString(DCM_PatientIdentityRemoved, "YES");
  std::vector<std::pair<std::string_view, std::string_view>> codes = {
      {"113100", "Basic Application Confidentiality Profile"}};
  for (const auto& o : all_options()) {
    if (options.has(o.option) || (o.option == Option::kCleanPixelData && blanked)) {
      codes.emplace_back(o.code, o.meaning);
    }
  }
  std::string method;
  for (const auto& [code, meaning] : codes) {
    if (!method.empty()) method += '\\';
    method += meaning;
  }
  ds.putAndInsertString(DCM_DeidentificationMethod, method.c_str());
  ds.findAndDeleteElement(DCM_DeidentificationMethodCodeSequence);
  for (size_t i = 0; i < codes.size(); ++i) {
    DcmItem* code_item = nullptr;
    if (ds.findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, code_item,
                                    static_cast<signed long>(i))
            .good() &&
        code_item != nullptr) {
      code_item->putAndInsertString(DCM_CodeValue, std::string(codes[i].first).c_str());
      code_item->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
      code_item->putAndInsertString(DCM_CodeMeaning, std::string(codes[i].second).c_str());
    }
  }
  const char* temporal = options.has(Option::kRetainLongitudinalModifiedDates) ? "MODIFIED"
                         : options.has(Option::kRetainLongitudinalFullDates)   ? "UNMODIFIED"
                                                                               : "REMOVED";
  ds.putAndInsertString(DcmTagKey(0x0028, 0x0303), temporal);
}

// DCMTK takes into the file meta header whatever its group length (0002,0000) covers, elements
// of other groups too (a wrong length from a broken writer, or a forged one). They belong to the
// dataset: moved there, they get the profile's actions like any other element. Left in the
// header, they would escape de-identification, and DCMTK would write them after the recomputed
// group length where a reader takes them for dataset elements, in the dataset's transfer
// syntax: output that does not read back. One the dataset already has is dropped.
void move_foreign_meta(DcmMetaInfo& meta, DcmDataset& ds) {
  for (DcmElement* e : elements_of(meta)) {
    if (e->getTag().getGroup() == 0x0002) continue;
    std::unique_ptr<DcmElement> moved(meta.remove(e));  // NOLINT(cppcoreguidelines-owning-memory)
    // On success the dataset owns it.
    if (ds.insert(moved.get()).good()) (void)moved.release();
  }
}

// Empties the file meta header but for the device identity the options retain: on writing,
// DCMTK rebuilds the rest from the dataset and the transfer syntax. Anything else an input's
// header holds may identify (private information, RTV source and flow identifiers).
void clear_meta(DcmMetaInfo& meta, const Options& options) {
  // (0002,0016) to (0002,0018) AE titles, (0002,0026) to (0002,0028) presentation addresses.
  static constexpr std::array<std::uint16_t, 6> kDeviceIdentity = {0x0016, 0x0017, 0x0018,
                                                                   0x0026, 0x0027, 0x0028};
  const bool retain_device = options.has(Option::kRetainDeviceIdentity);
  for (DcmElement* e : elements_of(meta)) {
    const DcmTagKey tag = e->getTag();
    const bool device =
        tag.getGroup() == 0x0002 && std::find(kDeviceIdentity.begin(), kDeviceIdentity.end(),
                                              tag.getElement()) != kDeviceIdentity.end();
    if (!(retain_device && device)) {
      std::unique_ptr<DcmElement> gone(meta.remove(e));  // NOLINT(cppcoreguidelines-owning-memory)
    }
  }
}

}  // namespace

void ActionCounts::add(const ActionCounts& other) {
  for (size_t i = 0; i < by_action.size(); ++i) by_action.at(i) += other.by_action.at(i);
  private_removed += other.private_removed;
  private_retained += other.private_retained;
  uids_replaced += other.uids_replaced;
  dates_shifted += other.dates_shifted;
  pixels_blanked = pixels_blanked || other.pixels_blanked;
}

bool looks_like_dicom(std::string_view bytes) {
  if (bytes.size() >= 132 && bytes.substr(128, 4) == "DICM") return true;
  if (bytes.size() < 8) return false;
  auto group = static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[0]) |
                                          (static_cast<unsigned char>(bytes[1]) << 8U));
  return group == 0x0002 || group == 0x0008;
}

Deidentifier::Deidentifier(Key key, DeidConfig config, const Profile& profile)
    : key_(key), config_(config), profile_(&profile) {}

core::Result<DeidOutput> Deidentifier::run(std::string_view bytes, std::string_view name) const {
  VIGIE_TRY(config_.options.validate());
  if (bytes.size() > config_.max_bytes) {
    return core::fail(
        ErrorCode::kInvalidInput,
        fmt::format("{} bytes exceeds the limit of {}", bytes.size(), config_.max_bytes),
        std::string(name));
  }
  auto file = internal::read_dicom(bytes, name);
  if (!file) return tl::unexpected(file.error());
  DcmDataset& ds = *(*file)->getDataset();
  const E_TransferSyntax original_xfer = ds.getOriginalXfer();
  DcmMetaInfo* meta = (*file)->getMetaInfo();
  if (meta != nullptr) move_foreign_meta(*meta, ds);

  // Text becomes UTF-8 (ISO 2022 escapes, Latin-1...): masks and deny-lists work on one
  // encoding. When it cannot be read, "clean" removes text instead.
  bool charset_ok = ds.convertToUTF8().good();
  if (!charset_ok &&
      first_value(ds, DCM_SpecificCharacterSet).find("ISO 2022") != std::string::npos) {
    charset_ok = internal::convert_iso2022(ds, config_.max_depth);
  }

  Walker walker(key_, config_, *profile_, name);
  walker.set_charset_ok(charset_ok);
  std::set<std::string> identifying;
  walker.collect(ds, 0, identifying);

  std::string patient = first_value(ds, DCM_PatientID) + "|" +
                        first_value(ds, DCM_IssuerOfPatientID) + "|" +
                        first_value(ds, DCM_PatientName);
  if (patient == "||") patient = first_value(ds, DCM_StudyInstanceUID);
  walker.set_date_offset(key_.date_offset_days(patient));

  walker.set_deny_list({identifying.begin(), identifying.end()});

  // Decide on the pixels before anything changes (the modality is read from the input).
  auto verdict = internal::burned_in_verdict(ds);
  bool blank = false;
  if (!verdict.empty()) {
    bool may_blank =
        config_.burned_in == BurnedInPolicy::kBlank || config_.options.has(Option::kCleanPixelData);
    if (!may_blank) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("refused: the pixel data may show burned-in patient data ({}); "
                                    "use --burned-in blank or --option clean-pixel-data to blank "
                                    "it",
                                    verdict),
                        std::string(name));
    }
    blank = true;
  }

  VIGIE_TRY(walker.walk(ds, 0));

  E_TransferSyntax out_xfer =
      original_xfer == EXS_Unknown ? EXS_LittleEndianExplicit : original_xfer;
  if (blank) {
    auto blanked = internal::blank_pixels(ds, original_xfer, config_.max_bytes, name);
    if (!blanked) return tl::unexpected(blanked.error());
    out_xfer = *blanked;
    walker.counts().pixels_blanked = true;
  }
  record_method(ds, config_.options, blank);

  DeidOutput out;
  std::string sop = first_value(ds, DCM_SOPInstanceUID);
  if (sop.empty()) {
    // Without one, DCMTK would invent a random (0002,0003); a keyed UID of the content keeps
    // the file meta consistent and the output stable.
    auto digest = key_.mac(bytes);
    sop = key_.map_uid(std::string(reinterpret_cast<const char*>(digest.data()), digest.size()));
    ds.putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
  }
  if (meta != nullptr) clear_meta(*meta, config_.options);
  auto written = internal::write_dicom(**file, out_xfer, name);
  if (!written) return tl::unexpected(written.error());
  out.bytes = std::move(*written);
  out.file_name = sop + ".dcm";
  out.counts = walker.counts();
  out.identifying_values.assign(identifying.begin(), identifying.end());
  return out;
}

}  // namespace vigie::phi
