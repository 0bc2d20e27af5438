#include "vigie/resilience/archive.h"

#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "vigie/core/file.h"
#include "vigie/core/ids.h"
#include "vigie/core/text.h"

namespace vigie::resilience {
namespace {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

void init_sodium() {
  // Idempotent and thread-safe; fails only when the system has no randomness at all.
  if (sodium_init() < 0) std::abort();
}

std::string to_hex(const std::uint8_t* data, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

template <size_t N>
bool from_hex(std::string_view hex, std::array<std::uint8_t, N>& out) {
  if (hex.size() != N * 2) return false;
  size_t length = 0;
  return sodium_hex2bin(out.data(), N, hex.data(), hex.size(), nullptr, &length, nullptr) == 0 &&
         length == N;
}

std::string key_id_of(const std::array<std::uint8_t, 32>& key) {
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), key.data(), key.size());
  return to_hex(digest.data(), 8);
}

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

std::uint32_t get_u32(std::string_view in, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data() + at);
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

const auto* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// "KIND:HEX" with the label checked; a bare hex string is accepted for public keys.
Result<std::string> key_hex(std::string_view text, KeyKind kind, std::string_view where) {
  std::string_view t = core::trim(text);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
  t = core::trim(t);
  const std::string_view label = key_kind_label(kind);
  auto colon = t.find(':');
  if (colon == std::string_view::npos) {
    if (kind == KeyKind::kSigningPublic || kind == KeyKind::kBoxPublic) return std::string(t);
    return fail(ErrorCode::kInvalidInput, fmt::format("not a key file: expected '{}:HEX'", label),
                std::string(where));
  }
  if (t.substr(0, colon) != label) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("this is a '{}', expected a '{}'", t.substr(0, colon), label),
                std::string(where));
  }
  return std::string(t.substr(colon + 1));
}

core::Error bad_key(std::string_view label, std::string_view where) {
  return {ErrorCode::kInvalidInput, fmt::format("malformed {} (wrong length or not hex)", label),
          std::string(where)};
}

