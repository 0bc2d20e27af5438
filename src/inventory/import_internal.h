// The format readers behind import_devices(); each feeds a DeviceWriter. Private.
#pragma once

#include <filesystem>

#include "writer_internal.h"

namespace vigie::inventory::internal {

void import_csv(DeviceWriter& writer, const std::filesystem::path& path,
                const ImportOptions& options);
void import_glpi(DeviceWriter& writer, const std::filesystem::path& path,
                 const ImportOptions& options);
void import_nmap(DeviceWriter& writer, const std::filesystem::path& path,
                 const ImportOptions& options);

const FieldInfo& fields_info(Field f);

}  // namespace vigie::inventory::internal
