// Reports a matériovigilance correspondent files: per notice (the letter, its acknowledgement
// and every device its advisory names, with verdict, action and deadline) and per device (its
// findings and the letters to keep with its manual). HTML (self-contained, printable) or CSV
// (RFC 4180, UTF-8), in French or English.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vigie/advisory/notices.h"

namespace vigie::advisory {

enum class ReportFormat { kHtml, kCsv };
enum class Language { kFrench, kEnglish };
std::optional<ReportFormat> parse_report_format(std::string_view text);  // "html", "csv"
std::optional<Language> parse_language(std::string_view text);           // "fr", "en"

Result<std::string> notice_report(store::Store& store, std::string_view notice, ReportFormat format,
                                  Language language, const core::Clock& clock);
Result<std::string> device_report(store::Store& store, std::int64_t device_id, ReportFormat format,
                                  Language language, const core::Clock& clock);

}  // namespace vigie::advisory
