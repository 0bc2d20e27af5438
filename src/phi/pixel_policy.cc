#include "pixel_policy.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <vector>

namespace vigie::phi::internal {
namespace {

// Modalities whose images routinely carry burned-in text (ultrasound, angiography,
// fluoroscopy, camera, endoscopy, screen captures, documents, microscopy labels).
constexpr std::array<std::string_view, 10> kTextModalities = {"US", "XA", "RF",  "XC", "ES",
                                                              "SC", "OT", "DOC", "GM", "SM"};
// Secondary capture image storage SOP classes all start with this root.
constexpr std::string_view kSecondaryCapture = "1.2.840.10008.5.1.4.1.1.7";

std::string value_of(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  if (item.findAndGetOFString(tag, v).bad()) return {};
  std::string s(v.c_str(), v.size());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

std::string burned_in_verdict(DcmItem& dataset) {
  if (!dataset.tagExists(DCM_PixelData) && !dataset.tagExists(DCM_FloatPixelData) &&
      !dataset.tagExists(DCM_DoubleFloatPixelData)) {
    return {};
  }
  std::vector<std::string> reasons;
  std::string burned = value_of(dataset, DCM_BurnedInAnnotation);
  if (burned != "NO") {
    reasons.push_back(burned.empty() ? "(0028,0301) Burned In Annotation is absent"
                                     : fmt::format("(0028,0301) Burned In Annotation is {}",
                                                   burned == "YES" ? "YES" : "not NO"));
  }
  std::string modality = value_of(dataset, DCM_Modality);
  for (auto m : kTextModalities) {
    if (modality == m) {
      reasons.push_back(fmt::format("modality {} is known to carry burned-in text", m));
    }
  }
  if (value_of(dataset, DCM_SOPClassUID).starts_with(kSecondaryCapture)) {
    reasons.emplace_back("a secondary capture (a screen or document image)");
  }
  std::string out;
  for (const auto& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

core::Result<E_TransferSyntax> blank_pixels(DcmItem& dataset, E_TransferSyntax original,
                                            size_t max_bytes, std::string_view name) {
  dataset.putAndInsertString(DCM_BurnedInAnnotation, "NO");
  for (const DcmTagKey& tag : {DCM_FloatPixelData, DCM_DoubleFloatPixelData}) {
    DcmElement* e = nullptr;
    if (dataset.findAndGetElement(tag, e).good() && e != nullptr) {
      Uint8* bytes = nullptr;
      if (e->getUint8Array(bytes).good() && bytes != nullptr) std::memset(bytes, 0, e->getLength());
    }
  }
  DcmElement* pixels = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, pixels).bad() || pixels == nullptr) {
    return original;
  }
  if (!DcmXfer(original).isEncapsulated()) {
    Uint8* bytes = nullptr;
    Uint16* words = nullptr;
    if (pixels->getUint8Array(bytes).good() && bytes != nullptr) {
      std::memset(bytes, 0, pixels->getLength());
    } else if (pixels->getUint16Array(words).good() && words != nullptr) {
      std::memset(words, 0, pixels->getLength());
    } else {
      return core::fail(core::ErrorCode::kInvalidInput,
                        "refused: the pixel data cannot be blanked (unreadable native pixels)",
                        std::string(name));
    }
    return original;
  }
  Uint16 rows = 0;
  Uint16 columns = 0;
  Uint16 samples = 0;
  Uint16 bits = 0;
  Sint32 frames = 1;
  dataset.findAndGetUint16(DCM_Rows, rows);
  dataset.findAndGetUint16(DCM_Columns, columns);
  dataset.findAndGetUint16(DCM_SamplesPerPixel, samples);
  dataset.findAndGetUint16(DCM_BitsAllocated, bits);
  if (dataset.findAndGetSint32(DCM_NumberOfFrames, frames).bad()) frames = 1;
  if (rows == 0 || columns == 0 || samples == 0 || (bits != 8 && bits != 16) || frames < 1) {
    return core::fail(core::ErrorCode::kInvalidInput,
                      "refused: compressed pixel data without a usable geometry (rows, columns, "
                      "samples, bits allocated) cannot be blanked",
                      std::string(name));
  }
  size_t length = size_t{rows} * columns * samples * (bits / 8U) * static_cast<size_t>(frames);
  if (length > max_bytes) {
    return core::fail(core::ErrorCode::kInvalidInput,
                      fmt::format("refused: blanking needs {} bytes, over the limit", length),
                      std::string(name));
  }
  dataset.findAndDeleteElement(DCM_PixelData);
  if (bits == 8) {
    std::vector<Uint8> zeros(length, 0);
    dataset.putAndInsertUint8Array(DCM_PixelData, zeros.data(), static_cast<unsigned long>(length));
  } else {
    std::vector<Uint16> zeros(length / 2, 0);
    dataset.putAndInsertUint16Array(DCM_PixelData, zeros.data(),
                                    static_cast<unsigned long>(length / 2));
  }
  dataset.putAndInsertString(DCM_PhotometricInterpretation, samples == 1 ? "MONOCHROME2" : "RGB");
  if (samples > 1) dataset.putAndInsertUint16(DCM_PlanarConfiguration, 0);
  return EXS_LittleEndianExplicit;
}

}  // namespace vigie::phi::internal
