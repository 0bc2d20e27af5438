// Text and log scrubbing: HL7 v2 messages by segment and field (the MSH encoding characters
// are read from the message), DICOM dump lines (dcmdump, gdcmdump) by tag against Table
// E.1-1, key=value pairs with PHI-like keys, names, dates of birth, e-mail addresses, phone
// and national identifiers, the site's own patterns, and a deny-list of values seen in the
// DICOM files of the same transfer. Fail safe: what it cannot parse it masks or refuses.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::phi {

// A site-specific pattern: what it finds (the mask says "[PHI:<kind>]") and an ECMAScript
// regular expression, e.g. {"patient-id", "IPP[0-9]{8}"}.
struct SitePattern {
  std::string kind;
  std::string regex;
};

// "<kind> <regex>" per line, '#' comments; errors name file:line.
core::Result<std::vector<SitePattern>> load_patterns(const std::filesystem::path& path);

struct ScrubConfig {
  std::vector<SitePattern> patterns;
  std::vector<std::string> deny_list;    // exact values, matched case-insensitively as words
  size_t max_line = 8192;                // longer lines are masked whole (fail safe)
  size_t max_bytes = size_t{256} << 20;  // larger texts are refused
};

// Masks by kind ("hl7:PID-5", "key-value", "name", "deny-list"...): counts, never values.
using MaskCounts = std::map<std::string, size_t>;

enum class TextFormat : std::uint8_t { kHl7, kText };

struct ScrubOutput {
  std::string text;
  MaskCounts masks;
  TextFormat format = TextFormat::kText;
};

// One place where PHI was found (the checker): 1-based line and the kind, never the value.
struct Finding {
  size_t line = 0;
  std::string kind;
};

class Scrubber {
 public:
  // Compiles the site patterns; a bad regular expression is refused naming its kind.
  static core::Result<Scrubber> create(ScrubConfig config);

  // The masked text. Refused (kInvalidInput naming `name`): binary content (NUL bytes, invalid
  // UTF-8), texts over max_bytes, an HL7 message whose MSH segment cannot be read.
  [[nodiscard]] core::Result<ScrubOutput> scrub(std::string_view text, std::string_view name) const;

  // Where PHI remains in a text (what `vigie phi check` lists): the lines that scrubbing would
  // change. Already-masked values ("[PHI:...]", HL7 "***") are not findings.
  [[nodiscard]] core::Result<std::vector<Finding>> find(std::string_view text,
                                                        std::string_view name) const;

  // One free-text value (a DICOM attribute under a clean action, an HL7 OBX-5): the detectors
  // and the deny-list, no structure.
  [[nodiscard]] std::string scrub_value(std::string_view text, MaskCounts& masks) const;

  // The mask written in place of a value of the given kind.
  static std::string mask(std::string_view kind);

 private:
  struct Detector {
    std::string kind;
    std::regex regex;
    int group = 0;  // the submatch that is masked (0: the whole match)
  };
  Scrubber() = default;
  static const std::vector<Detector>& builtins();
  static std::string apply_detectors(const std::vector<Detector>& detectors, std::string out,
                                     MaskCounts& masks);
  std::string scrub_line(std::string_view line, MaskCounts& masks) const;
  std::string scrub_dump_line(std::string_view line, MaskCounts& masks) const;
  std::string scrub_key_values(std::string_view line, MaskCounts& masks) const;
  std::string scrub_deny(std::string_view text, MaskCounts& masks) const;
  core::Result<std::string> scrub_hl7(std::string_view text, std::string_view name,
                                      MaskCounts& masks) const;

  ScrubConfig config_;
  std::vector<std::string> deny_lower_;
  std::vector<Detector> detectors_;  // the site's patterns
};

}  // namespace vigie::phi