bool safe_path(std::string_view path) {
  if (path.empty() || path.size() > 200 || path.front() == '/' || path.back() == '/') return false;
  if (path.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ._-/") !=
      std::string_view::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

core::Error refused(std::string_view name, std::string message) {
  return {ErrorCode::kInvalidInput, std::move(message), std::string(name)};
}

json meta_json(const ArchiveMeta& meta) {
  return {{"generation", meta.generation},
          {"created_at", meta.created_at},
          {"site", meta.site},
          {"vigie_version", meta.vigie_version}};
}

// A version this verifier reads: "MAJOR.MINOR.PATCH" with MAJOR 0 (the format of this release).
bool supported_version(const std::string& version) {
  int major = -1;
  int minor = -1;
  int patch = -1;
  char tail = 0;
  // NOLINTNEXTLINE(cert-err34-c): the count of converted fields is checked.
  if (std::sscanf(version.c_str(), "%d.%d.%d%c", &major, &minor, &patch, &tail) != 3) return false;
  return major == 0 && minor >= 0 && patch >= 0;
}

// The parsed fixed part of an archive: header and frame positions.
struct Layout {
  json header;
  std::string_view signed_part;
  std::string_view signature;
  std::vector<std::string_view> frames;
};

Result<Layout> parse_layout(std::string_view bytes, std::string_view name) {
  Layout l;
  const size_t minimum = kArchiveMagic.size() + 4 + crypto_sign_BYTES;
  if (bytes.size() < minimum || bytes.substr(0, kArchiveMagic.size()) != kArchiveMagic) {
    return tl::unexpected(refused(name, "not a Vigie disaster-recovery archive (bad magic)"));
  }
  if (bytes.size() > kMaxArchiveBytes) {
    return tl::unexpected(refused(name, "larger than the 2 GiB an archive may be"));
  }
  const std::uint32_t header_size = get_u32(bytes, kArchiveMagic.size());
  size_t at = kArchiveMagic.size() + 4;
  if (header_size == 0 || header_size > (1U << 20) ||
      at + header_size + crypto_sign_BYTES > bytes.size()) {
    return tl::unexpected(refused(name, "truncated: the header runs past the end of the file"));
  }
  try {
    l.header = json::parse(bytes.substr(at, header_size));
  } catch (const json::exception& e) {
    return tl::unexpected(refused(name, fmt::format("the header is not JSON: {}", e.what())));
  }
  if (!l.header.is_object()) return tl::unexpected(refused(name, "the header is not an object"));
  at += header_size;
  const size_t end = bytes.size() - crypto_sign_BYTES;
  while (at < end) {
    if (at + 4 > end) return tl::unexpected(refused(name, "truncated: a frame length is cut"));
    const std::uint32_t size = get_u32(bytes, at);
    at += 4;
    if (size < crypto_secretstream_xchacha20poly1305_ABYTES ||
        size > kArchiveChunk + crypto_secretstream_xchacha20poly1305_ABYTES || at + size > end) {
      return tl::unexpected(
          refused(name, fmt::format("truncated or corrupted: frame {} claims {} bytes at offset {}",
                                    l.frames.size() + 1, size, at - 4)));
    }
    l.frames.push_back(bytes.substr(at, size));
    at += size;
  }
  if (l.frames.empty()) return tl::unexpected(refused(name, "truncated: no encrypted content"));
  l.signed_part = bytes.substr(0, end);
  l.signature = bytes.substr(end);
  return l;
}

std::string text_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::string> decrypt(const Layout& l, const BoxKeyPair& host, std::string_view name) {
  const std::string host_id = host.public_key.key_id();
  std::string sealed_hex;
  if (auto r = l.header.find("recipients"); r != l.header.end() && r->is_array()) {
    for (const auto& rec : *r) {
      if (rec.is_object() && text_field(rec, "key_id") == host_id) {
        sealed_hex = text_field(rec, "sealed_key");
      }
    }
  }
  if (sealed_hex.empty()) {
    return tl::unexpected(
        refused(name, fmt::format("not encrypted for this host's key (key id {})", host_id)));
  }
  std::array<std::uint8_t, crypto_box_SEALBYTES + crypto_secretstream_xchacha20poly1305_KEYBYTES>
      sealed{};
  std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_HEADERBYTES> stream_header{};
  if (!from_hex(sealed_hex, sealed) ||
      !from_hex(text_field(l.header, "stream_header"), stream_header)) {
    return tl::unexpected(refused(name, "malformed sealed key or stream header"));
  }
  SecretBytes<crypto_secretstream_xchacha20poly1305_KEYBYTES> key;
  if (crypto_box_seal_open(key.bytes().data(), sealed.data(), sealed.size(),
                           host.public_key.bytes.data(), host.secret.bytes().data()) != 0) {
    return tl::unexpected(refused(name, "the sealed key does not open with this host's key"));
  }
  crypto_secretstream_xchacha20poly1305_state state;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&state, stream_header.data(),
                                                      key.bytes().data()) != 0) {
    return tl::unexpected(refused(name, "bad stream header"));
  }
  std::string plain;
  std::vector<unsigned char> chunk(kArchiveChunk);
  for (size_t i = 0; i < l.frames.size(); ++i) {
    unsigned long long length = 0;
    unsigned char tag = 0;
    const auto& f = l.frames[i];
    if (crypto_secretstream_xchacha20poly1305_pull(&state, chunk.data(), &length, &tag, bytes_of(f),
                                                   f.size(), nullptr, 0) != 0) {
      return tl::unexpected(
          refused(name, fmt::format("frame {} does not decrypt (altered)", i + 1)));
    }
    const bool last = i + 1 == l.frames.size();
    if ((tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) != last) {
      return tl::unexpected(refused(
          name, last ? "truncated: the final frame is missing" : "frames after the final one"));
    }
    plain.append(reinterpret_cast<const char*>(chunk.data()), length);
  }
  sodium_memzero(&state, sizeof state);
  return plain;
}

