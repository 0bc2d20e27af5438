#include "vigie/remote/frame.h"

#include <gtest/gtest.h>

#include <string>

namespace vigie::remote {
namespace {

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

TEST(Frame, OpenRoundTrips) {
  std::string out;
  encode_open(out, 7, "device-42", 5900, 262144);
  auto f = decode_frame(bytes(out), 65536);
  ASSERT_TRUE(f) << f.error().to_string();
  EXPECT_EQ(f->type, FrameType::kOpen);
  EXPECT_EQ(f->stream, 7U);
  EXPECT_EQ(f->port, 5900);
  EXPECT_EQ(f->window, 262144U);
  EXPECT_EQ(f->target, "device-42");
}

TEST(Frame, EveryTypeRoundTrips) {
  std::string out;
  encode_open_ok(out, 0xFFFFFFFF, 1024);
  auto ok = decode_frame(bytes(out), 65536);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->stream, 0xFFFFFFFFU);
  EXPECT_EQ(ok->window, 1024U);

  out.clear();
  encode_window(out, 3, 4096);
  auto w = decode_frame(bytes(out), 65536);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->type, FrameType::kWindow);
  EXPECT_EQ(w->window, 4096U);

  out.clear();
  encode_eof(out, 3);
  auto e = decode_frame(bytes(out), 65536);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, FrameType::kEof);

  out.clear();
  encode_close(out, 3, CloseCode::kNotGranted, "port 23\nnot granted");
  auto c = decode_frame(bytes(out), 65536);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->code, CloseCode::kNotGranted);
  EXPECT_EQ(c->reason, "port 23 not granted");  // the newline became a space

  out.clear();
  encode_grant(out, 0x0102030405060708ULL, "10.1.2.3", 22, 1800000000);
  auto g = decode_frame(bytes(out), 65536);
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_EQ(g->grant, 0x0102030405060708ULL);
  EXPECT_EQ(g->expires, 1800000000ULL);
  EXPECT_EQ(g->port, 22);
  EXPECT_EQ(g->target, "10.1.2.3");

  out.clear();
  encode_revoke(out, 99);
  auto r = decode_frame(bytes(out), 65536);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->grant, 99U);

  out.clear();
  std::string payload(3000, 'x');
  encode_data(out, 5, bytes(payload));
  auto d = decode_frame(bytes(out), 65536);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data.size(), 3000U);
}

TEST(Frame, DataHeaderWrittenInPlace) {
  std::string buf(kHeaderSize + 4, '\0');
  buf.replace(kHeaderSize, 4, "ping");
  write_data_header(reinterpret_cast<std::byte*>(buf.data()), 0x01020304);
  auto d = decode_frame(bytes(buf), 65536);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->stream, 0x01020304U);
  rewrite_stream(std::as_writable_bytes(std::span<char>(buf.data(), buf.size())), 9);
  EXPECT_EQ(decode_frame(bytes(buf), 65536)->stream, 9U);
}

TEST(Frame, MalformedFramesNameTheByteAndReason) {
  auto expect_bad = [](const std::string& frame, std::string_view where, std::string_view what) {
    auto f = decode_frame(bytes(frame), 1024);
    ASSERT_FALSE(f) << "accepted " << frame.size() << " bytes";
    EXPECT_EQ(f.error().code, core::ErrorCode::kInvalidInput);
    EXPECT_EQ(f.error().where, where);
    EXPECT_NE(f.error().message.find(what), std::string::npos) << f.error().message;
  };
  expect_bad(std::string("\x03\x00\x00", 3), "frame byte 0", "at least 5 bytes");
  expect_bad(std::string("\x09\x00\x00\x00\x01", 5), "frame byte 0", "unknown frame type 9");
  expect_bad(std::string("\x03\x00\x00\x00\x00x", 6), "frame byte 1", "stream 0");
  expect_bad(std::string("\x07\x00\x00\x00\x01", 5), "frame byte 1", "stream 0");
  expect_bad(std::string("\x03\x00\x00\x00\x01", 5), "frame byte 5", "1 to 1024 bytes");
  expect_bad(std::string("\x03\x00\x00\x00\x01", 5) + std::string(1025, 'a'), "frame byte 5",
             "got 1025");
  expect_bad(std::string("\x04\x00\x00\x00\x01\x00\x00\x00\x00", 9), "frame byte 5",
             "increment of 0");
  expect_bad(std::string("\x04\x00\x00\x00\x01\x00\x00\x01", 8), "frame byte 5", "exactly 4");
  expect_bad(std::string("\x05\x00\x00\x00\x01z", 6), "frame byte 5", "no payload");
  expect_bad(std::string("\x06\x00\x00\x00\x01\x0b", 6), "frame byte 5", "known close code");
  expect_bad(std::string("\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x01x", 12), "frame byte 5",
             "port 0");
  expect_bad(std::string("\x01\x00\x00\x00\x01\x17\x0c\x00\x00\x00\x01", 11), "frame byte 11",
             "target");
  expect_bad(std::string("\x01\x00\x00\x00\x01\x17\x0c\x00\x00\x00\x01\x01", 12), "frame byte 11",
             "target");
  std::string grant;
  encode_grant(grant, 1, "bad host!", 22, 0);
  expect_bad(grant, "frame byte 23", "target");
  expect_bad(std::string("\x08\x00\x00\x00\x00\x00\x00", 7), "frame byte 5", "grant id");
}

TEST(Frame, TargetsAndReasonsAreBounded) {
  std::string out;
  encode_open(out, 1, std::string(400, 'd'), 22, 1);
  auto f = decode_frame(bytes(out), 1024);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->target.size(), kMaxTargetBytes);
  out.clear();
  encode_close(out, 1, CloseCode::kInternal, std::string(1000, 'r'));
  auto c = decode_frame(bytes(out), 1024);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reason.size(), kMaxReasonBytes);
}

TEST(Frame, HostSyntax) {
  EXPECT_TRUE(valid_host("pacs.chu.example"));
  EXPECT_TRUE(valid_host("fe80::1%eth0"));
  EXPECT_TRUE(valid_host("10.0.0.1"));
  EXPECT_FALSE(valid_host(""));
  EXPECT_FALSE(valid_host("a b"));
  EXPECT_FALSE(valid_host("host/path"));
  EXPECT_FALSE(valid_host(std::string(254, 'a')));
}

}  // namespace
}  // namespace vigie::remote
