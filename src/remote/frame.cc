#include "vigie/remote/frame.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace vigie::remote {
namespace {

using core::ErrorCode;
using core::fail;

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

template <class T>
void put_be(std::string& out, T v) {
  std::array<char, sizeof(T)> b{};
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    b[sizeof(T) - 1 - i] = static_cast<char>(v & 0xFF);
    v = static_cast<T>(v >> 8);
  }
  out.append(b.data(), b.size());
}

void put_header(std::string& out, FrameType type, std::uint32_t stream) {
  put_u8(out, static_cast<std::uint8_t>(type));
  put_be(out, stream);
}

// Reads the payload left to right; every read checks the bytes are there.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}

  template <class T>
  bool read(T& v) {
    if (bytes_.size() - pos_ < sizeof(T)) return false;
    T r = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      r = static_cast<T>((r << 8) | std::to_integer<std::uint8_t>(bytes_[pos_ + i]));
    }
    pos_ += sizeof(T);
    v = r;
    return true;
  }
  std::string_view rest_text() {
    std::string_view s(reinterpret_cast<const char*>(bytes_.data()) + pos_, bytes_.size() - pos_);
    pos_ = bytes_.size();
    return s;
  }
  [[nodiscard]] std::size_t pos() const { return pos_; }
  [[nodiscard]] std::size_t left() const { return bytes_.size() - pos_; }

 private:
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

core::Error bad(std::size_t offset, std::string message) {
  return core::Error{ErrorCode::kInvalidInput, std::move(message),
                     fmt::format("frame byte {}", offset)};
}

bool printable_utf8ish(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

}  // namespace

std::string_view to_string(CloseCode code) {
  switch (code) {
    case CloseCode::kNormal:
      return "normal";
    case CloseCode::kRefused:
      return "refused";
    case CloseCode::kNotGranted:
      return "not-granted";
    case CloseCode::kUnreachable:
      return "unreachable";
    case CloseCode::kTimeout:
      return "timeout";
    case CloseCode::kFlowControl:
      return "flow-control";
    case CloseCode::kProtocol:
      return "protocol";
    case CloseCode::kEnded:
      return "ended";
    case CloseCode::kPeerGone:
      return "peer-gone";
    case CloseCode::kLimit:
      return "limit";
    case CloseCode::kInternal:
      return "internal";
  }
  return "unknown";
}

bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > kMaxTargetBytes) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '_' || c == '%';
  });
}

Result<Frame> decode_frame(std::span<const std::byte> message, std::size_t max_data) {
  if (message.size() < kHeaderSize) {
    return tl::unexpected(
        bad(0, fmt::format("a frame has at least {} bytes, got {}", kHeaderSize, message.size())));
  }
  Frame f;
  auto type = std::to_integer<std::uint8_t>(message[0]);
  if (type < 1 || type > 8) {
    return tl::unexpected(bad(0, fmt::format("unknown frame type {}", type)));
  }
  f.type = static_cast<FrameType>(type);
  Reader header(message.subspan(1, 4));
  header.read(f.stream);
  bool connection_level = f.type == FrameType::kGrant || f.type == FrameType::kRevoke;
  if (connection_level != (f.stream == 0)) {
    return tl::unexpected(bad(
        1, connection_level ? "grants travel on stream 0" : "stream 0 carries no stream frame"));
  }
  auto payload = message.subspan(kHeaderSize);
  Reader r(payload);
  auto at = [](const Reader& rd) { return kHeaderSize + rd.pos(); };
  switch (f.type) {
    case FrameType::kOpen:
    case FrameType::kGrant: {
      if (f.type == FrameType::kGrant && (!r.read(f.grant) || !r.read(f.expires))) {
        return tl::unexpected(bad(at(r), "a GRANT frame is cut short"));
      }
      std::size_t port_at = at(r);
      if (!r.read(f.port) || (f.type == FrameType::kOpen && !r.read(f.window))) {
        return tl::unexpected(bad(at(r), "an OPEN or GRANT frame is cut short"));
      }
      if (f.port == 0) return tl::unexpected(bad(port_at, "port 0 is not a target"));
      std::size_t target_at = at(r);
      f.target = r.rest_text();
      bool ok = f.type == FrameType::kGrant
                    ? valid_host(f.target)
                    : (!f.target.empty() && f.target.size() <= kMaxTargetBytes &&
                       printable_utf8ish(f.target));
      if (!ok) return tl::unexpected(bad(target_at, "the target is empty, too long or invalid"));
      break;
    }
    case FrameType::kOpenOk:
    case FrameType::kWindow:
      if (!r.read(f.window) || r.left() != 0) {
        return tl::unexpected(bad(at(r), "a window is exactly 4 bytes"));
      }
      if (f.type == FrameType::kWindow && f.window == 0) {
        return tl::unexpected(bad(kHeaderSize, "a window increment of 0"));
      }
      break;
    case FrameType::kData:
      if (payload.empty() || payload.size() > max_data) {
        return tl::unexpected(
            bad(kHeaderSize,
                fmt::format("a DATA payload has 1 to {} bytes, got {}", max_data, payload.size())));
      }
      f.data = payload;
      break;
    case FrameType::kEof:
      if (!payload.empty()) return tl::unexpected(bad(kHeaderSize, "an EOF frame has no payload"));
      break;
    case FrameType::kClose: {
      std::uint8_t code = 0;
      if (!r.read(code) || code > kMaxCloseCode) {
        return tl::unexpected(bad(kHeaderSize, "a CLOSE frame needs a known close code"));
      }
      f.code = static_cast<CloseCode>(code);
      f.reason = r.rest_text();
      if (f.reason.size() > kMaxReasonBytes || !printable_utf8ish(f.reason)) {
        return tl::unexpected(bad(kHeaderSize + 1, "the close reason is too long or not text"));
      }
      break;
    }
    case FrameType::kRevoke:
      if (!r.read(f.grant) || r.left() != 0) {
        return tl::unexpected(bad(at(r), "a REVOKE frame carries exactly a grant id"));
      }
      break;
  }
  return f;
}

