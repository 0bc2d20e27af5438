// The tunnel's wire format (docs/remote-protocol.md): one frame per WebSocket binary message,
// a 5-byte header (type, stream id big-endian) and a payload whose layout the type fixes.
// Streams carry one TCP connection each between the engineer's client and the connector; the
// broker relays them. Stream 0 is the connection itself (grants pushed to a connector).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vigie/core/result.h"

namespace vigie::remote {

using core::Result;
using core::Status;

// Negotiated as the WebSocket subprotocol: a peer that does not offer it is refused before
// any frame, so an incompatible version fails at the handshake with a clear reason.
constexpr std::string_view kSubprotocol = "vigie.tunnel.v1";

constexpr std::size_t kHeaderSize = 5;
constexpr std::size_t kMaxTargetBytes = 253;  // a DNS name's maximum; device refs are shorter
constexpr std::size_t kMaxReasonBytes = 256;
// The largest DATA payload of protocol version 1: large enough that per-frame costs vanish
// beside TLS records (16 KiB), small enough that one stream never holds the link for long.
constexpr std::size_t kMaxDataPayload = 65536;

enum class FrameType : std::uint8_t {
  kOpen = 1,    // open a stream to a target port; carries the opener's receive window
  kOpenOk = 2,  // the target accepted; carries the acceptor's receive window
  kData = 3,    // bytes of the stream, within the receiver's window
  kWindow = 4,  // the receiver consumed bytes: the sender may send that many more
  kEof = 5,     // the sender will send no more data (TCP half-close)
  kClose = 6,   // the stream is over, both ways, with a code and a reason
  kGrant = 7,   // stream 0, broker to connector: a host:port the connector may dial
  kRevoke = 8,  // stream 0, broker to connector: a grant that no longer holds
};

// Why a stream closed (also an OPEN's refusal). Values are part of the wire format.
enum class CloseCode : std::uint8_t {
  kNormal = 0,       // both ends finished
  kRefused = 1,      // the device refused the TCP connection
  kNotGranted = 2,   // no grant allows this device and port for this engineer
  kUnreachable = 3,  // no connector of the device's zone is connected, or no route
  kTimeout = 4,      // the device did not answer in time, or the stream was idle too long
  kFlowControl = 5,  // the peer sent beyond the window it was given
  kProtocol = 6,     // a malformed or unexpected frame
  kEnded = 7,        // ended by the hospital (session ended, grant revoked)
  kPeerGone = 8,     // the other side's connection was lost
  kLimit = 9,        // too many streams
  kInternal = 10,    // a bug or a resource failure
};
constexpr std::uint8_t kMaxCloseCode = 10;

std::string_view to_string(CloseCode code);

// A decoded frame. Views point into the decoded buffer.
struct Frame {
  FrameType type = FrameType::kData;
  std::uint32_t stream = 0;
  std::uint16_t port = 0;               // kOpen, kGrant
  std::uint32_t window = 0;             // kOpen, kOpenOk; increment of kWindow
  std::uint64_t grant = 0;              // kGrant, kRevoke
  std::uint64_t expires = 0;            // kGrant: Unix seconds, 0 = until revoked
  CloseCode code = CloseCode::kNormal;  // kClose
  std::string_view target;              // kOpen (device ref or host), kGrant (host)
  std::string_view reason;              // kClose
  std::span<const std::byte> data;      // kData
};

// Decodes one frame; `max_data` bounds a DATA payload. kInvalidInput names the byte offset
// and the reason: the peer that sent it is then closed with CloseCode::kProtocol.
Result<Frame> decode_frame(std::span<const std::byte> message, std::size_t max_data);

// Encoders append one whole frame to `out`.
void encode_open(std::string& out, std::uint32_t stream, std::string_view target,
                 std::uint16_t port, std::uint32_t window);
void encode_open_ok(std::string& out, std::uint32_t stream, std::uint32_t window);
void encode_window(std::string& out, std::uint32_t stream, std::uint32_t increment);
void encode_eof(std::string& out, std::uint32_t stream);
void encode_close(std::string& out, std::uint32_t stream, CloseCode code, std::string_view reason);
void encode_grant(std::string& out, std::uint64_t grant, std::string_view host, std::uint16_t port,
                  std::uint64_t expires);
void encode_revoke(std::string& out, std::uint64_t grant);
void encode_data(std::string& out, std::uint32_t stream, std::span<const std::byte> data);

// DATA without a copy: the reader leaves kHeaderSize bytes free before the bytes it read and
// writes the header there.
void write_data_header(std::byte* header, std::uint32_t stream);

// The stream id of a frame, rewritten in place (the broker maps ids between its two sides).
void rewrite_stream(std::span<std::byte> message, std::uint32_t stream);

// Whether `host` is a syntactically valid host for a target: a DNS name or an IP literal.
bool valid_host(std::string_view host);

}  // namespace vigie::remote
