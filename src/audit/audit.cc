#include "vigie/audit/audit.h"

#include <openssl/evp.h>

#include <array>
#include <memory>

#include <fmt/format.h>

namespace vigie::audit {
namespace {

struct DigestDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

void add_field(EVP_MD_CTX* ctx, std::string_view field) {
  const std::string length = fmt::format("{}:", field.size());
  EVP_DigestUpdate(ctx, length.data(), length.size());
  EVP_DigestUpdate(ctx, field.data(), field.size());
}

}  // namespace

std::string entry_hash(std::string_view prev_hash, std::int64_t id, std::string_view at,
                       const Entry& entry) {
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  add_field(ctx.get(), prev_hash);
  add_field(ctx.get(), std::to_string(id));
  add_field(ctx.get(), at);
  add_field(ctx.get(), entry.actor);
  add_field(ctx.get(), entry.action);
  add_field(ctx.get(), entry.object);
  add_field(ctx.get(), entry.origin);
  add_field(ctx.get(), entry.details);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest.data(), &length);
  std::string hex;
  hex.reserve(static_cast<size_t>(length) * 2);
  for (unsigned i = 0; i < length; ++i)
    fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  return hex;
}

namespace {

// The last entry of the log, under the table's lock: {0, ""} when it is empty.
Result<std::pair<std::int64_t, std::string>> locked_head(store::Store& store) {
  VIGIE_TRY(store.lock_table("audit_log"));
  auto last = store.query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1");
  if (!last) return tl::unexpected(last.error());
  if (last->empty()) return std::pair<std::int64_t, std::string>{0, ""};
  return std::pair<std::int64_t, std::string>{last->front().integer(0), last->front().text(1)};
}

}  // namespace

Result<std::int64_t> append(store::Store& store, const Entry& entry, std::string_view at) {
  auto head = locked_head(store);
  if (!head) return tl::unexpected(head.error());
  const std::int64_t id = head->first + 1;
  const std::string hash = entry_hash(head->second, id, at, entry);
  const store::Value params[] = {id,           std::string(at), entry.actor,   entry.action,
                                 entry.object, entry.origin,    entry.details, head->second,
                                 hash};
  VIGIE_TRY(store.execute(
      "INSERT INTO audit_log (id, at, actor, action, object, origin, details, prev_hash, hash) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      params));
  return id;
}

Result<Appender> Appender::start(store::Store& store) {
  auto head = locked_head(store);
  if (!head) return tl::unexpected(head.error());
  static constexpr std::string_view kColumns[] = {
      "id", "at", "actor", "action", "object", "origin", "details", "prev_hash", "hash"};
  auto rows = store.inserter("audit_log", kColumns);
  if (!rows) return tl::unexpected(rows.error());
  return Appender(std::move(*rows), head->first, std::move(head->second));
}

Result<std::int64_t> Appender::append(const Entry& entry, std::string_view at) {
  const std::int64_t id = last_id_ + 1;
  std::string hash = entry_hash(last_hash_, id, at, entry);
  const store::Value row[] = {id,           std::string(at), entry.actor,   entry.action,
                              entry.object, entry.origin,    entry.details, last_hash_,
                              hash};
  VIGIE_TRY(rows_->add(row));
  last_id_ = id;
  last_hash_ = std::move(hash);
  return id;
}

Status Appender::finish() { return rows_->finish(); }

Result<Verification> verify(store::Store& store) {
  Verification v;
  std::string prev;
  std::int64_t expected_id = 0;
  auto status = store.for_each(
      "SELECT id, at, actor, action, object, origin, details, prev_hash, hash FROM audit_log "
      "ORDER BY id",
      {}, [&](const store::Row& row) {
        const std::int64_t id = row.integer(0);
        const Entry entry{row.text(2), row.text(3), row.text(4), row.text(5), row.text(6)};
        const auto fail_at = [&](std::string problem) {
          v.ok = false;
          v.first_bad_id = id;
          v.problem = std::move(problem);
          return false;
        };
        if (expected_id != 0 && id != expected_id) {
          return fail_at(fmt::format("entry {} is missing (next is {})", expected_id, id));
        }
        if (row.text(7) != prev) return fail_at("the link to the previous entry is broken");
        if (entry_hash(prev, id, row.text(1), entry) != row.text(8)) {
          return fail_at("the entry's content does not match its hash");
        }
        prev = row.text(8);
        expected_id = id + 1;
        ++v.entries;
        return true;
      });
  if (!status) return tl::unexpected(status.error());
  v.head = prev;
  return v;
}

}  // namespace vigie::audit
