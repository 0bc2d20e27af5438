#include "vigie/audit/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "vigie/core/file.h"
#include "vigie/core/ids.h"
#include "vigie/core/openssl_ptr.h"

namespace vigie::audit {
namespace {

using core::ErrorCode;
using core::fail;
using BioPtr = core::OpenSslPtr<BIO, BIO_free>;
using PKeyPtr = core::OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;
using MdCtxPtr = core::OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;

Digest hash_node(const Digest& left, const Digest& right) {
  std::array<unsigned char, 65> input{};
  input[0] = 0x01;
  std::copy(left.begin(), left.end(), input.begin() + 1);
  std::copy(right.begin(), right.end(), input.begin() + 33);
  Digest out{};
  SHA256(input.data(), input.size(), out.data());
  return out;
}

Digest hash_leaf(const Digest& data) {
  std::array<unsigned char, 33> input{};
  input[0] = 0x00;
  std::copy(data.begin(), data.end(), input.begin() + 1);
  Digest out{};
  SHA256(input.data(), input.size(), out.data());
  return out;
}

std::optional<Digest> from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Digest out{};
  for (size_t i = 0; i < 32; ++i) {
    const auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Result<PKeyPtr> read_key(const std::string& pem, bool is_private) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PKeyPtr key(is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                         : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return fail(ErrorCode::kInvalidInput, "not an Ed25519 PEM key");
  }
  return key;
}

std::string key_id(EVP_PKEY* key) {
  std::array<unsigned char, 32> raw{};
  size_t length = raw.size();
  EVP_PKEY_get_raw_public_key(key, raw.data(), &length);
  return core::sha256_hex(std::string_view(reinterpret_cast<const char*>(raw.data()), length))
      .substr(0, 16);
}

std::string pem_of(EVP_PKEY* key, bool is_private) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (is_private) {
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PUBKEY(bio.get(), key);
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<size_t>(n)};
}

// The hashes of the log's entries in id order, as raw digests.
Result<std::vector<Digest>> leaves_of(store::Store& store) {
  std::vector<Digest> leaves;
  std::string bad;
  auto status =
      store.for_each("SELECT id, hash FROM audit_log ORDER BY id", {}, [&](const store::Row& row) {
        auto d = from_hex(row.text(1));
        if (!d) {
          bad = fmt::format("entry {} has no valid hash", row.integer(0));
          return false;
        }
        leaves.push_back(*d);
        return true;
      });
  if (!status) return tl::unexpected(status.error());
  if (!bad.empty()) return fail(ErrorCode::kInvalidInput, bad);
  return leaves;
}

Result<std::vector<Checkpoint>> read_checkpoints(const std::filesystem::path& file) {
  std::vector<Checkpoint> out;
  if (!std::filesystem::exists(file)) return out;
  auto text = core::read_file(file);
  if (!text) return tl::unexpected(text.error());
  std::istringstream lines(*text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("size") || !j["size"].is_number_integer() ||
        !j.contains("root") || !j["root"].is_string() || !j.contains("signature") ||
        !j["signature"].is_string()) {
      return fail(ErrorCode::kInvalidInput, "not a checkpoint line",
                  fmt::format("{}:{}", file.string(), number));
    }
    out.push_back(Checkpoint{j["size"].get<std::int64_t>(), j["root"].get<std::string>(),
                             j.value("at", ""), j.value("key", ""),
                             j["signature"].get<std::string>()});
  }
  return out;
}

}  // namespace

Digest merkle_root(std::span<const Digest> leaves) {
  if (leaves.empty()) {
    Digest out{};
    SHA256(nullptr, 0, out.data());
    return out;
  }
  // Perfect subtrees left to right (a binary counter); folded right to left they give the
  // RFC 6962 split at the largest power of two.
  std::vector<std::pair<Digest, std::uint64_t>> stack;
  for (const Digest& leaf : leaves) {
    std::pair<Digest, std::uint64_t> node{hash_leaf(leaf), 1};
    while (!stack.empty() && stack.back().second == node.second) {
      node = {hash_node(stack.back().first, node.first), node.second * 2};
      stack.pop_back();
    }
    stack.push_back(node);
  }
  Digest root = stack.back().first;
  for (size_t i = stack.size() - 1; i-- > 0;) root = hash_node(stack[i].first, root);
  return root;
}

std::string Checkpoint::signed_text() const {
  return fmt::format("vigie-audit-checkpoint v1\n{}\n{}\n{}\n", size, root, at);
}

