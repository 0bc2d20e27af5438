// The mandatory tests of CSAF 2.0 on /vulnerabilities and the profile tests: CWE (6.1.11),
// multiple use of a CVE (6.1.23), involvements (6.1.24), the profile tests (6.1.27.1 to
// 6.1.27.11), remediations and flags without products (6.1.29, 6.1.32) and flags with several
// VEX justifications for one product (6.1.33).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "mandatory_support.h"
#include "vigie/advisory/validate.h"

namespace vigie::advisory::mandatory_detail {

using nlohmann::json;

namespace {

// The VEX justification codes of section 3.2.3.5, the labels 6.1.33 is about.
constexpr std::array<std::string_view, 5> kVexJustifications = {
    "component_not_present", "inline_mitigations_already_exist",
    "vulnerable_code_cannot_be_controlled_by_adversary", "vulnerable_code_not_in_execute_path",
    "vulnerable_code_not_present"};

// The products an item (flag, threat, remediation) applies to: its product_ids and the members
// of its group_ids.
std::vector<std::string_view> products_of(const json& item, const ProductGroups& groups) {
  std::vector<std::string_view> products;
  if (const json* ids = find_array(item, "product_ids")) {
    for (const json& id : *ids) {
      if (id.is_string()) products.push_back(id.get_ref<const std::string&>());
    }
  }
  if (const json* ids = find_array(item, "group_ids")) {
    for (const json& id : *ids) {
      if (!id.is_string()) continue;
      auto group = groups.find(id.get_ref<const std::string&>());
      if (group != groups.end()) {
        products.insert(products.end(), group->second.begin(), group->second.end());
      }
    }
  }
  return products;
}

// 6.1.11. CSAF 2.0 does not say which CWE version a document follows: a name is accepted when
// it is the name the id has had in any version of the catalogue.
void check_cwe(const json& vulnerability, const std::string& pointer,
               std::vector<ValidationIssue>& out) {
  const json* cwe = find_member(vulnerability, "cwe");
  const std::string* id = cwe != nullptr ? find_string(*cwe, "id") : nullptr;
  if (id == nullptr) return;
  const std::string cwe_pointer = pointer + "/cwe";
  std::string_view digits = *id;
  unsigned number = 0;
  const bool well_formed =
      digits.starts_with("CWE-") && digits.size() > 4 && digits.size() <= 10 && digits[4] != '0' &&
      std::all_of(digits.begin() + 4, digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (well_formed) {
    for (char c : digits.substr(4)) number = number * 10 + static_cast<unsigned>(c - '0');
  }
  const std::vector<std::string_view> names =
      well_formed ? cwe_names(number) : std::vector<std::string_view>{};
  if (names.empty()) {
    out.push_back({"6.1.11", cwe_pointer + "/id",
                   fmt::format("{} is not a weakness of the CWE catalogue", *id)});
    return;
  }
  const std::string* name = find_string(*cwe, "name");
  if (name == nullptr || std::find(names.begin(), names.end(), *name) != names.end()) return;
  out.push_back(
      {"6.1.11", cwe_pointer + "/name",
       fmt::format("\"{}\" is not the name of {}, which is \"{}\"", *name, *id, names.front())});
}

// 6.1.24: the same party at the same instant, whatever its status.
void check_involvements(const json& vulnerability, const std::string& pointer,
                        std::vector<ValidationIssue>& out) {
  const json* involvements = find_array(vulnerability, "involvements");
  if (involvements == nullptr) return;
  std::unordered_map<std::string, size_t> first_index;  // "party\ndate" -> index
  for (size_t i = 0; i < involvements->size(); ++i) {
    const std::string* party = find_string((*involvements)[i], "party");
    const std::string* date = find_string((*involvements)[i], "date");
    if (party == nullptr || date == nullptr) continue;
    auto [it, inserted] = first_index.emplace(*party + '\n' + date_time_key(*date), i);
    if (inserted) continue;
    out.push_back({"6.1.24", child_pointer(pointer + "/involvements", i),
                   fmt::format("party {} already has an involvement at {} (involvements/{})",
                               *party, *date, it->second)});
  }
}

// 6.1.29 and 6.1.32: remediations and flags must say which products they apply to.
void check_product_reference(const json& vulnerability, const std::string& pointer,
                             std::string_view list_key, std::string_view test,
                             std::string_view what, std::vector<ValidationIssue>& out) {
  const json* items = find_array(vulnerability, list_key);
  if (items == nullptr) return;
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    if (!item.is_object() || item.contains("product_ids") || item.contains("group_ids")) continue;
    out.push_back({std::string(test), child_pointer(child_pointer(pointer, list_key), i),
                   fmt::format("the {} has neither product_ids nor group_ids", what)});
  }
}

// 6.1.33: a product may be in one flag with a VEX justification only, directly or through a
// product group.
void check_vex_flags(const json& vulnerability, const std::string& pointer,
                     const ProductGroups& groups, std::vector<ValidationIssue>& out) {
  const json* flags = find_array(vulnerability, "flags");
  if (flags == nullptr) return;
  std::unordered_map<std::string_view, size_t> flag_of;  // product -> first flag
  for (size_t f = 0; f < flags->size(); ++f) {
    const std::string* label = find_string((*flags)[f], "label");
    if (label == nullptr || std::find(kVexJustifications.begin(), kVexJustifications.end(),
                                      *label) == kVexJustifications.end()) {
      continue;
    }
    std::unordered_set<std::string_view> reported;
    for (std::string_view product : products_of((*flags)[f], groups)) {
      auto [it, inserted] = flag_of.emplace(product, f);
      if (inserted || it->second == f || !reported.insert(product).second) continue;
      out.push_back({"6.1.33", child_pointer(pointer + "/flags", f),
                     fmt::format("product {} already has a VEX justification in flags/{}", product,
                                 it->second)});
    }
  }
}

// 6.1.27.9 and 6.1.27.10: every product of `status_key` needs a statement from `items_key`
// (only items of category `category` when it is not empty).
void check_statements(const json& vulnerability, const std::string& pointer,
                      const ProductGroups& groups, std::string_view status_key,
                      const std::vector<std::pair<std::string_view, std::string_view>>& sources,
                      std::string_view test, std::string_view statement,
                      std::vector<ValidationIssue>& out) {
  const json* status = find_member(vulnerability, "product_status");
  const json* products = status != nullptr ? find_array(*status, status_key) : nullptr;
  if (products == nullptr) return;
  std::unordered_set<std::string_view> covered;
  for (const auto& [items_key, category] : sources) {
    const json* items = find_array(vulnerability, items_key);
    if (items == nullptr) continue;
    for (const json& item : *items) {
      const std::string* item_category = find_string(item, "category");
      if (!category.empty() && (item_category == nullptr || *item_category != category)) continue;
      for (std::string_view product : products_of(item, groups)) covered.insert(product);
    }
  }
  for (size_t i = 0; i < products->size(); ++i) {
    const json& product = (*products)[i];
    if (!product.is_string() || covered.contains(product.get_ref<const std::string&>())) continue;
    out.push_back({std::string(test),
                   child_pointer(pointer + "/product_status/" + std::string(status_key), i),
                   fmt::format("product {} is {} but has no {}",
                               product.get_ref<const std::string&>(), status_key, statement)});
  }
}

// 6.1.27.1 and 6.1.27.2.
void check_document_profile(const json& document, std::vector<ValidationIssue>& out) {
  const json* doc = find_member(document, "document");
  auto has_item = [&](std::string_view list_key, auto&& accepted) {
    const json* items = doc != nullptr ? find_array(*doc, list_key) : nullptr;
    if (items == nullptr) return false;
    return std::any_of(items->begin(), items->end(), [&](const json& item) {
      const std::string* category = find_string(item, "category");
      return category != nullptr && accepted(*category);
    });
  };
  if (!has_item("notes", [](const std::string& category) {
        return category == "description" || category == "details" || category == "general" ||
               category == "summary";
      })) {
    out.push_back({"6.1.27.1", "/document/notes",
                   "the document has no note of category description, details, general or "
                   "summary"});
  }
  if (!has_item("references", [](const std::string& category) { return category == "external"; })) {
    out.push_back(
        {"6.1.27.2", "/document/references", "the document has no reference of category external"});
  }
}

}  // namespace

void check_vulnerabilities(const json& document, std::vector<ValidationIssue>& out) {
  const json* doc = find_member(document, "document");
  const std::string* category_text = doc != nullptr ? find_string(*doc, "category") : nullptr;
  const std::string_view category =
      category_text != nullptr ? std::string_view(*category_text) : std::string_view();
  const bool informational = category == "csaf_informational_advisory";
  const bool incident_response = category == "csaf_security_incident_response";
  const bool security_advisory = category == "csaf_security_advisory";
  const bool vex = category == "csaf_vex";

  if (informational || incident_response) check_document_profile(document, out);
  const json* vulnerabilities_member = find_member(document, "vulnerabilities");
  if (informational && vulnerabilities_member != nullptr) {
    out.push_back({"6.1.27.3", "/vulnerabilities",
                   "an informational advisory must not have vulnerabilities"});
  }
  if ((security_advisory || vex) && find_member(document, "product_tree") == nullptr) {
    out.push_back({"6.1.27.4", "/product_tree",
                   fmt::format("a document of category {} must have a product tree", category)});
  }
  if ((security_advisory || vex) && vulnerabilities_member == nullptr) {
    out.push_back({"6.1.27.11", "/vulnerabilities",
                   fmt::format("a document of category {} must have vulnerabilities", category)});
  }

  const json* vulnerabilities = find_array(document, "vulnerabilities");
  if (vulnerabilities == nullptr) return;
  const ProductGroups groups = product_groups(document);
  std::unordered_map<std::string_view, size_t> first_cve;
  for (size_t v = 0; v < vulnerabilities->size(); ++v) {
    const json& vulnerability = (*vulnerabilities)[v];
    const std::string pointer = child_pointer("/vulnerabilities", v);
    check_cwe(vulnerability, pointer, out);

    // 6.1.23.
    if (const std::string* cve = find_string(vulnerability, "cve")) {
      auto [it, inserted] = first_cve.emplace(*cve, v);
      if (!inserted) {
        out.push_back({"6.1.23", pointer + "/cve",
                       fmt::format("{} is already used by vulnerabilities/{}", *cve, it->second)});
      }
    }
    check_involvements(vulnerability, pointer, out);

    if (vulnerability.is_object()) {
      if ((security_advisory || vex) && !vulnerability.contains("notes")) {
        out.push_back({"6.1.27.5", pointer + "/notes", "the vulnerability has no notes"});
      }
      if (security_advisory && !vulnerability.contains("product_status")) {
        out.push_back(
            {"6.1.27.6", pointer + "/product_status", "the vulnerability has no product status"});
      }
    }
    if (vex && vulnerability.is_object()) {
      const json* status = find_member(vulnerability, "product_status");
      const bool has_vex_status =
          status != nullptr && status->is_object() &&
          (status->contains("fixed") || status->contains("known_affected") ||
           status->contains("known_not_affected") || status->contains("under_investigation"));
      if (!has_vex_status) {
        out.push_back({"6.1.27.7", pointer + "/product_status",
                       "the product status has none of fixed, known_affected, known_not_affected "
                       "and under_investigation"});
      }
      if (!vulnerability.contains("cve") && !vulnerability.contains("ids")) {
        out.push_back({"6.1.27.8", pointer, "the vulnerability has neither a cve nor ids"});
      }
      check_statements(vulnerability, pointer, groups, "known_not_affected",
                       {{"flags", ""}, {"threats", "impact"}}, "6.1.27.9",
                       "impact statement (a flag or a threat of category impact)", out);
      check_statements(vulnerability, pointer, groups, "known_affected", {{"remediations", ""}},
                       "6.1.27.10", "action statement (a remediation)", out);
    }

    check_product_reference(vulnerability, pointer, "remediations", "6.1.29", "remediation", out);
    check_product_reference(vulnerability, pointer, "flags", "6.1.32", "flag", out);
    check_vex_flags(vulnerability, pointer, groups, out);
  }
}

}  // namespace vigie::advisory::mandatory_detail
