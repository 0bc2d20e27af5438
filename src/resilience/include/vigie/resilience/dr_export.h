// Disaster-recovery exports (seed 004): what the hospital needs when everything is down -- the
// device inventory with locations, owners and addresses, the open findings and what to do about
// them, the degraded-mode procedures and the vendors' contacts -- as readable offline HTML and
// CSV inside a signed, encrypted archive (archive.h), written to an outbox and pushed over SFTP
// to the "strategic" PCs, keeping N generations on each and reporting stale or unverifiable PCs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/config.h"
#include "vigie/core/result.h"
#include "vigie/core/time.h"
#include "vigie/resilience/archive.h"

namespace vigie::store {
class Store;
}

namespace vigie::resilience {

// Who acts, from where, when: every change is audited with it.
struct ExportActor {
  std::string name;    // a person, or "vigied" for scheduled runs
  std::string origin;  // "cli", "scheduler"...
  const core::Clock& clock;
};

// ---- Where things live in the home --------------------------------------------------------
struct ExportPaths {
  std::filesystem::path dir;          // <home>/export (mode 0700)
  std::filesystem::path signing_key;  // secret, mode 0600
  std::filesystem::path signing_pub;
  std::filesystem::path ssh_key;  // dedicated SSH client key (OpenSSH format, mode 0600)
  // One known_hosts file per PC (NAME inside), written from its registered host key only, so
  // that two PCs behind one address never vouch for each other's key.
  std::filesystem::path known_hosts_dir;
  std::filesystem::path outbox;
};
ExportPaths export_paths(const std::filesystem::path& home, const core::Config& config);

struct KeygenResult {
  std::string signing_key_id;
  std::string signing_public_text;  // to install on every strategic PC
  std::string ssh_public_key;       // to put in each PC's authorized_keys
};
// Creates the signing key and the SSH key (never overwrites an existing one: kConflict).
Result<KeygenResult> create_export_keys(store::Store& store, const std::filesystem::path& home,
                                        const core::Config& config, const ExportActor& actor);
Result<SigningKeyPair> load_signing_key(const std::filesystem::path& home,
                                        const core::Config& config);

// ---- Degraded-mode procedures: documents the hospital registers ---------------------------
struct ProcedureInput {
  std::string name;  // short key, e.g. "sterilisation-paper-tracing"
  std::string title;
  std::string applies_to;  // service, site or kind of device
  std::filesystem::path file;
};
struct Procedure {
  std::int64_t id = 0;
  std::string name;
  std::string title;
  std::string applies_to;
  std::string document_name;
  std::string document_path;  // relative to the home
  std::string sha256;
  std::int64_t size = 0;
  std::string registered_at;
  std::string registered_by;
};
// Copies the document into <home>/documents (content-addressed) and records it; registering an
// existing name replaces it (the old document stays in the home). Returns the id.
Result<std::int64_t> register_procedure(store::Store& store, const std::filesystem::path& home,
                                        const ProcedureInput& input, const ExportActor& actor);
Status remove_procedure(store::Store& store, std::string_view name, const ExportActor& actor);
Result<std::vector<Procedure>> list_procedures(store::Store& store);

// ---- Vendor contacts (CSV import, docs/resilience-export.md) -------------------------------
struct VendorContact {
  std::string vendor;
  std::string service;       // "hotline", "field service", "security (PSIRT)"...
  std::string contact_name;  // may be empty (a desk rather than a person)
  std::string phone;
  std::string email;
  std::string hours;
  std::string contract;
  std::string notes;
  std::string updated_at;
};
struct ContactImport {
  size_t records = 0;
  size_t created = 0;
  size_t updated = 0;
};
// All or nothing: a bad row refuses the file (file:line column 'x': reason) and changes nothing.
// A row updates the contact of the same vendor (normalised), service and name.
Result<ContactImport> import_vendor_contacts(store::Store& store, const std::filesystem::path& csv,
                                             const ExportActor& actor);
Result<std::vector<VendorContact>> list_vendor_contacts(store::Store& store);

// ---- Strategic PCs -----------------------------------------------------------------------
struct HostInput {
  std::string name;
  std::string ssh;  // "user@host" or "user@host:port"
  std::string remote_dir;
  std::string public_key_text;  // the PC's `vigie export host-keygen` public key
  std::string ssh_host_key;     // "ssh-ed25519 AAAA..." (the PC's /etc/ssh/ssh_host_*.pub)
};
struct ExportHost {
  std::int64_t id = 0;
  std::string name;
  std::string ssh_user;
  std::string ssh_host;
  int ssh_port = 22;
  std::string ssh_host_key;
  std::string remote_dir;
  BoxPublicKey key;
  std::string added_at;
  std::string updated_at;
};
// Adds a PC; `replace` updates one of the same name (new key, address...) instead of refusing.
Result<ExportHost> add_host(store::Store& store, const HostInput& input, bool replace,
                            const ExportActor& actor);
Status remove_host(store::Store& store, std::string_view name, const ExportActor& actor);
Result<std::vector<ExportHost>> list_hosts(store::Store& store);

// ---- One generation --------------------------------------------------------------------
struct ExportCounts {
  std::int64_t devices = 0;
  std::int64_t findings = 0;
  std::int64_t procedures = 0;
  std::int64_t contacts = 0;
};
// The readable files (index.html, csv/*.csv, procedures/*, README.txt) of the current data.
Result<std::vector<ArchiveFile>> export_files(store::Store& store,
                                              const std::filesystem::path& home,
                                              const ArchiveMeta& meta, ExportCounts& counts);

struct Generation {
  std::string name;  // "20261126T010203.042Z"
  std::filesystem::path archive;
  std::string sha256;
  std::int64_t size = 0;
  std::int64_t run_id = 0;
  ExportCounts counts;
  size_t recipients = 0;
};
// Gathers, renders, signs and encrypts for every registered PC, writes the archive durably to
// the outbox, records the run (audited) and keeps the last N generations in the outbox.
Result<Generation> write_generation(store::Store& store, const std::filesystem::path& home,
                                    const core::Config& config, const ExportActor& actor);

enum class PushOutcome { kOk, kUnreachable, kUnverifiable, kFailed };
std::string_view to_string(PushOutcome outcome);

struct PushResult {
  std::string host;
  PushOutcome outcome = PushOutcome::kFailed;
  std::string detail;
  int generations_kept = 0;  // on the PC after rotation
};
struct RunReport {
  Generation generation;
  std::vector<PushResult> pushes;
  [[nodiscard]] bool all_ok() const;
};
// write_generation, then a push to every PC (each recorded and audited). One PC failing does
// not stop the others; the report says which.
Result<RunReport> run_export(store::Store& store, const std::filesystem::path& home,
                             const core::Config& config, const ExportActor& actor);

// ---- Status and alerts -----------------------------------------------------------------
enum class HostState { kOk, kNeverPushed, kStale, kUnreachable, kUnverifiable, kFailed };
std::string_view to_string(HostState state);

struct HostStatus {
  std::string name;
  std::string last_success_at;              // "" when never
  std::optional<std::int64_t> age_seconds;  // since the last success
  std::string last_success_generation;
  std::string last_attempt_at;
  std::string last_outcome;  // of the last attempt
  std::string last_detail;
  HostState state = HostState::kNeverPushed;
  [[nodiscard]] bool needs_alert() const { return state != HostState::kOk; }
};
Result<std::vector<HostStatus>> export_status(store::Store& store, const core::Config& config,
                                              const core::Clock& clock);

// What the lead's alert module raises: one per PC that is not OK.
struct ExportAlert {
  std::string host;
  std::string kind;  // "never", "stale", "unreachable", "unverifiable", "failed"
  std::string message;
};
std::vector<ExportAlert> export_alerts(const std::vector<HostStatus>& statuses,
                                       const core::Config& config);

// ---- Scheduling and pull -----------------------------------------------------------------
// The time of the last generation written, if any.
Result<std::optional<core::TimePoint>> last_run_at(store::Store& store);
// Whether a scheduled hour (export.schedule_hours, UTC) has passed since `last_run`.
bool export_due(const core::Config& config, std::optional<core::TimePoint> last_run,
                core::TimePoint now);

// The latest generation's archive, for a PC pulling it over HTTPS (the API serves these bytes).
struct LatestArchive {
  std::string generation;
  std::string file_name;
  std::string sha256;
  std::string bytes;
};
Result<LatestArchive> latest_archive(store::Store& store, const std::filesystem::path& home,
                                     const core::Config& config);

}  // namespace vigie::resilience
