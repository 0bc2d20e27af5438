#include "vigie/advisory/matcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <span>
#include <unordered_map>

#include "vigie/core/text.h"
#include "vigie/inventory/normalize.h"

namespace vigie::advisory {
namespace {

enum class VersionKind { kAny, kExact, kRange };

// One CSAF product with a status, ready to be matched.
struct Rule {
  size_t advisory = 0;
  const CsafProduct* product = nullptr;
  std::string vendor_norm;
  std::string product_norm;
  VersionKind version_kind = VersionKind::kAny;
  // kExact: the listed version's scheme and version_key(), compared with the device's.
  Scheme version_scheme = Scheme::kGeneric;
  std::string version_key;
  // Copied from the product: judge() reads them for every candidate, and the product (a large
  // object far away in memory) would cost a cache miss each time.
  std::vector<std::string> model_numbers;
  std::vector<std::string> serial_numbers;
  Verdict status = Verdict::kNotAffected;  // strongest over the vulnerabilities
  std::string status_name;                 // "known_affected"... as the document says
  std::string vulnerability;               // CVE or title where the status is given
  std::vector<Action> actions;             // remediations for this product, best first
};

struct Advisory {
  CsafDocument document;
  std::vector<std::string> vendors;
};

int category_rank(std::string_view category) {
  static constexpr std::string_view kOrder[] = {"vendor_fix",     "mitigation",     "workaround",
                                                "no_fix_planned", "none_available", "inventory"};
  for (size_t i = 0; i < std::size(kOrder); ++i) {
    if (kOrder[i] == category) return static_cast<int>(i);
  }
  return static_cast<int>(std::size(kOrder));
}

void sort_actions(std::vector<Action>& actions) {
  std::stable_sort(actions.begin(), actions.end(), [](const Action& a, const Action& b) {
    return category_rank(a.category) < category_rank(b.category);
  });
  std::vector<Action> unique;
  for (auto& a : actions) {
    if (std::find(unique.begin(), unique.end(), a) == unique.end()) unique.push_back(std::move(a));
  }
  actions = std::move(unique);
}

Action to_action(const CsafRemediation& r) {
  Action a;
  a.category = r.category;
  a.url = r.url;
  if (r.category == "vendor_fix") a.target_version = target_version(r.details);
  a.text = r.category == "no_fix_planned"
               ? "No fix planned: isolate or retire the device. " + r.details
               : r.details;
  return a;
}

// Verdict of a product_status list; nullopt for lists that do not state one ("recommended").
std::optional<Verdict> status_verdict(std::string_view status) {
  if (status == "known_affected" || status == "first_affected" || status == "last_affected") {
    return Verdict::kAffected;
  }
  if (status == "fixed" || status == "first_fixed") return Verdict::kFixed;
  if (status == "known_not_affected") return Verdict::kNotAffected;
  if (status == "under_investigation") return Verdict::kUnderInvestigation;
  return std::nullopt;
}

// Lower is stronger when one product has several statuses (e.g. across vulnerabilities).
int verdict_strength(Verdict v) {
  switch (v) {
    case Verdict::kAffected:
      return 0;
    case Verdict::kUnderInvestigation:
      return 1;
    case Verdict::kFixed:
      return 2;
    case Verdict::kNotAffected:
      return 3;
    case Verdict::kUnknown:
      return 4;
  }
  return 5;
}

// Product names compare without spaces: "Biograph True Point 40" = "Biograph TruePoint 40".
std::string compact(std::string_view words) {
  std::string out;
  out.reserve(words.size());
  for (char c : words) {
    if (c != ' ') out += c;
  }
  return out;
}

std::string key(std::string_view vendor_norm, std::string_view second) {
  std::string k;
  k.reserve(vendor_norm.size() + second.size() + 1);
  k.append(vendor_norm).append(1, '\x1f').append(second);
  return k;
}

bool equal_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The device's version in each scheme's comparison form, worked out once per device.
class DeviceVersion {
 public:
  explicit DeviceVersion(std::string_view text) : text_(text) {}
  const std::string& key(Scheme scheme) {
    auto& k = scheme == Scheme::kVendor ? vendor_ : generic_;
    if (!k) k = version_key(scheme, text_);
    return *k;
  }

