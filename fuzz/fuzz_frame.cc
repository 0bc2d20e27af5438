// The tunnel's frame decoder (remote): every byte string is decoded without crash or leak, and
// a frame it accepts encodes back to the same bytes (nothing is read that is not checked).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "vigie/remote/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigie::remote;
  auto frame = decode_frame(std::as_bytes(std::span(data, size)), 4096);
  if (!frame) return 0;
  std::string out;
  switch (frame->type) {
    case FrameType::kOpen:
      encode_open(out, frame->stream, frame->target, frame->port, frame->window);
      break;
    case FrameType::kOpenOk:
      encode_open_ok(out, frame->stream, frame->window);
      break;
    case FrameType::kData:
      encode_data(out, frame->stream, frame->data);
      break;
    case FrameType::kWindow:
      encode_window(out, frame->stream, frame->window);
      break;
    case FrameType::kEof:
      encode_eof(out, frame->stream);
      break;
    case FrameType::kClose:
      encode_close(out, frame->stream, frame->code, frame->reason);
      break;
    case FrameType::kGrant:
      encode_grant(out, frame->grant, frame->target, frame->port, frame->expires);
      break;
    case FrameType::kRevoke:
      encode_revoke(out, frame->grant);
      break;
  }
  if (out.size() != size || std::memcmp(out.data(), data, size) != 0) std::abort();
  return 0;
}