Status check_payload(std::string_view plain, const SigningPublicKey& trusted, const Layout& l,
                     VerifiedArchive& out, std::string_view name) {
  if (plain.size() < 4) return tl::unexpected(refused(name, "the content is empty"));
  const std::uint32_t manifest_size = get_u32(plain, 0);
  if (4 + std::uint64_t{manifest_size} + crypto_sign_BYTES > plain.size()) {
    return tl::unexpected(refused(name, "the manifest runs past the end of the content"));
  }
  std::string_view manifest_text = plain.substr(4, manifest_size);
  std::string_view manifest_sig = plain.substr(4 + manifest_size, crypto_sign_BYTES);
  if (crypto_sign_verify_detached(bytes_of(manifest_sig), bytes_of(manifest_text),
                                  manifest_text.size(), trusted.bytes.data()) != 0) {
    return tl::unexpected(refused(name, "the manifest's signature does not verify"));
  }
  json manifest;
  try {
    manifest = json::parse(manifest_text);
  } catch (const json::exception& e) {
    return tl::unexpected(refused(name, fmt::format("the manifest is not JSON: {}", e.what())));
  }
  if (!manifest.is_object() || manifest.value("format_version", 0) != kArchiveFormatVersion) {
    return tl::unexpected(refused(name, "unsupported manifest format version"));
  }
  for (const char* key : {"generation", "created_at", "site", "vigie_version", "signer_key_id"}) {
    if (text_field(manifest, key) != text_field(l.header, key)) {
      return tl::unexpected(
          refused(name, fmt::format("the manifest's {} '{}' differs from the header's '{}'", key,
                                    text_field(manifest, key), text_field(l.header, key))));
    }
  }
  auto files = manifest.find("files");
  if (files == manifest.end() || !files->is_array()) {
    return tl::unexpected(refused(name, "the manifest lists no files"));
  }
  size_t at = 4 + manifest_size + crypto_sign_BYTES;
  std::set<std::string> seen;
  for (const auto& f : *files) {
    ManifestEntry e;
    if (!f.is_object() || !f.contains("size") || !f["size"].is_number_unsigned()) {
      return tl::unexpected(refused(name, "a manifest entry is malformed"));
    }
    e.path = text_field(f, "path");
    e.media_type = text_field(f, "media_type");
    e.sha256 = text_field(f, "sha256");
    e.size = f["size"].get<std::uint64_t>();
    if (!safe_path(e.path) || !seen.insert(e.path).second) {
      return tl::unexpected(refused(name, fmt::format("unsafe or repeated path '{}'", e.path)));
    }
    if (e.size > plain.size() - at) {
      return tl::unexpected(refused(name, fmt::format("file {}: truncated", e.path)));
    }
    std::string_view data = plain.substr(at, e.size);
    at += e.size;
    if (core::sha256_hex(data) != e.sha256) {
      return tl::unexpected(
          refused(name, fmt::format("file {}: SHA-256 does not match the manifest", e.path)));
    }
    out.files.push_back({e.path, e.media_type, std::string(data)});
    out.manifest.push_back(std::move(e));
  }
  if (at != plain.size()) {
    return tl::unexpected(
        refused(name, fmt::format("{} bytes after the last file", plain.size() - at)));
  }
  out.decrypted = true;
  return {};
}

}  // namespace

void wipe(void* data, size_t size) { sodium_memzero(data, size); }

std::string SigningPublicKey::key_id() const { return key_id_of(bytes); }
std::string BoxPublicKey::key_id() const { return key_id_of(bytes); }

SigningKeyPair generate_signing_key() {
  init_sodium();
  SigningKeyPair k;
  crypto_sign_keypair(k.public_key.bytes.data(), k.secret.bytes().data());
  return k;
}

BoxKeyPair generate_box_key() {
  init_sodium();
  BoxKeyPair k;
  crypto_box_keypair(k.public_key.bytes.data(), k.secret.bytes().data());
  return k;
}

