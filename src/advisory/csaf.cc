#include "vigie/advisory/csaf.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "json_limits.h"
#include "vigie/core/text.h"

namespace vigie::advisory {
namespace {

using core::ErrorCode;
using nlohmann::json;

constexpr int kMaxBranchDepth = 30;  // the JSON nesting limit allows about 30 levels

// Thrown inside the reader only, turned into an Error at its edge.
struct ReadError {
  std::string pointer;
  std::string reason;
};

[[noreturn]] void refuse(const std::string& pointer, std::string reason) {
  throw ReadError{pointer, std::move(reason)};
}

std::string child(const std::string& pointer, std::string_view key) {
  return pointer + "/" + escape_pointer_token(key);
}
std::string child(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

const json* member(const json& object, std::string_view key) {
  auto it = object.find(std::string(key));
  return it == object.end() ? nullptr : &*it;
}

std::string string_at(const json& object, std::string_view key, const std::string& pointer,
                      bool required = false) {
  const json* v = member(object, key);
  if (v == nullptr) {
    if (required) refuse(child(pointer, key), "required property is missing");
    return {};
  }
  if (!v->is_string()) refuse(child(pointer, key), "expected a string");
  return v->get<std::string>();
}

const json& object_at(const json& parent, std::string_view key, const std::string& pointer) {
  const json* v = member(parent, key);
  if (v == nullptr) refuse(child(pointer, key), "required property is missing");
  if (!v->is_object()) refuse(child(pointer, key), "expected an object");
  return *v;
}

// An optional array: null when absent, refused when not an array.
const json* array_at(const json& parent, std::string_view key, const std::string& pointer) {
  const json* v = member(parent, key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) refuse(child(pointer, key), "expected an array");
  return v;
}

std::vector<std::string> strings_at(const json& parent, std::string_view key,
                                    const std::string& pointer) {
  std::vector<std::string> out;
  const json* a = array_at(parent, key, pointer);
  if (a == nullptr) return out;
  for (size_t i = 0; i < a->size(); ++i) {
    if (!(*a)[i].is_string()) refuse(child(child(pointer, key), i), "expected a string");
    out.push_back((*a)[i].get<std::string>());
  }
  return out;
}

void read_helper(const json& product, const std::string& pointer, CsafProduct& p) {
  const json* h = member(product, "product_identification_helper");
  if (h == nullptr) return;
  std::string at = child(pointer, "product_identification_helper");
  if (!h->is_object()) refuse(at, "expected an object");
  if (const json* cpe = member(*h, "cpe")) {
    if (!cpe->is_string()) refuse(child(at, "cpe"), "expected a string");
    p.cpes.push_back(cpe->get<std::string>());
  }
  if (const json* purl = member(*h, "purl")) {
    if (!purl->is_string()) refuse(child(at, "purl"), "expected a string");
    p.purls.push_back(purl->get<std::string>());
  }
  p.model_numbers = strings_at(*h, "model_numbers", at);
  p.serial_numbers = strings_at(*h, "serial_numbers", at);
  p.skus = strings_at(*h, "skus", at);
}

void set_range(CsafProduct& p, const std::string& text, const std::string& pointer) {
  p.version_range_text = text;
  auto range = parse_range_text(text, guess_scheme(text));
  if (range) {
    p.version_range = std::move(*range);
  } else {
    p.version_range_error = core::Error{range.error().code, range.error().message, pointer};
  }
}

struct PathContext {
  std::string vendor, family, product_name, version, range, architecture, service_pack;
  std::string range_pointer;
};

CsafProduct leaf_product(const json& product, const std::string& pointer, const PathContext& c) {
  if (!product.is_object()) refuse(pointer, "expected an object");
  CsafProduct p;
  p.product_id = string_at(product, "product_id", pointer, true);
  p.name = string_at(product, "name", pointer, true);
  p.pointer = pointer;
  p.vendor = c.vendor;
  p.product_family = c.family;
  p.product_name = c.product_name;
  p.product_version = c.version;
  p.architecture = c.architecture;
  p.service_pack = c.service_pack;
  if (!c.range.empty()) set_range(p, c.range, c.range_pointer);
  read_helper(product, pointer, p);
  return p;
}

void read_branches(const json& branches, const std::string& pointer, const PathContext& context,
                   int depth, std::vector<CsafProduct>& out) {
  if (!branches.is_array()) refuse(pointer, "expected an array");
  if (depth > kMaxBranchDepth) refuse(pointer, "branches nested too deeply");
  for (size_t i = 0; i < branches.size(); ++i) {
    const json& b = branches[i];
    std::string at = child(pointer, i);
    if (!b.is_object()) refuse(at, "expected an object");
    std::string category = string_at(b, "category", at, true);
    std::string name = string_at(b, "name", at, true);
    PathContext c = context;
    if (category == "vendor") {
      c.vendor = name;
    } else if (category == "product_family") {
      c.family = name;
    } else if (category == "product_name") {
      c.product_name = name;
    } else if (category == "product_version") {
      c.version = name;
    } else if (category == "product_version_range") {
      c.range = name;
      c.range_pointer = child(at, "name");
    } else if (category == "architecture") {
      c.architecture = name;
    } else if (category == "service_pack") {
      c.service_pack = name;
    } else if (category != "host_name" && category != "language" && category != "legacy" &&
               category != "patch_level" && category != "specification") {
      refuse(child(at, "category"), fmt::format("unknown branch category '{}'", category));
    }
    if (const json* product = member(b, "product")) {
      out.push_back(leaf_product(*product, child(at, "product"), c));
    }
    if (const json* sub = member(b, "branches")) {
      read_branches(*sub, child(at, "branches"), c, depth + 1, out);
    }
  }
}

void read_product_tree(const json& doc, CsafDocument& d) {
  const json* tree = member(doc, "product_tree");
  if (tree == nullptr) return;
  std::string at = "/product_tree";
  if (!tree->is_object()) refuse(at, "expected an object");
  if (const json* b = member(*tree, "branches")) {
    read_branches(*b, child(at, "branches"), {}, 1, d.products);
  }
  if (const json* names = array_at(*tree, "full_product_names", at)) {
    for (size_t i = 0; i < names->size(); ++i) {
      d.products.push_back(
          leaf_product((*names)[i], child(child(at, "full_product_names"), i), {}));
    }
  }
  if (const json* rels = array_at(*tree, "relationships", at)) {
    for (size_t i = 0; i < rels->size(); ++i) {
      std::string rat = child(child(at, "relationships"), i);
      const json& r = (*rels)[i];
      if (!r.is_object()) refuse(rat, "expected an object");
      CsafProduct p =
          leaf_product(object_at(r, "full_product_name", rat), child(rat, "full_product_name"), {});
      p.relationship = string_at(r, "category", rat, true);
      p.product_reference = string_at(r, "product_reference", rat, true);
      p.relates_to = string_at(r, "relates_to_product_reference", rat, true);
      d.products.push_back(std::move(p));
    }
  }
  if (const json* groups = array_at(*tree, "product_groups", at)) {
    for (size_t i = 0; i < groups->size(); ++i) {
      std::string gat = child(child(at, "product_groups"), i);
      const json& g = (*groups)[i];
      if (!g.is_object()) refuse(gat, "expected an object");
      d.product_groups[string_at(g, "group_id", gat, true)] = strings_at(g, "product_ids", gat);
    }
  }
}

void read_vulnerabilities(const json& doc, CsafDocument& d) {
  const json* vulns = array_at(doc, "vulnerabilities", "");
  if (vulns == nullptr) return;
  static constexpr std::string_view kStatuses[] = {
      "known_affected", "first_affected",     "last_affected", "fixed",
      "first_fixed",    "known_not_affected", "recommended",   "under_investigation"};
  for (size_t i = 0; i < vulns->size(); ++i) {
    std::string at = child(std::string("/vulnerabilities"), i);
    const json& v = (*vulns)[i];
    if (!v.is_object()) refuse(at, "expected an object");
    CsafVulnerability out;
    out.cve = string_at(v, "cve", at);
    out.title = string_at(v, "title", at);
    if (const json* cwe = member(v, "cwe")) {
      if (!cwe->is_object()) refuse(child(at, "cwe"), "expected an object");
      out.cwes.push_back(string_at(*cwe, "id", child(at, "cwe"), true));
    }
    if (const json* status = member(v, "product_status")) {
      std::string sat = child(at, "product_status");
      if (!status->is_object()) refuse(sat, "expected an object");
      for (std::string_view s : kStatuses) {
        if (member(*status, s) != nullptr)
          out.product_status[std::string(s)] = strings_at(*status, s, sat);
      }
    }
    if (const json* rems = array_at(v, "remediations", at)) {
      for (size_t r = 0; r < rems->size(); ++r) {
        std::string rat = child(child(at, "remediations"), r);
        const json& rem = (*rems)[r];
        if (!rem.is_object()) refuse(rat, "expected an object");
        CsafRemediation x;
        x.category = string_at(rem, "category", rat, true);
        x.details = string_at(rem, "details", rat, true);
        x.url = string_at(rem, "url", rat);
        x.product_ids = strings_at(rem, "product_ids", rat);
        x.group_ids = strings_at(rem, "group_ids", rat);
        if (const json* restart = member(rem, "restart_required")) {
          if (!restart->is_object()) refuse(child(rat, "restart_required"), "expected an object");
          x.restart_required =
              string_at(*restart, "category", child(rat, "restart_required"), true);
        }
        out.remediations.push_back(std::move(x));
      }
    }
    if (const json* scores = array_at(v, "scores", at)) {
      for (size_t s = 0; s < scores->size(); ++s) {
        const json& score = (*scores)[s];
        if (!score.is_object()) refuse(child(child(at, "scores"), s), "expected an object");
        for (const char* version : {"cvss_v3", "cvss_v2"}) {
          const json* cvss = member(score, version);
          if (cvss == nullptr) continue;
          const json* base = cvss->is_object() ? member(*cvss, "baseScore") : nullptr;
          if (base == nullptr || !base->is_number()) {
            refuse(child(child(child(at, "scores"), s), version), "expected a baseScore number");
          }
          out.max_base_score = std::max(out.max_base_score, base->get<double>());
        }
      }
    }
    if (const json* threats = array_at(v, "threats", at)) {
      for (size_t t = 0; t < threats->size(); ++t) {
        std::string tat = child(child(at, "threats"), t);
        if (!(*threats)[t].is_object()) refuse(tat, "expected an object");
        out.threats.emplace_back(string_at((*threats)[t], "category", tat, true),
                                 string_at((*threats)[t], "details", tat, true));
      }
    }
    if (const json* flags = array_at(v, "flags", at)) {
      for (size_t f = 0; f < flags->size(); ++f) {
        std::string fat = child(child(at, "flags"), f);
        if (!(*flags)[f].is_object()) refuse(fat, "expected an object");
        out.flags.push_back(string_at((*flags)[f], "label", fat, true));
      }
    }
    d.vulnerabilities.push_back(std::move(out));
  }
}

}  // namespace

const CsafProduct* CsafDocument::product(std::string_view product_id) const {
  for (const auto& p : products) {
    if (p.product_id == product_id) return &p;
  }
  return nullptr;
}

Scheme guess_scheme(std::string_view text) {
  if (text.starts_with("vers:")) {
    auto slash = text.find('/');
    return parse_scheme(text.substr(5, slash == std::string_view::npos ? 0 : slash - 5))
        .value_or(Scheme::kGeneric);
  }
  // A letter directly followed by two digits ("VB23P", "VC14J", "VF70x") marks a vendor code.
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    if (std::isalpha(static_cast<unsigned char>(text[i])) != 0 &&
        std::isdigit(static_cast<unsigned char>(text[i + 1])) != 0 &&
        std::isdigit(static_cast<unsigned char>(text[i + 2])) != 0) {
      return Scheme::kVendor;
    }
  }
  return Scheme::kGeneric;
}

Result<CsafDocument> read_csaf(std::string_view text, std::string_view source) {
  std::string name(source);
  auto parsed = parse_json_document(text);
  if (!parsed) {
    core::Error e = std::move(parsed.error());
    e.where = e.where.empty() ? name : name + ":" + e.where;
    return tl::unexpected(std::move(e));
  }
  const json& doc = *parsed;
  CsafDocument d;
  try {
    if (!doc.is_object()) refuse("", "a CSAF document is a JSON object");
    const json& document = object_at(doc, "document", "");
    d.category = string_at(document, "category", "/document", true);
    d.title = string_at(document, "title", "/document", true);
    d.lang = string_at(document, "lang", "/document");
    const json& publisher = object_at(document, "publisher", "/document");
    d.publisher = string_at(publisher, "name", "/document/publisher", true);
    d.publisher_namespace = string_at(publisher, "namespace", "/document/publisher", true);
    const json& tracking = object_at(document, "tracking", "/document");
    d.tracking_id = string_at(tracking, "id", "/document/tracking", true);
    d.version = string_at(tracking, "version", "/document/tracking", true);
    d.status = string_at(tracking, "status", "/document/tracking", true);
    d.initial_release_date =
        string_at(tracking, "initial_release_date", "/document/tracking", true);
    d.current_release_date =
        string_at(tracking, "current_release_date", "/document/tracking", true);
    read_product_tree(doc, d);
    read_vulnerabilities(doc, d);
  } catch (const ReadError& e) {
    return core::fail(ErrorCode::kInvalidInput, e.reason,
                      name + ":" + (e.pointer.empty() ? "/" : e.pointer));
  } catch (const json::exception& e) {
    return core::fail(ErrorCode::kInvalidInput, e.what(), name);
  }
  return d;
}

}  // namespace vigie::advisory
