// What the files of the 6.1 mandatory tests share (mandatory*.cc): safe access to members of a
// document that may be schema-invalid, JSON pointers, and each file's entry point and tables.
// Internal to the advisory module.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vigie/advisory/validate.h"

namespace vigie::advisory::mandatory_detail {

using nlohmann::json;

// Members of the given type, or null when absent or of another type (mandatory.cc).
const json* find_member(const json& value, std::string_view key);
const std::string* find_string(const json& value, std::string_view key);
const json* find_array(const json& value, std::string_view key);
std::string child_pointer(std::string_view parent, std::string_view key);
std::string child_pointer(std::string_view parent, size_t index);

// Group id -> the product ids it holds (mandatory.cc).
using ProductGroups = std::unordered_map<std::string_view, std::vector<std::string_view>>;
ProductGroups product_groups(const json& document);

// The tests of each file.
void check_cvss(const json& document, std::vector<ValidationIssue>& out);             // 6.1.8-10
void check_document(const json& document, std::vector<ValidationIssue>& out);         // /document
void check_vulnerabilities(const json& document, std::vector<ValidationIssue>& out);  // the rest

// Why `purl` is not a valid package URL, or empty when it is (mandatory_purl.cc).
std::string purl_syntax_error(std::string_view purl);
// BCP 47 against the IANA subtag registry (mandatory_language.cc).
bool is_valid_language_tag(std::string_view tag);
// A date-time as a key that sorts by instant, empty when unreadable (mandatory_document.cc).
std::string date_time_key(std::string_view text);
// The names a CWE id has carried, empty when it is not a weakness (mandatory_cwe.cc).
std::vector<std::string_view> cwe_names(unsigned id);

}  // namespace vigie::advisory::mandatory_detail
