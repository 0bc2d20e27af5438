// Zeek conn.log reader: TSV with its header, or JSON lines (one object per line, simdjson).
#include "vigie/netpolicy/zeek.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "vigie/core/file.h"
#include "vigie/core/time.h"

namespace vigie::netpolicy {
namespace {

using core::ErrorCode;

constexpr size_t kChunk = 1 << 20;
constexpr size_t kMaxColumns = 256;

// The conn.log columns the reader uses.
enum Column : std::uint8_t {
  kTs,
  kOrigH,
  kOrigP,
  kRespH,
  kRespP,
  kProto,
  kService,
  kConnState,
  kOrigBytes,
  kRespBytes,
  kOrigPkts,
  kRespPkts,
  kDuration,
  kVlan,
  kColumnCount
};
constexpr std::array<std::string_view, kColumnCount> kColumnNames{
    "ts",         "id.orig_h",  "id.orig_p",  "id.resp_h", "id.resp_p", "proto",    "service",
    "conn_state", "orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts", "duration", "vlan"};
constexpr std::array<Column, 5> kRequired{kOrigH, kOrigP, kRespH, kRespP, kProto};

// Zeek's conn_state: which ones mean that the responder never answered, or refused.
struct ConnState {
  std::string_view name;
  FlowState state;
};
constexpr std::array<ConnState, 13> kConnStates{{
    {"S0", FlowState::kAttempted},      // SYN seen, no reply
    {"S1", FlowState::kEstablished},    // established, not terminated
    {"SF", FlowState::kEstablished},    // normal establishment and termination
    {"REJ", FlowState::kRejected},      // SYN answered by RST
    {"S2", FlowState::kEstablished},    // established, originator closed
    {"S3", FlowState::kEstablished},    // established, responder closed
    {"RSTO", FlowState::kEstablished},  // established, originator aborted
    {"RSTR", FlowState::kEstablished},  // established, responder aborted
    {"RSTOS0", FlowState::kAttempted},  // SYN then RST from the originator, no SYN-ACK
    {"RSTRH", FlowState::kAttempted},   // SYN-ACK then RST from the responder, no SYN seen
    {"SH", FlowState::kAttempted},      // SYN then FIN from the originator, no SYN-ACK
    {"SHR", FlowState::kAttempted},     // SYN-ACK then FIN from the responder, no SYN seen
    {"OTH", FlowState::kEstablished},   // no SYN seen, mid-stream traffic
}};

std::optional<FlowState> parse_conn_state(std::string_view s) {
  for (const auto& c : kConnStates) {
    if (c.name == s) return c.state;
  }
  return std::nullopt;
}

// "1329843175.736107" (seconds with a fraction) as microseconds.
std::optional<std::int64_t> parse_seconds(std::string_view s) {
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::int64_t secs = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
  if (ec != std::errc() || end != whole.data() + whole.size() || whole.empty() || secs < 0 ||
      secs > 253402300799) {  // 9999-12-31
    return std::nullopt;
  }
  std::int64_t frac = 0;
  if (dot != std::string_view::npos) {
    std::string_view digits = s.substr(dot + 1);
    if (digits.empty()) return std::nullopt;
    int scale = 6;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      if (scale > 0) {
        frac = frac * 10 + (c - '0');
        --scale;
      }
    }
    for (; scale > 0; --scale) frac *= 10;
  }
  return secs * 1000000 + frac;
}

template <class T>
std::optional<T> parse_unsigned(std::string_view s) {
  T v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Dotted quads without a copy (the common case), anything else through parse_ip.
std::optional<IpAddress> parse_address(std::string_view s) {
  std::uint32_t value = 0;
  int parts = 0;
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end && parts < 4) {
    unsigned octet = 0;
    auto [next, ec] = std::from_chars(p, end, octet);
    if (ec != std::errc() || next == p || next - p > 3 || octet > 255) break;
    value = (value << 8) | octet;
    ++parts;
    p = next;
    if (parts < 4) {
      if (p == end || *p != '.') break;
      ++p;
    }
  }
  if (parts == 4 && p == end) return IpAddress::v4(value);
  return parse_ip(s);
}

std::optional<Protocol> parse_proto(std::string_view s) {
  if (s == "tcp") return Protocol::kTcp;
  if (s == "udp") return Protocol::kUdp;
  if (s == "icmp") return Protocol::kIcmp;
  return std::nullopt;
}

// "\x09" escapes of Zeek's header values.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned v = 0;
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' &&
        std::from_chars(s.data() + i + 2, s.data() + i + 4, v, 16).ptr == s.data() + i + 4) {
      out.push_back(static_cast<char>(v));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

class Reader {
 public:
  Reader(std::string_view name, FlowSink& sink) : name_(name), sink_(sink) {}

  // Feeds bytes; complete lines are parsed, the rest kept for the next call.
  core::Status feed(std::string_view data, bool last) {
    while (!data.empty()) {
      size_t nl = data.find('\n');
      if (nl == std::string_view::npos) {
        if (carry_.size() + data.size() > kMaxZeekLine) return too_long();
        carry_.append(data);
        break;
      }
      std::string_view line = data.substr(0, nl);
      data.remove_prefix(nl + 1);
      if (!carry_.empty()) {
        if (carry_.size() + line.size() > kMaxZeekLine) return too_long();
        carry_.append(line);
        VIGIE_TRY(read_line(carry_));
        carry_.clear();
      } else {
        if (line.size() > kMaxZeekLine) return too_long();
        VIGIE_TRY(read_line(line));
      }
    }
    if (last && !carry_.empty()) {
      VIGIE_TRY(read_line(carry_));
      carry_.clear();
    }
    if (last && mode_ == Mode::kUnknown) {
      return core::fail(ErrorCode::kInvalidInput, "empty file: no conn.log header nor record",
                        std::string(name_));
    }
    return {};
  }

  [[nodiscard]] const ReadStats& stats() const { return stats_; }
  void add_bytes(size_t n) { stats_.bytes += n; }

 private:
  enum class Mode { kUnknown, kTsv, kJson };

  // The line being read has not been counted yet.
  core::Status too_long() const {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("line longer than {} bytes", kMaxZeekLine),
                      fmt::format("{}:{}", name_, line_no_ + 1));
  }

  tl::unexpected<core::Error> fail_at(std::string reason) const {
    return core::fail(ErrorCode::kInvalidInput, std::move(reason),
                      fmt::format("{}:{}", name_, line_no_));
  }
  tl::unexpected<core::Error> fail_column(Column c, std::string_view value,
                                          std::string_view what) const {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("'{}' is not {}", value.substr(0, 80), what),
                      fmt::format("{}:{} column '{}'", name_, line_no_, kColumnNames[c]));
  }

  core::Status read_line(std::string_view line) {
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return {};
    if (mode_ == Mode::kUnknown) {
      if (line.front() == '{') {
        mode_ = Mode::kJson;
      } else if (line.front() == '#') {
        mode_ = Mode::kTsv;
      } else {
        return fail_at("not a Zeek conn.log: no '#separator'/'#fields' header and not JSON");
      }
    }
    if (mode_ == Mode::kJson) return json_line(line);
    if (line.front() == '#') return header(line);
    return tsv_line(line);
  }

  core::Status header(std::string_view line) {
    // "#separator \x09" is always separated by a space, the other headers by the separator.
    size_t space = line.find_first_of(std::string{' ', separator_});
    std::string_view key = line.substr(0, space);
    if (key == "#separator") {
      std::string sep = unescape(line.substr(std::min(line.size(), space + 1)));
      if (sep.size() != 1) return fail_at("#separator must be one character");
      separator_ = sep.front();
      return {};
    }
    if (space == std::string_view::npos) return {};
    if (line[space] != separator_) return fail_at("header not separated by #separator");
    std::string_view value = line.substr(space + 1);
    if (key == "#set_separator") return {};
    if (key == "#empty_field") {
      empty_ = std::string(value);
    } else if (key == "#unset_field") {
      unset_ = std::string(value);
    } else if (key == "#path") {
      if (value != "conn") return fail_at(fmt::format("a '{}' log, not a conn.log", value));
    } else if (key == "#fields") {
      return fields(value);
    } else if (key == "#types") {
      return types(value);
    }
    return {};
  }

  std::vector<std::string_view> split(std::string_view value) const {
    std::vector<std::string_view> out;
    while (true) {
      size_t sep = value.find(separator_);
      out.push_back(value.substr(0, sep));
      if (sep == std::string_view::npos) break;
      value.remove_prefix(sep + 1);
    }
    return out;
  }

  core::Status fields(std::string_view value) {
    auto names = split(value);
    if (names.size() > kMaxColumns) return fail_at(fmt::format("more than {} fields", kMaxColumns));
    columns_.fill(-1);
    for (size_t i = 0; i < names.size(); ++i) {
      for (size_t c = 0; c < kColumnCount; ++c) {
        if (names[i] == kColumnNames[c]) columns_[c] = static_cast<int>(i);
      }
    }
    for (Column c : kRequired) {
      if (columns_[c] < 0)
        return fail_at(fmt::format("#fields has no '{}' column", kColumnNames[c]));
    }
    field_count_ = names.size();
    cells_.resize(field_count_);
    if (type_count_ != 0 && type_count_ != field_count_) return types_mismatch();
    return {};
  }

  core::Status types(std::string_view value) {
    type_count_ = split(value).size();
    if (field_count_ != 0 && type_count_ != field_count_) return types_mismatch();
    return {};
  }

  core::Status types_mismatch() const {
    return fail_at(fmt::format("#types names {} columns, #fields {}", type_count_, field_count_));
  }

  [[nodiscard]] bool unset(std::string_view v) const { return v == unset_ || v == empty_; }

  core::Status tsv_line(std::string_view line) {
    if (field_count_ == 0) return fail_at("record before the #fields header");
    size_t found = static_cast<size_t>(std::count(line.begin(), line.end(), separator_)) + 1;
    if (found != field_count_) {
      return fail_at(fmt::format("{} columns, #fields names {}", found, field_count_));
    }
    for (size_t n = 0; n < field_count_; ++n) {
      size_t sep = line.find(separator_);
      cells_[n] = line.substr(0, sep);
      if (sep != std::string_view::npos) line.remove_prefix(sep + 1);
    }
    auto cell = [&](Column c) -> std::string_view {
      return columns_[c] < 0 ? std::string_view(unset_) : cells_[static_cast<size_t>(columns_[c])];
    };
    return record([&](Column c) -> std::optional<std::string_view> {
      std::string_view v = cell(c);
      if (unset(v)) return std::nullopt;
      return v;
    });
  }

  // Builds the flow from the columns (`get` returns nullopt for an unset value).
  template <class Get>
  core::Status record(Get&& get) {
    Flow f;
    auto need = [&](Column c) -> core::Result<std::string_view> {
      auto v = get(c);
      if (!v) return fail_column(c, "-", "set (the column is required)");
      return *v;
    };
    auto orig_h = need(kOrigH);
    if (!orig_h) return tl::unexpected(orig_h.error());
    auto a = parse_address(*orig_h);
    if (!a) return fail_column(kOrigH, *orig_h, "an IP address");
    f.src = *a;
    auto resp_h = need(kRespH);
    if (!resp_h) return tl::unexpected(resp_h.error());
    auto b = parse_address(*resp_h);
    if (!b) return fail_column(kRespH, *resp_h, "an IP address");
    f.dst = *b;
    for (Column c : {kOrigP, kRespP}) {
      auto v = need(c);
      if (!v) return tl::unexpected(v.error());
      auto port = parse_unsigned<std::uint16_t>(*v);
      if (!port) return fail_column(c, *v, "a port number");
      (c == kOrigP ? f.src_port : f.dst_port) = *port;
    }
    auto proto = need(kProto);
    if (!proto) return tl::unexpected(proto.error());
    auto p = parse_proto(*proto);
    if (!p) return fail_column(kProto, *proto, "tcp, udp or icmp");
    f.protocol = *p;
    if (auto v = get(kTs)) {
      auto us = parse_seconds(*v);
      if (!us && v->find('T') != std::string_view::npos) {  // JSON logs with ISO 8601 times
        if (auto t = core::parse_utc(*v)) {
          us = std::chrono::duration_cast<std::chrono::microseconds>(t->time_since_epoch()).count();
        }
      }
      if (!us) return fail_column(kTs, *v, "a time in seconds");
      f.first_us = f.last_us = *us;
      if (auto d = get(kDuration)) {
        auto dur = parse_seconds(*d);
        if (!dur) return fail_column(kDuration, *d, "a duration in seconds");
        f.last_us = *us + *dur;
      }
    }
    if (auto v = get(kConnState)) {
      auto s = parse_conn_state(*v);
      if (!s) return fail_column(kConnState, *v, "a Zeek conn_state (S0, SF, REJ...)");
      f.state = *s;
    }
    if (auto v = get(kService)) f.app = parse_zeek_service(*v);
    for (Column c : {kOrigBytes, kRespBytes, kOrigPkts, kRespPkts}) {
      auto v = get(c);
      if (!v) continue;
      auto n = parse_unsigned<std::uint64_t>(*v);
      if (!n) return fail_column(c, *v, "a count");
      (c == kOrigBytes || c == kRespBytes ? f.bytes : f.packets) += *n;
    }
    if (auto v = get(kVlan)) {
      auto n = parse_unsigned<std::uint16_t>(*v);
      if (!n || *n > 4095) return fail_column(kVlan, *v, "a VLAN id");
      f.vlan = *n;
    }
    ++stats_.records;
    ++stats_.flows;
    sink_.flow(f);
    return {};
  }

  core::Status json_line(std::string_view line) {
    simdjson::dom::element doc;
    if (auto err = json_.parse(line.data(), line.size()).get(doc); err) {
      return fail_at(fmt::format("malformed JSON: {}", simdjson::error_message(err)));
    }
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) return fail_at("a JSON line must be an object");
    // Numbers are given back as text so that one set of checks serves both forms.
    std::array<std::string, kColumnCount> numbers;
    std::array<std::optional<std::string_view>, kColumnCount> values{};
    for (auto field : obj) {
      for (size_t c = 0; c < kColumnCount; ++c) {
        if (field.key != kColumnNames[c]) continue;
        auto v = field.value;
        std::string_view text;
        if (v.is_string()) {
          text = v.get_string().value_unsafe();
        } else if (v.is_uint64()) {
          numbers[c] = std::to_string(v.get_uint64().value_unsafe());
          text = numbers[c];
        } else if (v.is_double() || v.is_int64()) {
          numbers[c] = fmt::format("{:.6f}", v.get_double().value_unsafe());
          text = numbers[c];
        } else if (v.is_null()) {
          break;
        } else {
          return fail_column(static_cast<Column>(c), simdjson::to_string(v),
                             "a string or a number");
        }
        values[c] = text;
      }
    }
    return record([&](Column c) { return values[c]; });
  }

  std::string_view name_;
  FlowSink& sink_;
  Mode mode_ = Mode::kUnknown;
  size_t line_no_ = 0;
  std::string carry_;
  char separator_ = '\t';
  std::string empty_ = "(empty)";
  std::string unset_ = "-";
  std::array<int, kColumnCount> columns_{};
  size_t field_count_ = 0;
  size_t type_count_ = 0;
  std::vector<std::string_view> cells_;
  simdjson::dom::parser json_;
  ReadStats stats_;
};

}  // namespace

core::Result<ReadStats> read_zeek_conn(std::string_view data, std::string_view name,
                                       FlowSink& sink) {
  Reader reader(name, sink);
  reader.add_bytes(data.size());
  VIGIE_TRY(reader.feed(data, true));
  return reader.stats();
}

core::Result<ReadStats> read_zeek_conn(const std::filesystem::path& path, FlowSink& sink) {
  core::FilePtr file = core::open_file(path, "rb");
  if (!file) {
    return core::fail(ErrorCode::kIo, fmt::format("cannot open: {}", std::strerror(errno)),
                      path.string());
  }
  std::string name = path.string();
  Reader reader(name, sink);
  std::vector<char> buf(kChunk);
  while (true) {
    size_t n = std::fread(buf.data(), 1, buf.size(), file.get());
    if (n < buf.size() && std::ferror(file.get())) {
      return core::fail(ErrorCode::kIo, fmt::format("read error: {}", std::strerror(errno)), name);
    }
    reader.add_bytes(n);
    bool last = n < buf.size();
    VIGIE_TRY(reader.feed(std::string_view(buf.data(), n), last));
    if (last) break;
  }
  return reader.stats();
}

}  // namespace vigie::netpolicy
