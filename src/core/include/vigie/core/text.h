// Text checks shared by every parser of untrusted input.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vigie::core {

// The byte offset of the first byte that is not valid UTF-8 (overlongs, surrogates and
// code points above U+10FFFF are invalid), or nullopt when the whole text is valid.
std::optional<size_t> find_invalid_utf8(std::string_view text);

// ASCII lower-case copy; other bytes unchanged.
std::string ascii_lower(std::string_view text);

// "line:column" (1-based) of a byte offset, for parsers that report offsets (JSON).
std::string line_column(std::string_view text, size_t byte);

// Text with leading and trailing spaces/tabs removed.
std::string_view trim(std::string_view text);

// Text made safe inside HTML content and attribute values (& < > " ').
std::string html_escape(std::string_view text);

// RFC 3986 percent-encoding of every byte but the unreserved ones (ALPHA DIGIT - . _ ~), and
// its decoding ("%zz" that is not hexadecimal stays as it is; '+' is not a space).
std::string percent_encode(std::string_view text);
std::string percent_decode(std::string_view text);

// One CSV field as RFC 4180 writes it: quoted (quotes doubled) when it holds a comma, a quote
// or a line break; a leading = + - @ is prefixed with ' so that spreadsheets do not run it.
std::string csv_field(std::string_view text);

}  // namespace vigie::core
