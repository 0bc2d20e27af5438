#include "json_limits.h"

#include <fmt/format.h>

#include "vigie/core/text.h"

namespace vigie::advisory {
namespace {

constexpr int kMaxDepth = 64;               // JSON nesting; CSAF needs about 15
constexpr size_t kMaxBytes = 256ULL << 20;  // one document

struct TooDeep {};

}  // namespace

core::Result<nlohmann::json> parse_json_document(std::string_view text) {
  using core::ErrorCode;
  if (text.size() > kMaxBytes) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("document larger than {} MiB", kMaxBytes >> 20));
  }
  try {
    // Refuse deep nesting while parsing, before it costs memory.
    return nlohmann::json::parse(text,
                                 [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                                   if (depth > kMaxDepth) throw TooDeep{};
                                   return true;
                                 });
  } catch (const nlohmann::json::parse_error& e) {
    std::string why = e.what();
    if (auto p = why.find("parse error"); p != std::string::npos) why = why.substr(p);
    return core::fail(ErrorCode::kInvalidInput, "malformed JSON: " + why,
                      core::line_column(text, e.byte));
  } catch (const TooDeep&) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("JSON nested deeper than {} levels", kMaxDepth));
  } catch (const nlohmann::json::exception& e) {  // e.g. a number too large for any type
    return core::fail(ErrorCode::kInvalidInput, std::string("malformed JSON: ") + e.what());
  }
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace vigie::advisory
