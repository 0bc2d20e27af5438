// A small streaming JSON writer for the hot paths (listing a million devices): appends
// RFC 8259 text to a string without building a document first. Commas are placed for the
// caller; strings are escaped, invalid UTF-8 is replaced by U+FFFD.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigie::core {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  // "" is written as null: Vigie's JSON shapes use null for unknown values.
  JsonWriter& text_or_null(std::string_view text) { return text.empty() ? null() : value(text); }
  JsonWriter& value_or_null(const std::optional<int>& number) {
    return number ? value(static_cast<std::int64_t>(*number)) : null();
  }

 private:
  void separate();
  std::string& out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Appends `text` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view text);

}  // namespace vigie::core