void encode_open(std::string& out, std::uint32_t stream, std::string_view target,
                 std::uint16_t port, std::uint32_t window) {
  put_header(out, FrameType::kOpen, stream);
  put_be(out, port);
  put_be(out, window);
  out.append(target.substr(0, kMaxTargetBytes));
}

void encode_open_ok(std::string& out, std::uint32_t stream, std::uint32_t window) {
  put_header(out, FrameType::kOpenOk, stream);
  put_be(out, window);
}

void encode_window(std::string& out, std::uint32_t stream, std::uint32_t increment) {
  put_header(out, FrameType::kWindow, stream);
  put_be(out, increment);
}

void encode_eof(std::string& out, std::uint32_t stream) {
  put_header(out, FrameType::kEof, stream);
}

void encode_close(std::string& out, std::uint32_t stream, CloseCode code, std::string_view reason) {
  put_header(out, FrameType::kClose, stream);
  put_u8(out, static_cast<std::uint8_t>(code));
  // Control characters would make the frame undecodable: they become spaces.
  std::size_t from = out.size();
  out.append(reason.substr(0, kMaxReasonBytes));
  for (std::size_t i = from; i < out.size(); ++i) {
    auto u = static_cast<unsigned char>(out[i]);
    if (u < 0x20 || u == 0x7F) out[i] = ' ';
  }
}

void encode_grant(std::string& out, std::uint64_t grant, std::string_view host, std::uint16_t port,
                  std::uint64_t expires) {
  put_header(out, FrameType::kGrant, 0);
  put_be(out, grant);
  put_be(out, expires);
  put_be(out, port);
  out.append(host);
}

void encode_revoke(std::string& out, std::uint64_t grant) {
  put_header(out, FrameType::kRevoke, 0);
  put_be(out, grant);
}

void encode_data(std::string& out, std::uint32_t stream, std::span<const std::byte> data) {
  put_header(out, FrameType::kData, stream);
  out.append(reinterpret_cast<const char*>(data.data()), data.size());
}

void write_data_header(std::byte* header, std::uint32_t stream) {
  header[0] = static_cast<std::byte>(FrameType::kData);
  rewrite_stream(std::span<std::byte>(header, kHeaderSize), stream);
}

void rewrite_stream(std::span<std::byte> message, std::uint32_t stream) {
  for (int i = 4; i >= 1; --i) {
    message[static_cast<std::size_t>(i)] = static_cast<std::byte>(stream & 0xFF);
    stream >>= 8;
  }
}

}  // namespace vigie::remote
