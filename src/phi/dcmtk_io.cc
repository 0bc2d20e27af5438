#include "dcmtk_io.h"

#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/oflog/oflog.h>
#include <fmt/format.h>

#include <mutex>

namespace vigie::phi::internal {

void quiet_dcmtk() {
  static std::once_flag once;
  std::call_once(once, [] { OFLog::configure(OFLogger::OFF_LOG_LEVEL); });
}

core::Result<std::unique_ptr<DcmFileFormat>> read_dicom(std::string_view bytes,
                                                        std::string_view name) {
  quiet_dcmtk();
  if (bytes.empty()) {
    return core::fail(core::ErrorCode::kInvalidInput, "empty file: not DICOM", std::string(name));
  }
  auto file = std::make_unique<DcmFileFormat>();
  DcmInputBufferStream in;
  in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  in.setEos();
  file->transferInit();
  OFCondition status = file->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  file->transferEnd();
  if (status.bad()) {
    return core::fail(
        core::ErrorCode::kInvalidInput,
        fmt::format("not a readable DICOM file: {} (parsing stopped at byte {} of {})",
                    status.text(), static_cast<long long>(in.tell()), bytes.size()),
        std::string(name));
  }
  DcmDataset* dataset = file->getDataset();
  if (dataset == nullptr || dataset->card() == 0) {
    return core::fail(core::ErrorCode::kInvalidInput, "not DICOM: no data element was read",
                      std::string(name));
  }
  return file;
}

core::Result<std::string> write_dicom(DcmFileFormat& file, E_TransferSyntax xfer,
                                      std::string_view name) {
  // One uninitialised 1 MiB buffer per thread: a fresh zeroed one per file cost more than the
  // de-identification of small files.
  constexpr size_t kChunk = size_t{1} << 20;
  thread_local const std::unique_ptr<char[]> kBuffer =
      std::make_unique_for_overwrite<char[]>(kChunk);
  std::string out;
  out.reserve(file.calcElementLength(xfer, EET_ExplicitLength) + 1024);
  DcmOutputBufferStream stream(kBuffer.get(), static_cast<offile_off_t>(kChunk));
  file.transferInit();
  OFCondition status = EC_StreamNotifyClient;
  while (status == EC_StreamNotifyClient) {
    status = file.write(stream, xfer, EET_ExplicitLength, nullptr, EGL_recalcGL, EPD_noChange, 0, 0,
                        0, EWM_updateMeta);
    void* buffer = nullptr;
    offile_off_t length = 0;
    stream.flushBuffer(buffer, length);
    if (length > 0) out.append(static_cast<const char*>(buffer), static_cast<size_t>(length));
  }
  file.transferEnd();
  if (status.bad()) {
    return core::fail(core::ErrorCode::kInvalidInput,
                      fmt::format("cannot write the de-identified file: {}", status.text()),
                      std::string(name));
  }
  return out;
}

std::string string_of(DcmElement& element) {
  OFString value;
  if (element.getOFStringArray(value).bad()) return {};
  return {value.c_str(), value.size()};
}

std::string tag_text(const DcmTagKey& tag) {
  return fmt::format("({:04X},{:04X})", tag.getGroup(), tag.getElement());
}

}  // namespace vigie::phi::internal
