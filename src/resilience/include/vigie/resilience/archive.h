// The disaster-recovery archive: a set of files (HTML, CSV, procedures) with a signed manifest,
// encrypted once with a random key that is sealed to each strategic PC, and signed as a whole
// by the hospital's Ed25519 key. The byte layout is documented in docs/resilience-export.md;
// verification needs nothing but this file, the signer's public key and (to read the content)
// a PC's secret key.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::resilience {

using core::Result;
using core::Status;

// Overwrites memory the compiler may not optimise away (sodium_memzero).
void wipe(void* data, size_t size);

// Key material, zeroed when it goes out of scope.
template <size_t N>
class SecretBytes {
 public:
  SecretBytes() = default;
  SecretBytes(const SecretBytes&) = default;
  SecretBytes& operator=(const SecretBytes&) = default;
  ~SecretBytes() { wipe(bytes_.data(), bytes_.size()); }
  std::array<std::uint8_t, N>& bytes() { return bytes_; }
  [[nodiscard]] const std::array<std::uint8_t, N>& bytes() const { return bytes_; }

 private:
  std::array<std::uint8_t, N> bytes_{};
};

// The hospital's signing key (Ed25519, libsodium crypto_sign).
struct SigningPublicKey {
  std::array<std::uint8_t, 32> bytes{};
  // First 8 bytes of SHA-256 of the key, in hex: how files and people name a key.
  [[nodiscard]] std::string key_id() const;
};
struct SigningKeyPair {
  SigningPublicKey public_key;
  SecretBytes<64> secret;
};

// A strategic PC's encryption key (X25519, libsodium crypto_box).
struct BoxPublicKey {
  std::array<std::uint8_t, 32> bytes{};
  [[nodiscard]] std::string key_id() const;
};
struct BoxKeyPair {
  BoxPublicKey public_key;
  SecretBytes<32> secret;
};

SigningKeyPair generate_signing_key();
BoxKeyPair generate_box_key();

// Key files are one line "KIND:HEX" so that a file used in the wrong place is named as such.
enum class KeyKind { kSigningPublic, kSigningSecret, kBoxPublic, kBoxSecret };
std::string_view key_kind_label(KeyKind kind);
std::string key_text(const SigningPublicKey& key);
std::string key_text(const SigningKeyPair& key);  // the secret (it holds the public half)
std::string key_text(const BoxPublicKey& key);
std::string key_text(const BoxKeyPair& key);  // the secret
// Parse key text (as written above; a bare hex public key is accepted). `where` names the
// source in errors.
Result<SigningPublicKey> parse_signing_public(std::string_view text, std::string_view where);
Result<SigningKeyPair> parse_signing_secret(std::string_view text, std::string_view where);
Result<BoxPublicKey> parse_box_public(std::string_view text, std::string_view where);
Result<BoxKeyPair> parse_box_secret(std::string_view text, std::string_view where);

// Secret key files: written with mode 0600; a file readable by group or others is refused.
Status write_secret_key_file(const std::filesystem::path& path, std::string_view text);
Result<std::string> read_secret_key_file(const std::filesystem::path& path);
// A public key given as a path to a key file or as the key text itself.
Result<std::string> key_argument_text(std::string_view argument);

struct ArchiveFile {
  std::string path;  // relative, '/'-separated: "index.html", "csv/devices.csv"
  std::string media_type;
  std::string data;
};

// What the header and the signed manifest both state, and verify compares.
struct ArchiveMeta {
  std::string generation;  // "20261126T010203.042Z"
  std::string created_at;  // ISO 8601 UTC
  std::string site;
  std::string vigie_version;
};

struct Recipient {
  std::string name;
  BoxPublicKey key;
};

inline constexpr std::string_view kArchiveMagic = "VIGIEDR1";
inline constexpr int kArchiveFormatVersion = 1;
inline constexpr size_t kArchiveChunk = size_t{64} * 1024;
inline constexpr size_t kMaxArchiveBytes = size_t{2} << 30;

// The manifest (JSON text) of `files` and the plaintext stream: manifest length, manifest,
// its signature, then every file's bytes in manifest order.
std::string manifest_json(const ArchiveMeta& meta, const std::string& signer_key_id,
                          const std::vector<ArchiveFile>& files);
std::string payload(std::string_view manifest, const SigningKeyPair& signer,
                    const std::vector<ArchiveFile>& files);
// Encrypts `plaintext` for the recipients and signs the whole archive.
Result<std::string> seal_archive(const ArchiveMeta& meta, std::string_view plaintext,
                                 const SigningKeyPair& signer,
                                 const std::vector<Recipient>& recipients);
// manifest_json + payload + seal_archive.
Result<std::string> build_archive(const ArchiveMeta& meta, const std::vector<ArchiveFile>& files,
                                  const SigningKeyPair& signer,
                                  const std::vector<Recipient>& recipients);

struct ManifestEntry {
  std::string path;
  std::string media_type;
  std::uint64_t size = 0;
  std::string sha256;
};

struct VerifiedArchive {
  ArchiveMeta meta;
  std::string signer_key_id;
  std::vector<std::string> recipients;  // "name (key id)"
  bool decrypted = false;               // the manifest and the files were checked too
  std::vector<ManifestEntry> manifest;
  std::vector<ArchiveFile> files;
};

// Checks the archive's structure and outer signature against `trusted`; with `host`, also
// decrypts it and checks the manifest's signature, the Vigie version and every file's SHA-256.
// A refusal is kInvalidInput with the reason ("where" is `name`). When `name` is a file named
// "vigie-dr-GENERATION.vdr", GENERATION must be the one the signed header states.
Result<VerifiedArchive> verify_archive(std::string_view bytes, const SigningPublicKey& trusted,
                                       const BoxKeyPair* host, std::string_view name);

// Writes verified files under `dir` (created; existing files are replaced).
Status unpack_files(const VerifiedArchive& archive, const std::filesystem::path& dir);

}  // namespace vigie::resilience
