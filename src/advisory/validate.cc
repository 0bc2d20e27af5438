#include "vigie/advisory/validate.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "json_limits.h"
#include "mandatory.h"
#include "vigie/core/text.h"
#include "vigie/csaf_schema.h"

namespace vigie::advisory {
namespace {

using nlohmann::json;

// valijson applies "format" to values of any type and aborts on a non-empty array or object
// where it expects a string: each format check is made conditional on the value being a string
// (the "type" keyword beside it still reports the wrong type).
void guard_formats(json& schema) {
  if (schema.is_array()) {
    for (auto& item : schema) guard_formats(item);
    return;
  }
  if (!schema.is_object()) return;
  for (auto& [key, child] : schema.items()) {
    if (key != "enum" && key != "const" && key != "examples" && key != "default") {
      guard_formats(child);
    }
  }
  auto format = schema.find("format");
  if (format == schema.end() || !format->is_string()) return;
  json guarded = {{"if", {{"type", "string"}}}, {"then", {{"format", *format}}}};
  schema.erase(format);
  schema["allOf"].push_back(std::move(guarded));
}

// valijson checks "uniqueItems" by comparing every pair of items: quadratic, minutes for the
// product lists of a large document. It keeps doing so for short arrays (its messages stay);
// long ones are checked with a hash set by check_unique_items().
constexpr size_t kPairwiseUniqueLimit = 64;

void guard_unique_items(json& schema) {
  if (schema.is_array()) {
    for (auto& item : schema) guard_unique_items(item);
    return;
  }
  if (!schema.is_object()) return;
  for (auto& [key, child] : schema.items()) {
    if (key != "enum" && key != "const" && key != "examples" && key != "default") {
      guard_unique_items(child);
    }
  }
  auto unique = schema.find("uniqueItems");
  if (unique == schema.end() || *unique != true) return;
  json guarded = {{"if", {{"maxItems", kPairwiseUniqueLimit}}}, {"then", {{"uniqueItems", true}}}};
  schema.erase(unique);
  schema["allOf"].push_back(std::move(guarded));
}

// The arrays the CSAF schema marks "uniqueItems", by member name (each name is used for such
// arrays only): products_t and product_groups_t lists, identification helpers, aliases, and the
// flags, ids and involvements of a vulnerability.
bool has_unique_items(std::string_view key) {
  static constexpr std::string_view kKeys[] = {"product_ids",
                                               "group_ids",
                                               "products",
                                               "known_affected",
                                               "first_affected",
                                               "last_affected",
                                               "fixed",
                                               "first_fixed",
                                               "known_not_affected",
                                               "recommended",
                                               "under_investigation",
                                               "model_numbers",
                                               "serial_numbers",
                                               "aliases",
                                               "flags",
                                               "ids",
                                               "involvements"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

// "uniqueItems" for the long arrays the schema pass leaves out, in linear time.
void check_unique_items(const json& value, const std::string& pointer,
                        std::vector<ValidationIssue>& out) {
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      check_unique_items(value[i], pointer + "/" + std::to_string(i), out);
    }
    return;
  }
  if (!value.is_object()) return;
  for (const auto& [key, child] : value.items()) {
    std::string at = pointer + "/" + escape_pointer_token(key);
    if (child.is_array() && child.size() > kPairwiseUniqueLimit && has_unique_items(key)) {
      std::unordered_map<std::string, size_t> seen;
      for (size_t i = 0; i < child.size(); ++i) {
        std::string item = child[i].is_string() ? child[i].get<std::string>() : child[i].dump();
        auto [it, added] = seen.emplace(std::move(item), i);
        if (!added) {
          out.push_back({"schema", at,
                         fmt::format("Elements of array not unique: item {} repeats item {}.", i,
                                     it->second)});
          break;
        }
      }
    }
    check_unique_items(child, at, out);
  }
}

// The CSAF schema, parsed once; its references to the FIRST CVSS schemas resolve to the
// embedded copies, never to the network.
class CsafSchema {
 public:
  CsafSchema() {
    root_ = json::parse(csaf_schema::csaf_json_schema());
    guard_formats(root_);
    guard_unique_items(root_);
    remote_.emplace("https://www.first.org/cvss/cvss-v2.0.json",
                    json::parse(csaf_schema::cvss_v2_schema()));
    remote_.emplace("https://www.first.org/cvss/cvss-v3.0.json",
                    json::parse(csaf_schema::cvss_v30_schema()));
    remote_.emplace("https://www.first.org/cvss/cvss-v3.1.json",
                    json::parse(csaf_schema::cvss_v31_schema()));
    for (auto& [uri, schema] : remote_) guard_formats(schema);
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(root_);
    parser.populateSchema(
        adapter, schema_,
        [this](const std::string& uri) -> const json* {
          auto it = remote_.find(uri);
          return it == remote_.end() ? nullptr : &it->second;
        },
        [](const json*) {});
  }

