// CSV inventory import: a header naming the columns (see model.cc for names and synonyms),
// one device per row.
#include <fmt/format.h>

#include "import_internal.h"
#include "vigie/core/csv.h"

namespace vigie::inventory::internal {

void import_csv(DeviceWriter& writer, const std::filesystem::path& path,
                const ImportOptions& options) {
  using core::ErrorCode;
  auto reader = core::CsvReader::open(path);
  if (!reader) return void(writer.reject(reader.error()));
  std::vector<std::string_view> fields;
  auto got = reader->next(fields);
  if (!got) return void(writer.reject(got.error()));
  if (!*got) {
    return void(writer.reject({ErrorCode::kInvalidInput, "empty file: a header line is required",
                               fmt::format("{}:1", path.string())}));
  }
  // Column index -> field (nullopt: ignored column).
  std::vector<std::optional<Field>> columns;
  std::vector<std::string> names;
  FieldMask present;
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string where = fmt::format("{}:1:column {}", path.string(), i + 1);
    names.emplace_back(fields[i]);
    auto field = find_field(fields[i]);
    if (!field) {
      columns.emplace_back();
      if (options.ignore_unknown_columns) continue;
      if (!writer.reject({ErrorCode::kInvalidInput,
                          fmt::format("unknown column '{}' (see docs/inventory-formats.md, or "
                                      "use --ignore-unknown)",
                                      fields[i]),
                          where})) {
        return;
      }
      continue;
    }
    if (has(present, *field)) {
      if (!writer.reject({ErrorCode::kInvalidInput,
                          fmt::format("column '{}' appears twice", fields[i]), where})) {
        return;
      }
    }
    present.set(static_cast<size_t>(*field));
    columns.push_back(field);
  }
  for (Field required : {Field::kVendor, Field::kProduct}) {
    if (!has(present, required)) {
      writer.reject({ErrorCode::kInvalidInput,
                     fmt::format("the header has no '{}' column",
                                 fields_info(required).name),
                     fmt::format("{}:1", path.string())});
      return;
    }
  }
  if (writer.failed()) return;

  while (true) {
    got = reader->next(fields);
    if (!got) return void(writer.reject(got.error()));  // malformed CSV: cannot resynchronise
    if (!*got) break;
    std::string where = fmt::format("{}:{}", path.string(), reader->line());
    if (fields.size() != columns.size()) {
      if (!writer.reject({ErrorCode::kInvalidInput,
                          fmt::format("expected {} fields as in the header, found {}",
                                      columns.size(), fields.size()),
                          where})) {
        return;
      }
      continue;
    }
    Device device;
    bool row_ok = true;
    for (size_t i = 0; i < fields.size() && row_ok; ++i) {
      if (!columns[i]) continue;
      if (auto why = set_field(device, *columns[i], fields[i])) {
        row_ok = false;
        if (!writer.reject({ErrorCode::kInvalidInput,
                            fmt::format("column '{}': {}", names[i], *why),
                            fmt::format("{}:{}:column {}", path.string(), reader->line(), i + 1)})) {
          return;
        }
      }
    }
    if (!row_ok) continue;
    if (!writer.add(std::move(device), present, where)) return;
  }
}

}  // namespace vigie::inventory::internal
