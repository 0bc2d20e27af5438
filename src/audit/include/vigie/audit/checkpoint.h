// Signed checkpoints of the audit log. The hash chain shows an edited, deleted or reordered
// entry, but not a log cut at its end and re-chained from there; a checkpoint fixes the first
// `size` entries with their RFC 6962 Merkle tree hash (leaves: the entries' hashes), signed with
// Ed25519, one JSON line appended to a file meant to be copied off the machine. verify_against()
// then detects any change to the entries a checkpoint covers, and a log shorter than it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "vigie/core/result.h"
#include "vigie/store/store.h"

namespace vigie::audit {

using core::Result;
using core::Status;

using Digest = std::array<unsigned char, 32>;

// RFC 6962 §2.1 Merkle Tree Hash: leaves hashed with a 0x00 prefix, nodes with 0x01, the left
// subtree the largest power of two smaller than n. The empty tree is SHA-256("").
Digest merkle_root(std::span<const Digest> leaves);

struct Checkpoint {
  std::int64_t size = 0;  // entries covered: ids 1..size
  std::string root;       // hex Merkle tree hash
  std::string at;         // ISO 8601 UTC
  std::string key_id;     // hex SHA-256 of the public key (raw 32 bytes), first 16 characters
  std::string signature;  // base64 Ed25519 over signed_text()
  [[nodiscard]] std::string signed_text() const;
  [[nodiscard]] std::string to_json() const;
};

// The signing key: the PEM private key at `key_file` (created 0600 when missing) and its public
// half at `key_file` + ".pub".
struct SigningKey {
  std::string private_pem;
  std::string public_pem;
};
Result<SigningKey> load_or_create_key(const std::filesystem::path& key_file);

// Signs the log as it is now and appends the checkpoint to `file` (fsync'd). Does nothing and
// returns the last checkpoint when the log has not grown since.
Result<Checkpoint> write_checkpoint(store::Store& store, const std::filesystem::path& file,
                                    const SigningKey& key, std::string_view at);

struct CheckpointReport {
  std::int64_t checkpoints = 0;
  bool ok = true;
  std::string problem;  // "line 3: ..." naming the checkpoint that does not hold
};

// Checks every checkpoint of `file`: its signature with `public_pem`, and that the log's first
// `size` entries still have its Merkle root.
Result<CheckpointReport> verify_against(store::Store& store, const std::filesystem::path& file,
                                        const std::string& public_pem);

}  // namespace vigie::audit