std::string_view key_kind_label(KeyKind kind) {
  switch (kind) {
    case KeyKind::kSigningPublic:
      return "vigie-export-signing-public-key";
    case KeyKind::kSigningSecret:
      return "vigie-export-signing-secret-key";
    case KeyKind::kBoxPublic:
      return "vigie-export-host-public-key";
    case KeyKind::kBoxSecret:
      return "vigie-export-host-secret-key";
  }
  return "";
}

std::string key_text(const SigningPublicKey& key) {
  return fmt::format("{}:{}\n", key_kind_label(KeyKind::kSigningPublic),
                     to_hex(key.bytes.data(), key.bytes.size()));
}
std::string key_text(const SigningKeyPair& key) {
  return fmt::format("{}:{}\n", key_kind_label(KeyKind::kSigningSecret),
                     to_hex(key.secret.bytes().data(), key.secret.bytes().size()));
}
std::string key_text(const BoxPublicKey& key) {
  return fmt::format("{}:{}\n", key_kind_label(KeyKind::kBoxPublic),
                     to_hex(key.bytes.data(), key.bytes.size()));
}
std::string key_text(const BoxKeyPair& key) {
  return fmt::format("{}:{}\n", key_kind_label(KeyKind::kBoxSecret),
                     to_hex(key.secret.bytes().data(), key.secret.bytes().size()));
}

Result<SigningPublicKey> parse_signing_public(std::string_view text, std::string_view where) {
  auto hex = key_hex(text, KeyKind::kSigningPublic, where);
  if (!hex) return tl::unexpected(hex.error());
  SigningPublicKey k;
  if (!from_hex(*hex, k.bytes)) return tl::unexpected(bad_key("signing public key", where));
  return k;
}

Result<SigningKeyPair> parse_signing_secret(std::string_view text, std::string_view where) {
  init_sodium();
  auto hex = key_hex(text, KeyKind::kSigningSecret, where);
  if (!hex) return tl::unexpected(hex.error());
  SigningKeyPair k;
  if (!from_hex(*hex, k.secret.bytes())) {
    wipe(hex->data(), hex->size());
    return tl::unexpected(bad_key("signing secret key", where));
  }
  wipe(hex->data(), hex->size());
  crypto_sign_ed25519_sk_to_pk(k.public_key.bytes.data(), k.secret.bytes().data());
  return k;
}

Result<BoxPublicKey> parse_box_public(std::string_view text, std::string_view where) {
  auto hex = key_hex(text, KeyKind::kBoxPublic, where);
  if (!hex) return tl::unexpected(hex.error());
  BoxPublicKey k;
  if (!from_hex(*hex, k.bytes)) return tl::unexpected(bad_key("host public key", where));
  return k;
}

Result<BoxKeyPair> parse_box_secret(std::string_view text, std::string_view where) {
  init_sodium();
  auto hex = key_hex(text, KeyKind::kBoxSecret, where);
  if (!hex) return tl::unexpected(hex.error());
  BoxKeyPair k;
  if (!from_hex(*hex, k.secret.bytes())) {
    wipe(hex->data(), hex->size());
    return tl::unexpected(bad_key("host secret key", where));
  }
  wipe(hex->data(), hex->size());
  crypto_scalarmult_base(k.public_key.bytes.data(), k.secret.bytes().data());
  return k;
}

Status write_secret_key_file(const std::filesystem::path& path, std::string_view text) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return fail(ErrorCode::kConflict, "a key already exists here; it is never overwritten",
                path.string());
  }
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return fail(ErrorCode::kIo, "cannot create the key directory: " + ec.message());
  }
  return core::write_file_durably(path, text, 0600);
}

Result<std::string> read_secret_key_file(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail(ErrorCode::kIo, "cannot read the key file (does it exist?)", path.string());
  }
  if ((st.st_mode & 077) != 0) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("the secret key is readable by others (mode {:o}); chmod 600 it",
                            st.st_mode & 0777),
                path.string());
  }
  return core::read_file(path);
}

