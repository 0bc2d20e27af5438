#include "vigie/advisory/csaf.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <optional>

#include "json_limits.h"
#include "vigie/core/text.h"

namespace vigie::advisory {
namespace {

using core::ErrorCode;
using json = simdjson::dom::element;

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

// simdjson's DOM: each element is a small view into the parser's tape.
std::optional<json> member(const json& object, std::string_view key) {
  json value;
  if (!object.is_object() || object.at_key(key).get(value) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return value;
}

// The text of a string element (callers check is_string() first); empty otherwise.
std::string text_of(const json& value) {
  std::string_view s;
  if (value.get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}

std::string string_at(const json& object, std::string_view key, const std::string& pointer,
                      bool required = false) {
  auto v = member(object, key);
  if (!v) {
    if (required) refuse(child(pointer, key), "required property is missing");
    return {};
  }
  if (!v->is_string()) refuse(child(pointer, key), "expected a string");
  return text_of(*v);
}

json object_at(const json& parent, std::string_view key, const std::string& pointer) {
  auto v = member(parent, key);
  if (!v) refuse(child(pointer, key), "required property is missing");
  if (!v->is_object()) refuse(child(pointer, key), "expected an object");
  return *v;
}

// An optional array: nullopt when absent, refused when not an array.
std::optional<simdjson::dom::array> array_at(const json& parent, std::string_view key,
                                             const std::string& pointer) {
  auto v = member(parent, key);
  if (!v) return std::nullopt;
  simdjson::dom::array a;
  if (v->get(a) != simdjson::SUCCESS) refuse(child(pointer, key), "expected an array");
  return a;
}

std::vector<std::string> strings_at(const json& parent, std::string_view key,
                                    const std::string& pointer) {
  std::vector<std::string> out;
  auto a = array_at(parent, key, pointer);
  if (!a) return out;
  size_t i = 0;
  for (json item : *a) {
    if (!item.is_string()) refuse(child(child(pointer, key), i), "expected a string");
    out.push_back(text_of(item));
    ++i;
  }
  return out;
}

void read_helper(const json& product, const std::string& pointer, CsafProduct& p) {
  auto h = member(product, "product_identification_helper");
  if (!h) return;
  std::string at = child(pointer, "product_identification_helper");
  if (!h->is_object()) refuse(at, "expected an object");
  if (auto cpe = member(*h, "cpe")) {
    if (!cpe->is_string()) refuse(child(at, "cpe"), "expected a string");
    p.cpes.push_back(text_of(*cpe));
  }
  if (auto purl = member(*h, "purl")) {
    if (!purl->is_string()) refuse(child(at, "purl"), "expected a string");
    p.purls.push_back(text_of(*purl));
  }
  p.model_numbers = strings_at(*h, "model_numbers", at);
  p.serial_numbers = strings_at(*h, "serial_numbers", at);
  p.skus = strings_at(*h, "skus", at);
  p.sbom_urls = strings_at(*h, "sbom_urls", at);
  if (auto hashes = array_at(*h, "hashes", at)) {
    size_t i = 0;
    for (json file : *hashes) {
      std::string hat = child(child(at, "hashes"), i++);
      if (!file.is_object()) refuse(hat, "expected an object");
      CsafFileHash hash;
      hash.filename = string_at(file, "filename", hat, true);
      if (auto digests = array_at(file, "file_hashes", hat)) {
        size_t k = 0;
        for (json digest : *digests) {
          std::string dat = child(child(hat, "file_hashes"), k++);
          if (!digest.is_object()) refuse(dat, "expected an object");
          hash.digests.emplace_back(string_at(digest, "algorithm", dat, true),
                                    string_at(digest, "value", dat, true));
        }
      }
      p.hashes.push_back(std::move(hash));
    }
  }
  if (auto uris = array_at(*h, "x_generic_uris", at)) {
    size_t i = 0;
    for (json uri : *uris) {
      std::string uat = child(child(at, "x_generic_uris"), i++);
      if (!uri.is_object()) refuse(uat, "expected an object");
      p.generic_uris.emplace_back(string_at(uri, "namespace", uat, true),
                                  string_at(uri, "uri", uat, true));
    }
  }
}

std::vector<CsafNote> notes_at(const json& parent, const std::string& pointer) {
  std::vector<CsafNote> out;
  auto notes = array_at(parent, "notes", pointer);
  if (!notes) return out;
  size_t i = 0;
  for (json note : *notes) {
    std::string at = child(child(pointer, "notes"), i++);
    if (!note.is_object()) refuse(at, "expected an object");
    out.push_back({string_at(note, "category", at, true), string_at(note, "title", at),
                   string_at(note, "text", at, true)});
  }
  return out;
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
  simdjson::dom::array list;
  if (branches.get(list) != simdjson::SUCCESS) refuse(pointer, "expected an array");
  if (depth > kMaxBranchDepth) refuse(pointer, "branches nested too deeply");
  size_t i = 0;
  for (json b : list) {
    std::string at = child(pointer, i++);
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
    if (auto product = member(b, "product")) {
      out.push_back(leaf_product(*product, child(at, "product"), c));
    }
    if (auto sub = member(b, "branches")) {
      read_branches(*sub, child(at, "branches"), c, depth + 1, out);
    }
  }
}

void read_product_tree(const json& doc, CsafDocument& d) {
  auto tree = member(doc, "product_tree");
  if (!tree) return;
  std::string at = "/product_tree";
  if (!tree->is_object()) refuse(at, "expected an object");
  if (auto b = member(*tree, "branches")) {
    read_branches(*b, child(at, "branches"), {}, 1, d.products);
  }
  if (auto names = array_at(*tree, "full_product_names", at)) {
    size_t i = 0;
    for (json name : *names) {
      d.products.push_back(leaf_product(name, child(child(at, "full_product_names"), i++), {}));
    }
  }
  if (auto rels = array_at(*tree, "relationships", at)) {
    size_t i = 0;
    for (json r : *rels) {
      std::string rat = child(child(at, "relationships"), i++);
      if (!r.is_object()) refuse(rat, "expected an object");
      CsafProduct p =
          leaf_product(object_at(r, "full_product_name", rat), child(rat, "full_product_name"), {});
      p.relationship = string_at(r, "category", rat, true);
      p.product_reference = string_at(r, "product_reference", rat, true);
      p.relates_to = string_at(r, "relates_to_product_reference", rat, true);
      d.products.push_back(std::move(p));
    }
  }
  if (auto groups = array_at(*tree, "product_groups", at)) {
    size_t i = 0;
    for (json g : *groups) {
      std::string gat = child(child(at, "product_groups"), i++);
      if (!g.is_object()) refuse(gat, "expected an object");
      d.product_groups[string_at(g, "group_id", gat, true)] = strings_at(g, "product_ids", gat);
    }
  }
}

void read_vulnerabilities(const json& doc, CsafDocument& d) {
  auto vulns = array_at(doc, "vulnerabilities", "");
  if (!vulns) return;
  static constexpr std::string_view kStatuses[] = {
      "known_affected", "first_affected",     "last_affected", "fixed",
      "first_fixed",    "known_not_affected", "recommended",   "under_investigation"};
  size_t i = 0;
  for (json v : *vulns) {
    std::string at = child(std::string("/vulnerabilities"), i++);
    if (!v.is_object()) refuse(at, "expected an object");
    CsafVulnerability out;
    out.cve = string_at(v, "cve", at);
    out.title = string_at(v, "title", at);
    out.notes = notes_at(v, at);
    if (auto cwe = member(v, "cwe")) {
      if (!cwe->is_object()) refuse(child(at, "cwe"), "expected an object");
      out.cwes.push_back(string_at(*cwe, "id", child(at, "cwe"), true));
    }
    if (auto status = member(v, "product_status")) {
      std::string sat = child(at, "product_status");
      if (!status->is_object()) refuse(sat, "expected an object");
      for (std::string_view s : kStatuses) {
        if (member(*status, s)) out.product_status[std::string(s)] = strings_at(*status, s, sat);
      }
    }
    if (auto rems = array_at(v, "remediations", at)) {
      size_t r = 0;
      for (json rem : *rems) {
        std::string rat = child(child(at, "remediations"), r++);
        if (!rem.is_object()) refuse(rat, "expected an object");
        CsafRemediation x;
        x.category = string_at(rem, "category", rat, true);
        x.details = string_at(rem, "details", rat, true);
        x.url = string_at(rem, "url", rat);
        x.product_ids = strings_at(rem, "product_ids", rat);
        x.group_ids = strings_at(rem, "group_ids", rat);
        if (auto restart = member(rem, "restart_required")) {
          if (!restart->is_object()) refuse(child(rat, "restart_required"), "expected an object");
          x.restart_required =
              string_at(*restart, "category", child(rat, "restart_required"), true);
        }
        out.remediations.push_back(std::move(x));
      }
    }
    if (auto scores = array_at(v, "scores", at)) {
      size_t s = 0;
      for (json score : *scores) {
        if (!score.is_object()) refuse(child(child(at, "scores"), s), "expected an object");
        for (const char* version : {"cvss_v3", "cvss_v2"}) {
          auto cvss = member(score, version);
          if (!cvss) continue;
          auto base = member(*cvss, "baseScore");
          double value = 0;
          if (!base || base->get(value) != simdjson::SUCCESS) {
            refuse(child(child(child(at, "scores"), s), version), "expected a baseScore number");
          }
          out.max_base_score = std::max(out.max_base_score, value);
        }
        ++s;
      }
    }
    if (auto threats = array_at(v, "threats", at)) {
      size_t t = 0;
      for (json threat : *threats) {
        std::string tat = child(child(at, "threats"), t++);
        if (!threat.is_object()) refuse(tat, "expected an object");
        out.threats.emplace_back(string_at(threat, "category", tat, true),
                                 string_at(threat, "details", tat, true));
      }
    }
    if (auto flags = array_at(v, "flags", at)) {
      size_t f = 0;
      for (json flag : *flags) {
        std::string fat = child(child(at, "flags"), f++);
        if (!flag.is_object()) refuse(fat, "expected an object");
        out.flags.push_back(string_at(flag, "label", fat, true));
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
  auto located = [&](core::Error e) {
    e.where = e.where.empty() ? name : name + ":" + e.where;
    return tl::unexpected(std::move(e));
  };
  if (auto limits = check_json_limits(text); !limits) return located(limits.error());
  // simdjson reads several times faster than a DOM of std::maps; on a syntax error the
  // slower parser is asked where it is, for the line and column.
  simdjson::dom::parser parser;
  json doc;
  if (auto error = parser.parse(text.data(), text.size()).get(doc); error != simdjson::SUCCESS) {
    if (auto parsed = parse_json_document(text); !parsed) return located(parsed.error());
    return located({ErrorCode::kInvalidInput,
                    fmt::format("malformed JSON: {}", simdjson::error_message(error)),
                    {}});
  }
  CsafDocument d;
  try {
    if (!doc.is_object()) refuse("", "a CSAF document is a JSON object");
    json document = object_at(doc, "document", "");
    d.category = string_at(document, "category", "/document", true);
    d.title = string_at(document, "title", "/document", true);
    d.lang = string_at(document, "lang", "/document");
    d.notes = notes_at(document, "/document");
    json publisher = object_at(document, "publisher", "/document");
    d.publisher = string_at(publisher, "name", "/document/publisher", true);
    d.publisher_namespace = string_at(publisher, "namespace", "/document/publisher", true);
    json tracking = object_at(document, "tracking", "/document");
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
  }
  return d;
}

}  // namespace vigie::advisory