 private:
  std::string_view text_;
  std::optional<std::string> generic_;
  std::optional<std::string> vendor_;
};

bool same_version(const Rule& rule, DeviceVersion& version, std::string_view version_text) {
  if (!rule.version_key.empty()) return rule.version_key == version.key(rule.version_scheme);
  std::string_view listed = rule.product->product_version;
  if (equal_ci(listed, version_text)) return true;
  auto c = compare_versions(guess_scheme(listed), listed, version_text);
  return c && *c == 0;
}

std::string path_of(const CsafProduct& p) {
  std::string path = p.vendor;
  for (const std::string* part : {&p.product_family, &p.product_name, &p.product_version,
                                  &p.version_range_text, &p.architecture}) {
    if (!part->empty()) path += " > " + *part;
  }
  return path;
}

// How one rule judges one device.
enum class Fit { kApplies, kRejected, kNeedsField, kUndecidable };

struct Judgement {
  Fit fit = Fit::kRejected;
  std::string field;  // kNeedsField: the missing inventory field
  std::string why;    // kRejected / kUndecidable / kApplies
};

Judgement judge(const Rule& rule, const DeviceFacts& d, DeviceVersion& version, bool with_reasons) {
  const CsafProduct& p = *rule.product;
  auto reason = [&](std::string_view format, const auto&... args) {
    return with_reasons ? fmt::vformat(format, fmt::make_format_args(args...)) : std::string();
  };
  if (!rule.model_numbers.empty() && !d.part_number.empty() &&
      std::none_of(rule.model_numbers.begin(), rule.model_numbers.end(),
                   [&](const std::string& m) { return equal_ci(m, d.part_number); })) {
    return {
        Fit::kRejected,
        {},
        reason("part number {} is not P/N {}", d.part_number, fmt::join(rule.model_numbers, ", "))};
  }
  if (!rule.serial_numbers.empty()) {
    if (d.serial_number.empty()) return {Fit::kNeedsField, "serial_number", {}};
    if (std::none_of(rule.serial_numbers.begin(), rule.serial_numbers.end(),
                     [&](const std::string& s) { return serial_matches(s, d.serial_number); })) {
      return {Fit::kRejected,
              {},
              reason("serial number {} matches none of {}", d.serial_number,
                     fmt::join(rule.serial_numbers, " "))};
    }
  }
  switch (rule.version_kind) {
    case VersionKind::kAny:
      return {Fit::kApplies, {}, reason("every version of {}", p.product_name)};
    case VersionKind::kExact:
      if (d.software_version.empty()) return {Fit::kNeedsField, "software_version", {}};
      if (!same_version(rule, version, d.software_version)) {
        return {Fit::kRejected,
                {},
                reason("version {} is not {}", d.software_version, p.product_version)};
      }
      return {Fit::kApplies, {}, reason("version {} = {}", d.software_version, p.product_version)};
    case VersionKind::kRange: {
      if (p.version_range_error) {
        return {Fit::kUndecidable,
                {},
                reason("the advisory's range '{}' cannot be read: {}", p.version_range_text,
                       p.version_range_error->message)};
      }
      if (d.software_version.empty()) return {Fit::kNeedsField, "software_version", {}};
      auto in = contains(*p.version_range, d.software_version);
      if (!in) {
        return {Fit::kUndecidable,
                {},
                reason("version {} cannot be compared with '{}': {}", d.software_version,
                       p.version_range_text, in.error().message)};
      }
      if (!*in) {
        return {Fit::kRejected,
                {},
                reason("version {} is outside {}", d.software_version, p.version_range_text)};
      }
      return {Fit::kApplies,
              {},
              reason("version {} is in {}", d.software_version, p.version_range_text)};
    }
  }
  return {};
}

}  // namespace

struct Matcher::Index {
  std::deque<Advisory> advisories;  // rules point into them: addresses must stay
  std::vector<Rule> rules;
  // vendor \x1f product name -> rules; vendor \x1f part number -> rules (lower case, no spaces).
  std::unordered_map<std::string, std::vector<uint32_t>> by_name;
  std::unordered_map<std::string, std::vector<uint32_t>> by_part;
  std::vector<std::vector<uint32_t>> rules_of;  // per advisory

