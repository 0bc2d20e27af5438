// Files exchanged with an engineer during a session (seed 003 §2b "contrôle des connexions":
// the hospital controls file import and download). They wait in the hospital's transfer area,
// one folder per device: `outbox/` holds what the hospital lets engineers get, `inbox/` what
// engineers put. A get needs a running session naming `download`, a put one naming `upload`;
// every file leaving passes the PHI filter (DICOM de-identified, texts scrubbed, anything else
// refused). Each file is recorded and audited with its name, size and SHA-256, and what the
// filter masked (counts, never values).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/phi/outbound.h"
#include "vigie/remote/registry.h"
#include "vigie/store/store.h"

namespace vigie::remote {

struct TransferArea {
  std::filesystem::path dir;  // remote.transfer_dir
  std::size_t max_bytes = std::size_t{64} << 20;
};

// A file name as engineers and devices may use it: 1 to 255 bytes of printable ASCII, no '/',
// no leading '.', no control characters.
Status check_file_name(std::string_view name);

struct OutboxFile {
  std::string name;
  std::int64_t size = 0;
};
// What the hospital has put in the device's outbox for the session's engineer.
Result<std::vector<OutboxFile>> list_outbox(store::Store& store, const TransferArea& area,
                                            std::int64_t session_id, std::int64_t engineer_id);

struct Delivered {
  std::string name;  // as sent (a de-identified DICOM file is renamed to its new UID)
  std::string bytes;
  std::string sha256;
};
// Reads outbox/NAME through the PHI filter. A refused file is recorded, audited and reported
// as kInvalidInput with the filter's reason.
Result<Delivered> get_file(store::Store& store, const TransferArea& area,
                           const phi::OutboundFilter& filter, std::int64_t session_id,
                           std::int64_t engineer_id, std::string_view name,
                           const std::string& origin, core::TimePoint now);

// Writes inbox/NAME durably (never over an existing file), then records and audits it.
Status put_file(store::Store& store, const TransferArea& area, std::int64_t session_id,
                std::int64_t engineer_id, std::string_view name, std::string_view bytes,
                const std::string& origin, core::TimePoint now);

}  // namespace vigie::remote