Result<std::string> key_argument_text(std::string_view argument) {
  if (argument.find(':') != std::string_view::npos ||
      (argument.size() == 64 && argument.find('/') == std::string_view::npos &&
       !std::filesystem::exists(std::string(argument)))) {
    return std::string(argument);
  }
  return core::read_file(std::string(argument));
}

std::string manifest_json(const ArchiveMeta& meta, const std::string& signer_key_id,
                          const std::vector<ArchiveFile>& files) {
  json m = meta_json(meta);
  m["format"] = "vigie-dr-export-manifest";
  m["format_version"] = kArchiveFormatVersion;
  m["signer_key_id"] = signer_key_id;
  json list = json::array();
  for (const auto& f : files) {
    list.push_back({{"path", f.path},
                    {"media_type", f.media_type},
                    {"size", static_cast<std::uint64_t>(f.data.size())},
                    {"sha256", core::sha256_hex(f.data)}});
  }
  m["files"] = std::move(list);
  return m.dump(1);
}

std::string payload(std::string_view manifest, const SigningKeyPair& signer,
                    const std::vector<ArchiveFile>& files) {
  init_sodium();
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(manifest.size()));
  out += manifest;
  std::array<std::uint8_t, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, bytes_of(manifest), manifest.size(),
                       signer.secret.bytes().data());
  out.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  for (const auto& f : files) out += f.data;
  return out;
}

Result<std::string> seal_archive(const ArchiveMeta& meta, std::string_view plaintext,
                                 const SigningKeyPair& signer,
                                 const std::vector<Recipient>& recipients) {
  init_sodium();
  if (recipients.empty()) {
    return fail(ErrorCode::kInvalidInput,
                "no strategic PC to encrypt for: add one with `vigie export host add`");
  }
  SecretBytes<crypto_secretstream_xchacha20poly1305_KEYBYTES> key;
  crypto_secretstream_xchacha20poly1305_keygen(key.bytes().data());
  crypto_secretstream_xchacha20poly1305_state state;
  std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_HEADERBYTES> stream_header{};
  crypto_secretstream_xchacha20poly1305_init_push(&state, stream_header.data(), key.bytes().data());
  json header = meta_json(meta);
  header["format"] = "vigie-dr-export";
  header["format_version"] = kArchiveFormatVersion;
  header["signer_key_id"] = signer.public_key.key_id();
  header["signer_public_key"] =
      to_hex(signer.public_key.bytes.data(), signer.public_key.bytes.size());
  header["cipher"] = "libsodium secretstream xchacha20poly1305, key sealed with crypto_box_seal";
  header["stream_header"] = to_hex(stream_header.data(), stream_header.size());
  json list = json::array();
  for (const auto& r : recipients) {
    std::array<std::uint8_t, crypto_box_SEALBYTES + crypto_secretstream_xchacha20poly1305_KEYBYTES>
        sealed{};
    crypto_box_seal(sealed.data(), key.bytes().data(), key.bytes().size(), r.key.bytes.data());
    list.push_back({{"name", r.name},
                    {"key_id", r.key.key_id()},
                    {"sealed_key", to_hex(sealed.data(), sealed.size())}});
  }
  header["recipients"] = std::move(list);
  const std::string header_text = header.dump(1);

  std::string out(kArchiveMagic);
  put_u32(out, static_cast<std::uint32_t>(header_text.size()));
  out += header_text;
  std::vector<unsigned char> frame(kArchiveChunk + crypto_secretstream_xchacha20poly1305_ABYTES);
  size_t at = 0;
  do {
    const size_t n = std::min(kArchiveChunk, plaintext.size() - at);
    const bool last = at + n == plaintext.size();
    unsigned long long length = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &state, frame.data(), &length, bytes_of(plaintext) + at, n, nullptr, 0,
        last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    put_u32(out, static_cast<std::uint32_t>(length));
    out.append(reinterpret_cast<const char*>(frame.data()), length);
    at += n;
  } while (at < plaintext.size());
  sodium_memzero(&state, sizeof state);
  std::array<std::uint8_t, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, bytes_of(out), out.size(),
                       signer.secret.bytes().data());
  out.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  if (out.size() > kMaxArchiveBytes) {
    return fail(ErrorCode::kInvalidInput, "the export exceeds the 2 GiB an archive may hold");
  }
  return out;
}