  [[nodiscard]] const valijson::Schema& schema() const { return schema_; }

 private:
  json root_;
  std::map<std::string, json> remote_;
  valijson::Schema schema_;
};

const CsafSchema& csaf_schema() {
  static const CsafSchema kSchema;
  return kSchema;
}

// valijson names a place as "<root>", "[document]", "[0]"...: turned into a JSON pointer.
std::string to_pointer(const std::vector<std::string>& context) {
  std::string pointer;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string_view token = part;
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
      token = token.substr(1, token.size() - 2);
    }
    pointer += '/';
    pointer += escape_pointer_token(token);
  }
  return pointer;
}

// std::regex recurses once per character (about 500 bytes of stack each, more under
// sanitizers): a pattern-checked string of thousands of characters overflows the stack. The
// members the schemas check with a pattern (CPE, purl, hash value, language, version, category,
// ids, CVE, CVSS vector) or valijson with a date-time regex are short by nature: longer ones are
// reported here and shortened in the copy the schema check sees.
constexpr size_t kMaxPatternedLength = 512;

bool checked_by_regex(std::string_view key) {
  static constexpr std::string_view kKeys[] = {"cpe",
                                               "purl",
                                               "value",
                                               "lang",
                                               "source_lang",
                                               "version",
                                               "number",
                                               "category",
                                               "id",
                                               "cve",
                                               "vectorString",
                                               "date",
                                               "release_date",
                                               "discovery_date",
                                               "initial_release_date",
                                               "current_release_date"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

void shorten_long_strings(json& value, const std::string& pointer,
                          std::vector<ValidationIssue>& out) {
  if (value.is_object()) {
    for (auto& [key, child] : value.items()) {
      std::string at = pointer + "/" + escape_pointer_token(key);
      if (child.is_string() && child.get_ref<const std::string&>().size() > kMaxPatternedLength &&
          checked_by_regex(key)) {
        out.push_back({"schema", at,
                       fmt::format("string of {} characters is longer than any valid value",
                                   child.get_ref<const std::string&>().size())});
        child = "x";
      } else {
        shorten_long_strings(child, at, out);
      }
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      shorten_long_strings(value[i], pointer + "/" + std::to_string(i), out);
    }
  }
}

void check_schema(const json& document, std::vector<ValidationIssue>& out) {
  json copy = document;
  shorten_long_strings(copy, "", out);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(copy);
  check_unique_items(copy, "", out);
  if (validator.validate(csaf_schema().schema(), target, &results)) return;
  // valijson repeats each failure at every enclosing level as "Failed to validate ...": those
  // wrappers are dropped when an issue at the same place or deeper says what is wrong.
  std::vector<ValidationIssue> all;
  for (const auto& error : results)
    all.push_back({"schema", to_pointer(error.context), error.description});
  for (const auto& issue : all) {
    auto wrapper = [](const ValidationIssue& i) {
      return i.reason.starts_with("Failed to validate");
    };
    bool explained = std::any_of(all.begin(), all.end(), [&](const ValidationIssue& other) {
      return !wrapper(other) &&
             (other.pointer == issue.pointer || other.pointer.starts_with(issue.pointer + "/"));
    });
    if (!wrapper(issue) || !explained) out.push_back(issue);
  }
}

}  // namespace

ValidationReport validate_csaf(std::string_view text) {
  ValidationReport report;
  auto parsed = parse_json_document(text);
  if (!parsed) {
    report.issues.push_back({"json", "", parsed.error().message});
    return report;
  }
  check_schema(*parsed, report.issues);
  run_mandatory_tests(*parsed, report.issues);
  return report;
}

}  // namespace vigie::advisory
