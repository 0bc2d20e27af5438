// Which devices an advisory affects, and what to do about it. The matcher compiles each CSAF
// document into rules (one per product it gives a status for) indexed by normalised vendor,
// product name and part number, then decides per device and advisory: affected, fixed, not
// affected, under investigation, or unknown when the inventory lacks a field the decision
// needs. Every verdict can be explained step by step. In memory and read-only after add():
// assess() may run on many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/advisory/csaf.h"

namespace vigie::advisory {

enum class Verdict { kAffected, kUnderInvestigation, kUnknown, kFixed, kNotAffected };
std::string_view to_string(Verdict verdict);  // "affected", "under_investigation"...
std::optional<Verdict> parse_verdict(std::string_view text);

// What the matcher needs to know of a device (normalised names as the inventory stores them):
// the few fields of inventory::Device a verdict depends on, so that a million fit in memory.
struct DeviceFacts {
  std::int64_t id = 0;
  std::string vendor;
  std::string vendor_norm;
  std::string product;
  std::string product_norm;
  std::string part_number;
  std::string serial_number;
  std::string software_version;
};

struct Action {
  std::string category;  // vendor_fix, mitigation, workaround, no_fix_planned,
                         // none_available, inventory (complete a missing field)
  std::string text;
  std::string target_version;  // "VC14J" when the fix is "Upgrade to VC14J"
  std::string url;
  bool operator==(const Action&) const = default;
};

struct Assessment {
  std::int64_t device_id = 0;
  size_t advisory = 0;  // index in the matcher
  Verdict verdict = Verdict::kNotAffected;
  std::vector<std::string> missing;  // inventory fields that prevented a verdict
  std::vector<Action> actions;       // best first
  std::string product_id;            // the CSAF product that decided, if any
  std::string reason;                // one sentence
};

class Matcher {
 public:
  Matcher();
  ~Matcher();
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;

  // Adds an advisory and returns its index.
  size_t add(CsafDocument document);
  [[nodiscard]] size_t size() const;
  [[nodiscard]] const CsafDocument& advisory(size_t index) const;
  // The normalised vendors an advisory names (to find the devices it can touch).
  [[nodiscard]] std::vector<std::string> vendors(size_t index) const;

  // Whether an advisory names this product (by name or as a variant of a named one). Cheap: to
  // choose the devices a new advisory can touch without assessing every device of the vendor.
  [[nodiscard]] bool names_product(size_t advisory, std::string_view vendor_norm,
                                   std::string_view product_norm) const;
  // The part numbers an advisory names, as (normalised vendor, part number in lower case).
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> part_numbers(
      size_t advisory) const;

  // One assessment per advisory that names the device's product (by name, variant name or
  // part number), appended to `out`. Devices no advisory names get none: not affected.
  void assess(const DeviceFacts& device, std::vector<Assessment>& out) const;
  // The same, for one advisory only (a newly imported one).
  void assess(const DeviceFacts& device, size_t advisory, std::vector<Assessment>& out) const;
  // The reasoning behind assess() for one device and advisory, one line per step: the
  // product-tree paths considered, the rule that decided, the remediations chosen.
  [[nodiscard]] std::vector<std::string> explain(const DeviceFacts& device, size_t advisory) const;

 private:
  struct Index;
  std::unique_ptr<Index> index_;
};

// The version a remediation upgrades to: the word after "upgrade to" ("Upgrade to VC14J."),
// empty when there is none.
std::string target_version(std::string_view details);

// Serial-number patterns of CSAF: `*` any run of characters, `?` exactly one; case-insensitive.
bool serial_matches(std::string_view pattern, std::string_view serial);

}  // namespace vigie::advisory