  void add_rules(size_t advisory);
  // Candidate rules for a device, ordered by advisory; `only` restricts to one advisory.
  void candidates(const DeviceFacts& d, std::optional<size_t> only,
                  std::vector<uint32_t>& out) const;
  Assessment decide(const DeviceFacts& d, DeviceVersion& version, size_t advisory,
                    std::span<const uint32_t> rules, std::vector<std::string>* trace) const;
};

void Matcher::Index::add_rules(size_t advisory) {
  const CsafDocument& doc = advisories[advisory].document;
  // product id -> groups that contain it
  std::unordered_map<std::string, std::vector<std::string>> groups_of;
  for (const auto& [group, ids] : doc.product_groups) {
    for (const auto& id : ids) groups_of[id].push_back(group);
  }
  std::vector<uint32_t> own;
  for (const CsafProduct& p : doc.products) {
    // A product family without a product name names every product of the family: a device's
    // product is then a variant of it ("Biograph mCT" of the family "Biograph").
    const std::string& name = p.product_name.empty() ? p.product_family : p.product_name;
    if (name.empty() || p.vendor.empty() || !p.relationship.empty()) continue;
    Rule r;
    r.advisory = advisory;
    r.product = &p;
    r.vendor_norm = inventory::normalize_vendor(p.vendor);
    r.product_norm = inventory::normalize_product(r.vendor_norm, name);
    r.version_kind = !p.version_range_text.empty() ? VersionKind::kRange
                     : !p.product_version.empty()  ? VersionKind::kExact
                                                   : VersionKind::kAny;
    r.model_numbers = p.model_numbers;
    r.serial_numbers = p.serial_numbers;
    if (r.version_kind == VersionKind::kExact) {
      r.version_scheme = guess_scheme(p.product_version);
      if (r.version_scheme != Scheme::kSemver) {
        r.version_key = version_key(r.version_scheme, p.product_version);
      }
    }
    std::optional<Verdict> best;
    for (const CsafVulnerability& v : doc.vulnerabilities) {
      for (const auto& [status, ids] : v.product_status) {
        auto verdict = status_verdict(status);
        if (!verdict || std::find(ids.begin(), ids.end(), p.product_id) == ids.end()) continue;
        if (!best || verdict_strength(*verdict) < verdict_strength(*best)) {
          best = verdict;
          r.status_name = status;
          r.vulnerability = v.cve.empty() ? v.title : v.cve;
        }
      }
      const auto& groups = groups_of[p.product_id];
      for (const CsafRemediation& rem : v.remediations) {
        bool named =
            std::find(rem.product_ids.begin(), rem.product_ids.end(), p.product_id) !=
                rem.product_ids.end() ||
            std::any_of(rem.group_ids.begin(), rem.group_ids.end(), [&](const std::string& g) {
              return std::find(groups.begin(), groups.end(), g) != groups.end();
            });
        if (named) r.actions.push_back(to_action(rem));
      }
    }
    if (!best) continue;  // named in the tree but given no status: says nothing
    r.status = *best;
    sort_actions(r.actions);
    auto id = static_cast<uint32_t>(rules.size());
    by_name[key(r.vendor_norm, compact(r.product_norm))].push_back(id);
    for (const auto& m : p.model_numbers)
      by_part[key(r.vendor_norm, compact(core::ascii_lower(m)))].push_back(id);
    auto& vendors = advisories[advisory].vendors;
    if (std::find(vendors.begin(), vendors.end(), r.vendor_norm) == vendors.end()) {
      vendors.push_back(r.vendor_norm);
    }
    own.push_back(id);
    rules.push_back(std::move(r));
  }
  rules_of.push_back(std::move(own));
}

void Matcher::Index::candidates(const DeviceFacts& d, std::optional<size_t> only,
                                std::vector<uint32_t>& out) const {
  out.clear();
  // One key buffer per thread: building a key per lookup must not allocate.
  thread_local std::string k;
  auto take = [&](const auto& map, std::string_view second) {
    k.assign(d.vendor_norm).append(1, '\x1f');
    for (char c : second) {
      if (c != ' ') k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto it = map.find(k);
    if (it == map.end()) return;
    for (uint32_t id : it->second) {
      if (!only || rules[id].advisory == *only) out.push_back(id);
    }
  };
  take(by_name, d.product_norm);  // compared without spaces, like the rules' keys
  if (!d.part_number.empty()) take(by_part, d.part_number);
  if (out.empty()) {
    // A variant ("Artis zee biplane" of "Artis zee"): the longest named word prefix.
    std::string_view name = d.product_norm;
    for (auto space = name.rfind(' '); space != std::string_view::npos && out.empty();
         space = name.rfind(' ', space - 1)) {
      take(by_name, name.substr(0, space));
      if (space == 0) break;
    }
  }
  // Rules are numbered in the order advisories were added: by id is by advisory too.
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

Assessment Matcher::Index::decide(const DeviceFacts& d, DeviceVersion& version, size_t advisory,
                                  std::span<const uint32_t> ids,
                                  std::vector<std::string>* trace) const {
  Assessment a;
  a.device_id = d.id;
  a.advisory = advisory;
  bool reasons = trace != nullptr;
  const Rule* decided = nullptr;
  const Rule* rejected = nullptr;
  const Rule* undecidable = nullptr;
  for (uint32_t id : ids) {
    const Rule& r = rules[id];
    Judgement j = judge(r, d, version, reasons);
    if (reasons) {
      trace->push_back(fmt::format("product {} \"{}\" ({}) at {}: {} -> {}", r.product->product_id,
                                   path_of(*r.product), r.status_name, r.product->pointer,
                                   j.fit == Fit::kNeedsField ? "needs " + j.field : j.why,
                                   j.fit == Fit::kApplies    ? "applies"
                                   : j.fit == Fit::kRejected ? "does not apply"
                                                             : "cannot decide"));
    }
    switch (j.fit) {
      case Fit::kApplies:
        if (decided == nullptr || verdict_strength(r.status) < verdict_strength(decided->status)) {
          decided = &r;
        }
        if (r.status == Verdict::kAffected) {
          a.actions.insert(a.actions.end(), r.actions.begin(), r.actions.end());
        }
        break;
      case Fit::kRejected:
        if (rejected == nullptr) rejected = &r;
        break;
      case Fit::kNeedsField:
        if (std::find(a.missing.begin(), a.missing.end(), j.field) == a.missing.end()) {
          a.missing.push_back(j.field);
        }
        break;
      case Fit::kUndecidable:
        if (undecidable == nullptr) undecidable = &r;
        break;
    }
  }
  // Reasons are worded only for the rule that explains the verdict: assessing a million
  // devices must not format a sentence per rule tried.
  auto why = [&](const Rule* r) { return judge(*r, d, version, true).why; };
  if (decided != nullptr) {
    a.verdict = decided->status;
    a.product_id = decided->product->product_id;
    a.missing.clear();
    a.reason = fmt::format("{}: {} lists {} as {}", why(decided),
                           decided->vulnerability.empty() ? "the advisory" : decided->vulnerability,
                           decided->product->name, decided->status_name);
    sort_actions(a.actions);
  } else if (!a.missing.empty() || undecidable != nullptr) {
    a.verdict = Verdict::kUnknown;
    a.actions.clear();
    for (const auto& field : a.missing) {
      a.actions.push_back(
          {"inventory",
           fmt::format("Record the device's {} to decide whether it is affected", field),
           {},
           {}});
    }
    a.reason = !a.missing.empty()
                   ? fmt::format("the advisory names this product but the inventory has no {}",
                                 fmt::join(a.missing, ", "))
                   : why(undecidable);
  } else {
    a.verdict = Verdict::kNotAffected;
    a.reason = rejected == nullptr ? "no product of the advisory applies" : why(rejected);
  }
  if (reasons) {
    trace->push_back(fmt::format("verdict: {} ({})", to_string(a.verdict), a.reason));
    for (const auto& action : a.actions) {
      trace->push_back(fmt::format(
          "action {}: {}{}", action.category, action.text,
          action.target_version.empty() ? "" : " [target " + action.target_version + "]"));
    }
  }
  return a;
}

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAffected:
      return "affected";
    case Verdict::kUnderInvestigation:
      return "under_investigation";
    case Verdict::kUnknown:
      return "unknown";
    case Verdict::kFixed:
      return "fixed";
    case Verdict::kNotAffected:
      return "not_affected";
  }
  return "unknown";
}

std::optional<Verdict> parse_verdict(std::string_view text) {
  for (Verdict v : {Verdict::kAffected, Verdict::kUnderInvestigation, Verdict::kUnknown,
                    Verdict::kFixed, Verdict::kNotAffected}) {
    if (to_string(v) == text) return v;
  }
  return std::nullopt;
}

Matcher::Matcher() : index_(std::make_unique<Index>()) {}
Matcher::~Matcher() = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

size_t Matcher::add(CsafDocument document) {
  size_t i = index_->advisories.size();
  index_->advisories.push_back({std::move(document), {}});
  index_->add_rules(i);
  return i;
}

size_t Matcher::size() const { return index_->advisories.size(); }

const CsafDocument& Matcher::advisory(size_t index) const {
  return index_->advisories.at(index).document;
}

std::vector<std::string> Matcher::vendors(size_t index) const {
  return index_->advisories.at(index).vendors;
}

bool Matcher::names_product(size_t advisory, std::string_view vendor_norm,
                            std::string_view product_norm) const {
  DeviceFacts product;
  product.vendor_norm = vendor_norm;
  product.product_norm = product_norm;
  std::vector<uint32_t> ids;
  index_->candidates(product, advisory, ids);
  return !ids.empty();
}

std::vector<std::pair<std::string, std::string>> Matcher::part_numbers(size_t advisory) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (uint32_t id : index_->rules_of.at(advisory)) {
    const Rule& r = index_->rules[id];
    for (const auto& m : r.product->model_numbers) {
      std::pair<std::string, std::string> entry{r.vendor_norm, core::ascii_lower(m)};
      if (std::find(out.begin(), out.end(), entry) == out.end()) out.push_back(std::move(entry));
    }
  }
  return out;
}

