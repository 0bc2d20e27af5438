// The mandatory tests of CSAF 2.0 (section 6.1): the entry point, the helpers the other
// mandatory_*.cc files share, and the tests on the product tree and its identifiers (6.1.1 to
// 6.1.7, 6.1.13, 6.1.25, 6.1.31). The other tests live in mandatory_cvss.cc (6.1.8 to 6.1.10),
// mandatory_document.cc (6.1.12, 6.1.14 to 6.1.22, 6.1.26, 6.1.28, 6.1.30) and
// mandatory_vulnerabilities.cc (6.1.11, 6.1.23, 6.1.24, 6.1.27.x, 6.1.29, 6.1.32, 6.1.33).
//
// The document may be schema-invalid: every member is looked up with its type checked, and a
// value of the wrong type is skipped (the schema check reports it).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "json_limits.h"
#include "mandatory.h"
#include "mandatory_support.h"

namespace vigie::advisory {

namespace mandatory_detail {

using nlohmann::json;

// A full product name (full_product_name_t) and where it sits.
struct FullProductName {
  const json* product;
  std::string pointer;
};

const json* find_member(const json& value, std::string_view key) {
  if (!value.is_object()) return nullptr;
  auto it = value.find(key);
  return it == value.end() ? nullptr : &*it;
}

const std::string* find_string(const json& value, std::string_view key) {
  const json* found = find_member(value, key);
  return found != nullptr && found->is_string() ? &found->get_ref<const std::string&>() : nullptr;
}

const json* find_array(const json& value, std::string_view key) {
  const json* found = find_member(value, key);
  return found != nullptr && found->is_array() ? found : nullptr;
}

std::string child_pointer(std::string_view parent, std::string_view key) {
  std::string pointer(parent);
  pointer += '/';
  pointer += escape_pointer_token(key);
  return pointer;
}

std::string child_pointer(std::string_view parent, size_t index) {
  std::string pointer(parent);
  pointer += '/';
  pointer += std::to_string(index);
  return pointer;
}

void for_each_branch(const json& document,
                     const std::function<void(const json&, const std::string&)>& visit) {
  const json* tree = find_member(document, "product_tree");
  const json* top = tree != nullptr ? find_array(*tree, "branches") : nullptr;
  if (top == nullptr) return;
  // Depth-first in document order without recursion: each frame is one branches array.
  struct Frame {
    const json* branches;
    size_t next;
    std::string pointer;
  };
  std::vector<Frame> stack;
  stack.push_back({top, 0, "/product_tree/branches"});
  while (!stack.empty()) {
    Frame& frame = stack.back();
    if (frame.next >= frame.branches->size()) {
      stack.pop_back();
      continue;
    }
    const size_t index = frame.next++;
    const json& branch = (*frame.branches)[index];
    std::string pointer = child_pointer(frame.pointer, index);
    visit(branch, pointer);
    if (const json* children = find_array(branch, "branches")) {
      std::string children_pointer = child_pointer(pointer, "branches");
      stack.push_back({children, 0, std::move(children_pointer)});  // may move `frame`
    }
  }
}

std::vector<FullProductName> full_product_names(const json& document) {
  std::vector<FullProductName> names;
  for_each_branch(document, [&](const json& branch, const std::string& pointer) {
    if (const json* product = find_member(branch, "product"); product && product->is_object()) {
      names.push_back({product, child_pointer(pointer, "product")});
    }
  });
  const json* tree = find_member(document, "product_tree");
  if (tree == nullptr) return names;
  if (const json* list = find_array(*tree, "full_product_names")) {
    for (size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].is_object()) {
        names.push_back({&(*list)[i], child_pointer("/product_tree/full_product_names", i)});
      }
    }
  }
  if (const json* relationships = find_array(*tree, "relationships")) {
    for (size_t i = 0; i < relationships->size(); ++i) {
      const json* product = find_member((*relationships)[i], "full_product_name");
      if (product != nullptr && product->is_object()) {
        names.push_back(
            {product, child_pointer("/product_tree/relationships", i) + "/full_product_name"});
      }
    }
  }
  return names;
}

