// What the phi tests share: the DICOM fixtures, DCMTK parsing in the test itself (so that
// the output is read back independently of the module's own reader), an element walk.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dctk.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "test_support.h"
#include "vigie/core/file.h"

namespace vigie::phi::testing {

inline std::vector<std::filesystem::path> dicom_fixtures() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(vigie::testing::fixture("dicom"))) {
    if (e.path().extension() == ".dcm") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string read_bytes(const std::filesystem::path& path) {
  auto bytes = core::read_file(path);
  return bytes ? *bytes : std::string();
}

inline std::unique_ptr<DcmFileFormat> parse(const std::string& bytes) {
  auto file = std::make_unique<DcmFileFormat>();
  DcmInputBufferStream in;
  in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  in.setEos();
  file->transferInit();
  OFCondition status = file->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  file->transferEnd();
  if (status.bad()) return nullptr;
  return file;
}

// Calls fn on every element of an item and of the items of its sequences, at any depth.
inline void walk(DcmItem& item, const std::function<void(DcmElement&, int)>& fn, int depth = 0) {
  for (unsigned long i = 0; i < item.card(); ++i) {
    DcmElement* e = item.getElement(i);
    fn(*e, depth);
    if (e->ident() == EVR_SQ) {
      auto* sq = static_cast<DcmSequenceOfItems*>(e);
      for (unsigned long j = 0; j < sq->card(); ++j) walk(*sq->getItem(j), fn, depth + 1);
    }
  }
}

inline std::string value_of(DcmElement& e) {
  OFString v;
  if (e.getOFStringArray(v).bad()) return {};
  return v.c_str();
}

inline std::string value_of(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  if (item.findAndGetOFStringArray(tag, v).bad()) return {};
  return v.c_str();
}

}  // namespace vigie::phi::testing
