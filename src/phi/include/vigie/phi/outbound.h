// The PHI filter of the remote gateway: every outbound file transfer and system-initiated
// upload passes through OutboundFilter::filter before a byte leaves the hospital.
//
//   phi::OutboundFilter filter(phi::load_or_create_key(home).value(), phi::FilterConfig{});
//   auto result = filter.filter(transfer);     // Transfer: named files with their bytes
//   if (!result) ...                           // only for a broken configuration
//   for (auto& f : result->files) send(f.name, f.bytes);   // only what was made safe
//   audit.write(result->summary.to_json());    // counts and reasons, never a value
//
// DICOM files are de-identified (Deidentifier); texts and logs are scrubbed (Scrubber) with a
// deny-list of the identifying values of the DICOM files of the same transfer; anything else
// (unknown binary formats, archives, images with burned-in text under the refuse policy,
// unreadable DICOM) is refused: it does not appear in `files`, and the summary says why.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/phi/deidentify.h"
#include "vigie/phi/key.h"
#include "vigie/phi/scrub.h"

namespace vigie::phi {

struct OutboundFile {
  std::string name;  // as the device or the engineer named it (never sent as is for DICOM)
  std::string bytes;
};

struct Transfer {
  std::vector<OutboundFile> files;
};

struct FilterConfig {
  DeidConfig dicom;                   // profile options, burned-in policy, limits
  std::vector<SitePattern> patterns;  // the site's identifier patterns for texts
};

struct RefusedFile {
  std::string name;
  std::string reason;  // e.g. "unknown binary format", the de-identifier's refusal
};

// What the audit log records for one transfer.
struct FilterSummary {
  size_t files_in = 0;
  size_t dicom_files = 0;
  size_t text_files = 0;
  ActionCounts dicom_actions;  // X/Z/D/K/C/U over every DICOM file
  MaskCounts text_masks;       // masks by kind over every text
  size_t deny_list_size = 0;   // how many identifying values the DICOMs gave
  std::vector<RefusedFile> refused;
  // {"files_in", "dicom_files", "text_files", "dicom_actions": {"X":..,"Z":..,...},
  //  "private_removed", "uids_replaced", "dates_shifted", "pixels_blanked", "text_masks":
  //  {kind: count}, "deny_list_size", "refused": [{"file", "reason"}]}
  [[nodiscard]] std::string to_json() const;
};

struct FilterResult {
  std::vector<OutboundFile> files;  // safe to send: DICOM renamed to their new SOP UID
  FilterSummary summary;
};

class OutboundFilter {
 public:
  OutboundFilter(Key key, FilterConfig config);

  // Filters one transfer. Errors only for a bad configuration (a site pattern that does not
  // compile); each unsafe file is refused inside the result.
  [[nodiscard]] core::Result<FilterResult> filter(const Transfer& transfer) const;

 private:
  Deidentifier deidentifier_;
  FilterConfig config_;
};

}  // namespace vigie::phi