ProductGroups product_groups(const json& document) {
  std::unordered_map<std::string_view, std::vector<std::string_view>> groups;
  const json* tree = find_member(document, "product_tree");
  const json* list = tree != nullptr ? find_array(*tree, "product_groups") : nullptr;
  if (list == nullptr) return groups;
  for (const json& group : *list) {
    const std::string* id = find_string(group, "group_id");
    if (id == nullptr) continue;
    auto& members = groups[*id];
    if (const json* ids = find_array(group, "product_ids")) {
      for (const json& member : *ids) {
        if (member.is_string()) members.push_back(member.get_ref<const std::string&>());
      }
    }
  }
  return groups;
}

void for_each_string(const json* array, const std::string& pointer,
                     const std::function<void(const std::string&, const std::string&)>& visit) {
  if (array == nullptr || !array->is_array()) return;
  for (size_t i = 0; i < array->size(); ++i) {
    if ((*array)[i].is_string()) {
      visit((*array)[i].get_ref<const std::string&>(), child_pointer(pointer, i));
    }
  }
}

}  // namespace mandatory_detail

namespace {

using nlohmann::json;
using namespace mandatory_detail;

// The product status lists of a vulnerability, and the group of 6.1.6 each belongs to
// ("recommended" may name a product of any group, so it belongs to none).
struct ProductStatus {
  std::string_view name;
  std::string_view contradiction_group;
};
constexpr std::array<ProductStatus, 8> kProductStatuses = {{
    {"first_affected", "affected"},
    {"first_fixed", "fixed"},
    {"fixed", "fixed"},
    {"known_affected", "affected"},
    {"known_not_affected", "not affected"},
    {"last_affected", "affected"},
    {"recommended", ""},
    {"under_investigation", "under investigation"},
}};

// Every product id reference outside full product names (the paths of 6.1.1), in document order.
void for_each_product_reference(
    const json& document,
    const std::function<void(const std::string&, const std::string&)>& visit) {
  if (const json* tree = find_member(document, "product_tree")) {
    if (const json* groups = find_array(*tree, "product_groups")) {
      for (size_t i = 0; i < groups->size(); ++i) {
        for_each_string(find_array((*groups)[i], "product_ids"),
                        child_pointer("/product_tree/product_groups", i) + "/product_ids", visit);
      }
    }
    if (const json* relationships = find_array(*tree, "relationships")) {
      for (size_t i = 0; i < relationships->size(); ++i) {
        const std::string pointer = child_pointer("/product_tree/relationships", i);
        for (std::string_view key : {"product_reference", "relates_to_product_reference"}) {
          if (const std::string* id = find_string((*relationships)[i], key)) {
            visit(*id, child_pointer(pointer, key));
          }
        }
      }
    }
  }
  const json* vulnerabilities = find_array(document, "vulnerabilities");
  if (vulnerabilities == nullptr) return;
  for (size_t v = 0; v < vulnerabilities->size(); ++v) {
    const json& vulnerability = (*vulnerabilities)[v];
    const std::string pointer = child_pointer("/vulnerabilities", v);
    auto visit_items = [&](std::string_view list_key, std::string_view ids_key) {
      const json* items = find_array(vulnerability, list_key);
      if (items == nullptr) return;
      for (size_t i = 0; i < items->size(); ++i) {
        for_each_string(find_array((*items)[i], ids_key),
                        child_pointer(child_pointer(child_pointer(pointer, list_key), i), ids_key),
                        visit);
      }
    };
    visit_items("flags", "product_ids");
    if (const json* status = find_member(vulnerability, "product_status")) {
      for (const auto& list : kProductStatuses) {
        for_each_string(find_array(*status, list.name),
                        child_pointer(pointer + "/product_status", list.name), visit);
      }
    }
    visit_items("remediations", "product_ids");
    visit_items("scores", "products");
    visit_items("threats", "product_ids");
  }
}

// 6.1.1 and 6.1.2.
void check_product_definitions(const std::vector<FullProductName>& names, const json& document,
                               std::vector<ValidationIssue>& out) {
  std::unordered_map<std::string_view, const std::string*> first_definition;
  std::vector<ValidationIssue> duplicates;
  for (const auto& name : names) {
    const std::string* id = find_string(*name.product, "product_id");
    if (id == nullptr) continue;
    auto [it, inserted] = first_definition.emplace(*id, &name.pointer);
    if (!inserted) {
      duplicates.push_back(
          {"6.1.2", name.pointer + "/product_id",
           fmt::format("product id {} is defined again; it was already defined at {}", *id,
                       *it->second)});
    }
  }
  for_each_product_reference(document, [&](const std::string& id, const std::string& pointer) {
    if (!first_definition.contains(id)) {
      out.push_back(
          {"6.1.1", pointer, fmt::format("product id {} is referenced but not defined", id)});
    }
  });
  std::move(duplicates.begin(), duplicates.end(), std::back_inserter(out));
}

// 6.1.3: the products defined by relationships form a graph (a product points to the products
// it is built from). A product fails when following its references reaches a circle, whether
// the circle runs through the product itself or further down. Tarjan's algorithm, iterative,
// finds the circles in linear time; the strongly connected components come out successors
// first, so "reaches a circle" is known for all successors when a component is finished.
void check_circular_relationships(const json& document, std::vector<ValidationIssue>& out) {
  const json* tree = find_member(document, "product_tree");
  const json* relationships = tree != nullptr ? find_array(*tree, "relationships") : nullptr;
  if (relationships == nullptr) return;

  std::unordered_map<std::string_view, size_t> node_of;       // product id -> node
  std::vector<std::vector<std::string_view>> references;      // node -> referenced product ids
  std::vector<std::pair<size_t, std::string_view>> defining;  // relationship -> its product id
  for (size_t i = 0; i < relationships->size(); ++i) {
    const json* product = find_member((*relationships)[i], "full_product_name");
    const std::string* id = product != nullptr ? find_string(*product, "product_id") : nullptr;
    if (id == nullptr) continue;
    auto [it, inserted] = node_of.emplace(*id, references.size());
    if (inserted) references.emplace_back();
    for (std::string_view key : {"product_reference", "relates_to_product_reference"}) {
      if (const std::string* target = find_string((*relationships)[i], key)) {
        references[it->second].push_back(*target);
      }
    }
    defining.emplace_back(i, *id);
  }

  const size_t count = references.size();
  std::vector<std::vector<size_t>> edges(count);
  for (size_t node = 0; node < count; ++node) {
    for (std::string_view target : references[node]) {
      if (auto it = node_of.find(target); it != node_of.end()) edges[node].push_back(it->second);
    }
  }

  constexpr auto kUnvisited = static_cast<size_t>(-1);
  std::vector<size_t> order(count, kUnvisited), low(count, 0), component(count, kUnvisited);
  std::vector<bool> on_stack(count, false), component_reaches_circle;
  std::vector<size_t> tarjan_stack;
  size_t next_order = 0;
  struct Frame {
    size_t node;
    size_t next_edge;
  };
  for (size_t start = 0; start < count; ++start) {
    if (order[start] != kUnvisited) continue;
    std::vector<Frame> calls{{start, 0}};
    order[start] = low[start] = next_order++;
    tarjan_stack.push_back(start);
    on_stack[start] = true;
    while (!calls.empty()) {
      Frame& frame = calls.back();
      const size_t node = frame.node;
      if (frame.next_edge < edges[node].size()) {
        const size_t target = edges[node][frame.next_edge++];
        if (order[target] == kUnvisited) {
          order[target] = low[target] = next_order++;
          tarjan_stack.push_back(target);
          on_stack[target] = true;
          calls.push_back({target, 0});  // invalidates `frame`
        } else if (on_stack[target]) {
          low[node] = std::min(low[node], order[target]);
        }
        continue;
      }
      if (low[node] == order[node]) {
        const size_t id = component_reaches_circle.size();
        std::vector<size_t> members;
        size_t member;
        do {
          member = tarjan_stack.back();
          tarjan_stack.pop_back();
          on_stack[member] = false;
          component[member] = id;
          members.push_back(member);
        } while (member != node);
        bool reaches = members.size() > 1;
        for (size_t m : members) {
          for (size_t target : edges[m]) {
            // A self reference, or an edge to a finished component that reaches a circle.
            if (target == m ||
                (component[target] != id && component_reaches_circle[component[target]]))
              reaches = true;
          }
        }
        component_reaches_circle.push_back(reaches);
      }
      calls.pop_back();
      if (!calls.empty()) {
        const size_t parent = calls.back().node;
        low[parent] = std::min(low[parent], low[node]);
      }
    }
  }

  for (const auto& [index, id] : defining) {
    const size_t node = node_of.at(id);
    if (!component_reaches_circle[component[node]]) continue;
    out.push_back(
        {"6.1.3",
         child_pointer("/product_tree/relationships", index) + "/full_product_name/product_id",
         fmt::format("product id {} is defined by relationships whose references lead into a "
                     "circle",
                     id)});
  }
}

// 6.1.4 and 6.1.5.
void check_product_groups(const json& document, std::vector<ValidationIssue>& out) {
  std::unordered_map<std::string_view, std::string> first_definition;
  std::vector<ValidationIssue> duplicates;
  const json* tree = find_member(document, "product_tree");
  if (const json* groups = tree != nullptr ? find_array(*tree, "product_groups") : nullptr) {
    for (size_t i = 0; i < groups->size(); ++i) {
      const std::string* id = find_string((*groups)[i], "group_id");
      if (id == nullptr) continue;
      std::string pointer = child_pointer("/product_tree/product_groups", i) + "/group_id";
      auto [it, inserted] = first_definition.emplace(*id, pointer);
      if (!inserted) {
        duplicates.push_back(
            {"6.1.5", pointer,
             fmt::format("product group id {} is defined again; it was already defined at {}", *id,
                         it->second)});
      }
    }
  }
  if (const json* vulnerabilities = find_array(document, "vulnerabilities")) {
    for (size_t v = 0; v < vulnerabilities->size(); ++v) {
      const std::string pointer = child_pointer("/vulnerabilities", v);
      for (std::string_view list_key : {"flags", "remediations", "threats"}) {
        const json* items = find_array((*vulnerabilities)[v], list_key);
        if (items == nullptr) continue;
        for (size_t i = 0; i < items->size(); ++i) {
          for_each_string(find_array((*items)[i], "group_ids"),
                          child_pointer(child_pointer(pointer, list_key), i) + "/group_ids",
                          [&](const std::string& id, const std::string& at) {
                            if (!first_definition.contains(id)) {
                              out.push_back({"6.1.4", at,
                                             fmt::format("product group id {} is referenced but "
                                                         "not defined",
                                                         id)});
                            }
                          });
        }
      }
    }
  }
  std::move(duplicates.begin(), duplicates.end(), std::back_inserter(out));
}

// 6.1.6: within one vulnerability, a product may sit in one contradiction group only.
void check_contradicting_status(const json& vulnerability, const std::string& pointer,
                                std::vector<ValidationIssue>& out) {
  const json* status = find_member(vulnerability, "product_status");
  if (status == nullptr) return;
  struct FirstSeen {
    std::string_view group;
    std::string pointer;
  };
  std::unordered_map<std::string_view, FirstSeen> first_seen;
  std::unordered_set<std::string> reported;  // "id\ngroup": one issue per product and group
  for (const auto& list : kProductStatuses) {
    if (list.contradiction_group.empty()) continue;
    for_each_string(
        find_array(*status, list.name), child_pointer(pointer + "/product_status", list.name),
        [&](const std::string& id, const std::string& at) {
          auto [it, inserted] = first_seen.emplace(id, FirstSeen{list.contradiction_group, at});
          if (inserted || it->second.group == list.contradiction_group) return;
          if (!reported.insert(id + '\n' + std::string(list.contradiction_group)).second) return;
          out.push_back(
              {"6.1.6", at,
               fmt::format("product id {} is listed as {} here but as {} at {}", id,
                           list.contradiction_group, it->second.group, it->second.pointer)});
        });
  }
}

// 6.1.7: one score per product and CVSS version within a vulnerability.
void check_scores_per_product(const json& vulnerability, const std::string& pointer,
                              std::vector<ValidationIssue>& out) {
  const json* scores = find_array(vulnerability, "scores");
  if (scores == nullptr) return;
  std::unordered_map<std::string, size_t> score_of;  // "product id\nversion" -> score index
  for (size_t s = 0; s < scores->size(); ++s) {
    const json& score = (*scores)[s];
    std::vector<std::string_view> versions;
    for (std::string_view key : {"cvss_v2", "cvss_v3"}) {
      const json* cvss = find_member(score, key);
      if (const std::string* version = cvss != nullptr ? find_string(*cvss, "version") : nullptr) {
        versions.push_back(*version);
      }
    }
    const std::string score_pointer = child_pointer(pointer + "/scores", s);
    for_each_string(find_array(score, "products"), score_pointer + "/products",
                    [&](const std::string& id, const std::string& at) {
                      for (std::string_view version : versions) {
                        auto [it, inserted] = score_of.emplace(id + '\n' + std::string(version), s);
                        if (inserted || it->second == s) continue;
                        out.push_back({"6.1.7", at,
                                       fmt::format("product id {} already has a CVSS {} score "
                                                   "in this vulnerability at {}/scores/{}",
                                                   id, version, pointer, it->second)});
                      }
                    });
  }
}

// 6.1.13 and 6.1.25: the identification helpers of every full product name.
void check_identification_helpers(const std::vector<FullProductName>& names,
                                  std::vector<ValidationIssue>& out) {
  for (const auto& name : names) {
    const json* helper = find_member(*name.product, "product_identification_helper");
    if (helper == nullptr) continue;
    const std::string helper_pointer = name.pointer + "/product_identification_helper";
    if (const std::string* purl = find_string(*helper, "purl")) {
      if (std::string why = purl_syntax_error(*purl); !why.empty()) {
        out.push_back({"6.1.13", helper_pointer + "/purl",
                       fmt::format("purl {} is not a valid package URL: {}", *purl, why)});
      }
    }
    const json* hashes = find_array(*helper, "hashes");
    if (hashes == nullptr) continue;
    for (size_t h = 0; h < hashes->size(); ++h) {
      const json* file_hashes = find_array((*hashes)[h], "file_hashes");
      if (file_hashes == nullptr) continue;
      // Algorithm names are free text; "SHA256" and "sha256" name the same algorithm.
      std::unordered_set<std::string> seen;
      for (size_t f = 0; f < file_hashes->size(); ++f) {
        const std::string* algorithm = find_string((*file_hashes)[f], "algorithm");
        if (algorithm == nullptr) continue;
        std::string folded = *algorithm;
        std::transform(folded.begin(), folded.end(), folded.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (seen.insert(folded).second) continue;
        out.push_back(
            {"6.1.25",
             child_pointer(child_pointer(helper_pointer + "/hashes", h) + "/file_hashes", f) +
                 "/algorithm",
             fmt::format("hash algorithm {} is used more than once for the same file",
                         *algorithm)});
      }
    }
  }
}

// 6.1.31: the standard deems these lower-case markers sufficient to spot a version range.
void check_product_version_names(const json& document, std::vector<ValidationIssue>& out) {
  constexpr std::array<std::string_view, 9> kRangeMarkers = {
      "<", ">", "after", "all", "before", "earlier", "later", "prior", "versions"};
  for_each_branch(document, [&](const json& branch, const std::string& pointer) {
    const std::string* category = find_string(branch, "category");
    const std::string* name = find_string(branch, "name");
    if (category == nullptr || name == nullptr || *category != "product_version") return;
    std::string lower = *name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (std::string_view marker : kRangeMarkers) {
      if (lower.find(marker) == std::string::npos) continue;
      out.push_back({"6.1.31", pointer + "/name",
                     fmt::format("product_version branch name \"{}\" contains the version range "
                                 "marker \"{}\"",
                                 *name, marker)});
      return;
    }
  });
}

// "6.1.27.10" -> {6, 1, 27, 10}: issues are ordered by test, then by place in the document.
std::vector<int> test_order(std::string_view test) {
  std::vector<int> parts;
  int value = 0;
  for (char c : test) {
    if (c == '.') {
      parts.push_back(value);
      value = 0;
    } else if (c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
    }
  }
  parts.push_back(value);
  return parts;
}

}  // namespace

void run_mandatory_tests(const nlohmann::json& document, std::vector<ValidationIssue>& out) {
  const size_t first_new = out.size();
  const std::vector<FullProductName> names = full_product_names(document);
  check_product_definitions(names, document, out);
  check_circular_relationships(document, out);
  check_product_groups(document, out);
  if (const json* vulnerabilities = find_array(document, "vulnerabilities")) {
    for (size_t v = 0; v < vulnerabilities->size(); ++v) {
      const std::string pointer = child_pointer("/vulnerabilities", v);
      check_contradicting_status((*vulnerabilities)[v], pointer, out);
      check_scores_per_product((*vulnerabilities)[v], pointer, out);
    }
  }
  check_identification_helpers(names, out);
  check_product_version_names(document, out);
  check_cvss(document, out);
  check_document(document, out);
  check_vulnerabilities(document, out);
  std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(first_new), out.end(),
                   [](const ValidationIssue& a, const ValidationIssue& b) {
                     return test_order(a.test) < test_order(b.test);
                   });
}

}  // namespace vigie::advisory
