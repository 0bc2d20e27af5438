// Zeek conn.log, in both of Zeek's writers' forms: TSV (columns found by the names of the
// `#fields` header, with `#separator`, `#set_separator`, `#empty_field` and `#unset_field`
// honoured) and JSON lines. Streamed in fixed-size chunks; each line is bounded.
#pragma once

#include <filesystem>
#include <string_view>

#include "vigie/core/result.h"
#include "vigie/netpolicy/flows.h"

namespace vigie::netpolicy {

// Longest line accepted (a conn.log line is a few hundred bytes).
inline constexpr size_t kMaxZeekLine = size_t{64} * 1024;

// Each conn.log record becomes one flow: conn_state gives the state (S0, SH, RSTOS0... are
// attempts, REJ a refusal, the rest established), `service` the application protocol. Errors
// name file:line (and the column) with the reason.
core::Result<ReadStats> read_zeek_conn(const std::filesystem::path& path, FlowSink& sink);
// The same from memory; `name` stands for the file in error positions.
core::Result<ReadStats> read_zeek_conn(std::string_view data, std::string_view name,
                                       FlowSink& sink);

}  // namespace vigie::netpolicy
