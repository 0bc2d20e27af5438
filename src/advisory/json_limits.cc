#include "json_limits.h"

#include <fmt/format.h>

#include "vigie/core/text.h"

namespace vigie::advisory {
namespace {

constexpr int kMaxDepth = 64;               // JSON nesting; CSAF needs about 15
constexpr size_t kMaxBytes = 256ULL << 20;  // one document

// The byte offset where nesting first goes deeper than kMaxDepth, or npos. A linear scan
// before parsing: nlohmann's parser with a depth callback is three times slower than without.
size_t too_deep_at(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

core::Status check_json_limits(std::string_view text) {
  using core::ErrorCode;
  if (text.size() > kMaxBytes) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("document larger than {} MiB", kMaxBytes >> 20));
  }
  if (size_t at = too_deep_at(text); at != std::string_view::npos) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("JSON nested deeper than {} levels", kMaxDepth),
                      core::line_column(text, at));
  }
  return {};
}

core::Result<nlohmann::json> parse_json_document(std::string_view text) {
  using core::ErrorCode;
  VIGIE_TRY(check_json_limits(text));
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string why = e.what();
    if (auto p = why.find("parse error"); p != std::string::npos) why = why.substr(p);
    return core::fail(ErrorCode::kInvalidInput, "malformed JSON: " + why,
                      core::line_column(text, e.byte));
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