Result<std::string> build_archive(const ArchiveMeta& meta, const std::vector<ArchiveFile>& files,
                                  const SigningKeyPair& signer,
                                  const std::vector<Recipient>& recipients) {
  for (const auto& f : files) {
    if (!safe_path(f.path)) {
      return fail(ErrorCode::kInternal, fmt::format("unsafe archive path '{}'", f.path));
    }
  }
  const std::string manifest = manifest_json(meta, signer.public_key.key_id(), files);
  return seal_archive(meta, payload(manifest, signer, files), signer, recipients);
}

Result<VerifiedArchive> verify_archive(std::string_view bytes, const SigningPublicKey& trusted,
                                       const BoxKeyPair* host, std::string_view name) {
  init_sodium();
  auto layout = parse_layout(bytes, name);
  if (!layout) return tl::unexpected(layout.error());
  const json& h = layout->header;
  if (h.value("format_version", 0) != kArchiveFormatVersion) {
    return tl::unexpected(refused(name, "unsupported archive format version"));
  }
  VerifiedArchive out;
  out.meta = {text_field(h, "generation"), text_field(h, "created_at"), text_field(h, "site"),
              text_field(h, "vigie_version")};
  out.signer_key_id = text_field(h, "signer_key_id");
  if (crypto_sign_verify_detached(bytes_of(layout->signature), bytes_of(layout->signed_part),
                                  layout->signed_part.size(), trusted.bytes.data()) != 0) {
    if (out.signer_key_id != trusted.key_id()) {
      return tl::unexpected(
          refused(name, fmt::format("signed by key id {}, not by the trusted key {} (wrong signer)",
                                    out.signer_key_id, trusted.key_id())));
    }
    return tl::unexpected(
        refused(name, "the archive's signature does not verify: it was altered after signing"));
  }
  // An older archive renamed as a newer one: the signed header says which generation it is.
  const std::string file = std::filesystem::path(std::string(name)).filename().string();
  if (file.starts_with("vigie-dr-") && file.ends_with(".vdr") &&
      file != "vigie-dr-" + out.meta.generation + ".vdr") {
    return tl::unexpected(refused(
        name, fmt::format("the file is named for another generation: it holds generation {}",
                          out.meta.generation)));
  }
  if (!supported_version(out.meta.vigie_version)) {
    return tl::unexpected(
        refused(name, fmt::format("written by Vigie '{}', a version this verifier cannot read",
                                  out.meta.vigie_version)));
  }
  if (auto r = h.find("recipients"); r != h.end() && r->is_array()) {
    for (const auto& rec : *r) {
      out.recipients.push_back(
          fmt::format("{} ({})", text_field(rec, "name"), text_field(rec, "key_id")));
    }
  }
  if (host == nullptr) return out;
  auto plain = decrypt(*layout, *host, name);
  if (!plain) return tl::unexpected(plain.error());
  VIGIE_TRY(check_payload(*plain, trusted, *layout, out, name));
  return out;
}

Status unpack_files(const VerifiedArchive& archive, const std::filesystem::path& dir) {
  for (const auto& f : archive.files) {
    if (!safe_path(f.path)) return fail(ErrorCode::kInternal, "unsafe path " + f.path);
    const auto target = dir / f.path;
    std::error_code ec;
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec) return fail(ErrorCode::kIo, "cannot create " + ec.message(), target.parent_path());
    VIGIE_TRY(core::write_file_durably(target, f.data, 0640));
  }
  return {};
}

}  // namespace vigie::resilience