void Matcher::assess(const DeviceFacts& device, std::vector<Assessment>& out) const {
  thread_local std::vector<uint32_t> ids;
  index_->candidates(device, std::nullopt, ids);
  DeviceVersion version(device.software_version);
  for (size_t begin = 0; begin < ids.size();) {
    size_t advisory = index_->rules[ids[begin]].advisory;
    size_t end = begin;
    while (end < ids.size() && index_->rules[ids[end]].advisory == advisory) ++end;
    out.push_back(index_->decide(device, version, advisory,
                                 std::span<const uint32_t>(ids).subspan(begin, end - begin),
                                 nullptr));
    begin = end;
  }
}

void Matcher::assess(const DeviceFacts& device, size_t advisory,
                     std::vector<Assessment>& out) const {
  std::vector<uint32_t> ids;
  index_->candidates(device, advisory, ids);
  DeviceVersion version(device.software_version);
  if (!ids.empty()) out.push_back(index_->decide(device, version, advisory, ids, nullptr));
}

std::vector<std::string> Matcher::explain(const DeviceFacts& device, size_t index) const {
  std::vector<std::string> trace;
  const CsafDocument& doc = advisory(index);
  trace.push_back(
      fmt::format("advisory {} ({}), publisher {}", doc.tracking_id, doc.title, doc.publisher));
  trace.push_back(fmt::format(
      "device {}: vendor \"{}\" (normalised \"{}\"), product \"{}\" (normalised \"{}\"), part "
      "number {}, serial number {}, software version {}",
      device.id, device.vendor, device.vendor_norm, device.product, device.product_norm,
      device.part_number.empty() ? "-" : device.part_number,
      device.serial_number.empty() ? "-" : device.serial_number,
      device.software_version.empty() ? "-" : device.software_version));
  std::vector<uint32_t> ids;
  index_->candidates(device, index, ids);
  if (ids.empty()) {
    trace.emplace_back(
        "no product of the advisory has this vendor and product name, variant or part number: "
        "not affected");
    return trace;
  }
  DeviceVersion version(device.software_version);
  index_->decide(device, version, index, ids, &trace);
  return trace;
}

std::string target_version(std::string_view details) {
  std::string lower = core::ascii_lower(details);
  auto at = lower.find("upgrade to ");
  if (at == std::string::npos) return {};
  size_t begin = at + 11;
  size_t end = begin;
  while (end < details.size()) {
    char c = details[end];
    if (c == ' ' || c == ',' || c == ';' || c == ')' || c == '(' || c == '\n') break;
    ++end;
  }
  std::string_view word = details.substr(begin, end - begin);
  while (!word.empty() && (word.back() == '.' || word.back() == ':')) word.remove_suffix(1);
  return std::string(word);
}

bool serial_matches(std::string_view pattern, std::string_view serial) {
  // Iterative glob with one backtrack point: linear in practice, never exponential.
  size_t p = 0;
  size_t s = 0;
  size_t star = std::string_view::npos;
  size_t mark = 0;
  auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  while (s < serial.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || same(pattern[p], serial[s]))) {
      ++p;
      ++s;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = s;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace vigie::advisory
