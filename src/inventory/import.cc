#include <fmt/format.h>

#include <fstream>

#include "import_internal.h"
#include "vigie/core/text.h"

namespace vigie::inventory {

std::optional<ImportFormat> parse_import_format(std::string_view text) {
  std::string t = core::ascii_lower(text);
  if (t == "csv") return ImportFormat::kCsv;
  if (t == "glpi" || t == "json") return ImportFormat::kGlpi;
  if (t == "nmap" || t == "xml") return ImportFormat::kNmap;
  return std::nullopt;
}

ImportFormat guess_import_format(const std::filesystem::path& path) {
  std::string ext = core::ascii_lower(path.extension().string());
  if (ext == ".json") return ImportFormat::kGlpi;
  if (ext == ".xml") return ImportFormat::kNmap;
  if (ext == ".csv") return ImportFormat::kCsv;
  std::ifstream in(path, std::ios::binary);
  char head[64] = {};
  in.read(head, sizeof head);
  std::string_view h(head, static_cast<size_t>(in.gcount()));
  h = core::trim(h.substr(std::min(h.find_first_not_of(" \t\r\n\xEF\xBB\xBF"), h.size())));
  if (h.starts_with("<")) return ImportFormat::kNmap;
  if (h.starts_with("[") || h.starts_with("{")) return ImportFormat::kGlpi;
  return ImportFormat::kCsv;
}

ImportResult import_devices(store::Store& store, const std::filesystem::path& path,
                            ImportFormat format, const ImportOptions& options) {
  ImportResult result;
  internal::DeviceWriter writer(store, result, options);
  if (!writer.begin(path.string(), format != ImportFormat::kNmap)) return result;
  std::string_view name = "csv";
  switch (format) {
    case ImportFormat::kCsv:
      internal::import_csv(writer, path, options);
      break;
    case ImportFormat::kGlpi:
      name = "glpi";
      internal::import_glpi(writer, path, options);
      break;
    case ImportFormat::kNmap:
      name = "nmap";
      internal::import_nmap(writer, path, options);
      break;
  }
  writer.finish(name, path.string());
  return result;
}

namespace internal {
const FieldInfo& fields_info(Field f) { return fields()[static_cast<size_t>(f)]; }
}  // namespace internal

}  // namespace vigie::inventory
