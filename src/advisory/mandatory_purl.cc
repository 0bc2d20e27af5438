// 6.1.13: the syntax of package URLs, after the "How to parse a purl string" rules of the
// package-url specification: scheme "pkg", a type of letters, digits, '.', '+', '-' not starting
// with a digit, a non-empty name, well-formed percent-encoding everywhere, and qualifiers given
// as key=value with distinct keys of letters, digits, '.', '-', '_' not starting with a digit.
// Type-specific rules (which types need a namespace or a version...) are not checked: the
// specification leaves most of them to each type's own documentation.
#include <fmt/format.h>

#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "mandatory_support.h"

namespace vigie::advisory::mandatory_detail {
namespace {

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

// The decoded text, or nothing when a '%' is not followed by two hexadecimal digits.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded += text[i];
      continue;
    }
    if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) {
      return std::nullopt;
    }
    decoded += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
    i += 2;
  }
  return decoded;
}

std::string check_qualifiers(std::string_view qualifiers) {
  std::unordered_set<std::string> keys;
  size_t start = 0;
  while (start <= qualifiers.size()) {
    size_t end = qualifiers.find('&', start);
    if (end == std::string_view::npos) end = qualifiers.size();
    std::string_view pair = qualifiers.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos) {
      return fmt::format("qualifier \"{}\" is not a key=value pair", pair);
    }
    std::string key(pair.substr(0, equals));
    if (key.empty()) return "a qualifier has an empty key";
    if (is_digit(key.front())) return fmt::format("qualifier key \"{}\" starts with a digit", key);
    for (char& c : key) {
      if (!is_alnum(c) && c != '.' && c != '-' && c != '_') {
        return fmt::format(
            "qualifier key \"{}\" has a character other than letters, digits, "
            "'.', '-' and '_'",
            pair.substr(0, equals));
      }
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (!keys.insert(key).second) return fmt::format("qualifier key \"{}\" is repeated", key);
    if (!percent_decode(pair.substr(equals + 1))) {
      return fmt::format("qualifier \"{}\" has a malformed percent-encoding", key);
    }
  }
  return "";
}

}  // namespace

std::string purl_syntax_error(std::string_view purl) {
  if (!purl.starts_with("pkg:")) return "it does not start with the scheme \"pkg:\"";
  std::string_view rest = purl.substr(4);

  if (const size_t hash = rest.find('#'); hash != std::string_view::npos) {
    if (!percent_decode(rest.substr(hash + 1)))
      return "the subpath has a malformed percent-encoding";
    rest = rest.substr(0, hash);
  }
  if (const size_t question = rest.find('?'); question != std::string_view::npos) {
    if (std::string why = check_qualifiers(rest.substr(question + 1)); !why.empty()) return why;
    rest = rest.substr(0, question);
  }
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);

  const size_t type_end = rest.find('/');
  const std::string_view type = rest.substr(0, type_end);
  if (type.empty()) return "it has no type";
  if (is_digit(type.front())) return fmt::format("type \"{}\" starts with a digit", type);
  for (char c : type) {
    if (!is_alnum(c) && c != '.' && c != '+' && c != '-') {
      return fmt::format("type \"{}\" has a character other than letters, digits, '.', '+' and '-'",
                         type);
    }
  }
  if (type_end == std::string_view::npos) return "it has no name";
  rest = rest.substr(type_end + 1);

  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view version = rest.substr(at + 1);
    if (version.empty()) return "the version after '@' is empty";
    if (!percent_decode(version)) return "the version has a malformed percent-encoding";
    rest = rest.substr(0, at);
  }

  const size_t name_start = rest.rfind('/');
  const std::string_view name =
      name_start == std::string_view::npos ? rest : rest.substr(name_start + 1);
  const auto decoded_name = percent_decode(name);
  if (!decoded_name) return "the name has a malformed percent-encoding";
  if (decoded_name->empty()) return "it has no name";

  if (name_start != std::string_view::npos) {
    std::string_view space = rest.substr(0, name_start);
    while (!space.empty()) {
      const size_t end = space.find('/');
      const std::string_view segment = space.substr(0, end);
      const auto decoded = percent_decode(segment);
      if (!decoded) return "the namespace has a malformed percent-encoding";
      if (decoded->find('/') != std::string::npos) {
        return fmt::format("namespace segment \"{}\" encodes a '/'", segment);
      }
      if (end == std::string_view::npos) break;
      space = space.substr(end + 1);
    }
  }
  return "";
}

}  // namespace vigie::advisory::mandatory_detail