std::string Checkpoint::to_json() const {
  return nlohmann::json{
      {"size", size}, {"root", root}, {"at", at}, {"key", key_id}, {"signature", signature}}
      .dump();
}

Result<SigningKey> load_or_create_key(const std::filesystem::path& key_file) {
  const std::filesystem::path pub = key_file.string() + ".pub";
  if (std::filesystem::exists(key_file)) {
    auto pem = core::read_file(key_file);
    if (!pem) return tl::unexpected(pem.error());
    auto key = read_key(*pem, true);
    if (!key) {
      return fail(ErrorCode::kInvalidInput, key.error().message, key_file.string());
    }
    return SigningKey{*pem, pem_of(key->get(), false)};
  }
  PKeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return fail(ErrorCode::kInternal, "cannot create an Ed25519 key");
  SigningKey out{pem_of(key.get(), true), pem_of(key.get(), false)};
  std::error_code ec;
  std::filesystem::create_directories(key_file.parent_path(), ec);
  VIGIE_TRY(core::write_file_durably(key_file, out.private_pem, 0600));
  VIGIE_TRY(core::write_file_durably(pub, out.public_pem, 0644));
  return out;
}

Result<Checkpoint> write_checkpoint(store::Store& store, const std::filesystem::path& file,
                                    const SigningKey& key, std::string_view at) {
  auto previous = read_checkpoints(file);
  if (!previous) return tl::unexpected(previous.error());
  auto leaves = leaves_of(store);
  if (!leaves) return tl::unexpected(leaves.error());
  if (!previous->empty() && previous->back().size == static_cast<std::int64_t>(leaves->size())) {
    return previous->back();
  }
  auto pkey = read_key(key.private_pem, true);
  if (!pkey) return tl::unexpected(pkey.error());
  Checkpoint c;
  c.size = static_cast<std::int64_t>(leaves->size());
  const Digest root = merkle_root(*leaves);
  c.root = core::to_hex(root.data(), root.size());
  c.at = std::string(at);
  c.key_id = key_id(pkey->get());
  const std::string message = c.signed_text();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::array<unsigned char, 64> signature{};
  size_t length = signature.size();
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey->get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return fail(ErrorCode::kInternal, "cannot sign the checkpoint");
  }
  c.signature = base64(std::string_view(reinterpret_cast<const char*>(signature.data()), length));
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  // Appended and fsync'd: a checkpoint that was written survives a crash.
  const std::string line = c.to_json() + "\n";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::kIo, "cannot open the checkpoint file", file.string());
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) {
    return fail(ErrorCode::kIo, "cannot write the checkpoint", file.string());
  }
  return c;
}

Result<CheckpointReport> verify_against(store::Store& store, const std::filesystem::path& file,
                                        const std::string& public_pem) {
  if (!std::filesystem::exists(file)) {
    return fail(ErrorCode::kNotFound, "no checkpoint file", file.string());
  }
  auto checkpoints = read_checkpoints(file);
  if (!checkpoints) return tl::unexpected(checkpoints.error());
  auto pkey = read_key(public_pem, false);
  if (!pkey) return tl::unexpected(pkey.error());
  auto leaves = leaves_of(store);
  if (!leaves) return tl::unexpected(leaves.error());
  CheckpointReport report;
  int line = 0;
  for (const Checkpoint& c : *checkpoints) {
    ++line;
    const auto broken = [&](std::string problem) {
      report.ok = false;
      report.problem = fmt::format("{}:{}: {}", file.string(), line, problem);
      return report;
    };
    auto signature = unbase64(c.signature);
    const std::string message = c.signed_text();
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!signature ||
        EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey->get()) != 1 ||
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                         signature->size(), reinterpret_cast<const unsigned char*>(message.data()),
                         message.size()) != 1) {
      return broken("the checkpoint's signature does not verify with this key");
    }
    if (c.size < 0 || static_cast<size_t>(c.size) > leaves->size()) {
      return broken(
          fmt::format("the log was truncated: the checkpoint of {} covers {} entries, "
                      "the log has {}",
                      c.at, c.size, leaves->size()));
    }
    const Digest root = merkle_root(std::span(*leaves).first(static_cast<size_t>(c.size)));
    if (core::to_hex(root.data(), root.size()) != c.root) {
      return broken(
          fmt::format("the first {} entries are not those the checkpoint of {} signed "
                      "(edited, deleted, reordered or rewritten)",
                      c.size, c.at));
    }
    ++report.checkpoints;
  }
  return report;
}

}  // namespace vigie::audit
