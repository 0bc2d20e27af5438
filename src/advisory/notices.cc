#include "vigie/advisory/notices.h"

#include <fmt/format.h>

#include <charconv>

#include "vigie/core/file.h"
#include "vigie/core/ids.h"
#include "vigie/core/text.h"
#include "vigie/store/store.h"

namespace vigie::advisory {
namespace {

using core::ErrorCode;
using core::fail;
using store::Value;

Status check_date(std::string_view what, const std::string& date) {
  if (date.size() != 10 || !core::parse_utc(date)) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("{} '{}' is not a date (YYYY-MM-DD)", what, date));
  }
  return {};
}

constexpr std::string_view kNoticeSql =
    "SELECT n.id, n.reference, n.title, n.advisory_id, a.tracking_id, n.received_on, n.channel, "
    "n.forwarded_to, n.response_required, n.response_due, n.ack_by, n.ack_on, n.ack_reference, "
    "n.document_name, n.document_path, n.document_sha256, n.created_at, n.created_by, "
    "(SELECT COUNT(*) FROM findings f WHERE f.advisory_id = n.advisory_id "
    "   AND f.verdict = 'affected'), "
    "(SELECT COUNT(*) FROM findings f WHERE f.advisory_id = n.advisory_id "
    "   AND (f.verdict = 'affected' OR f.verdict = 'unknown' "
    "        OR f.verdict = 'under_investigation') "
    "   AND (f.status = 'open' OR f.status = 'in_progress' "
    "        OR (f.status = 'risk_accepted' AND f.accepted_until < ?))) "
    "FROM notices n LEFT JOIN advisories a ON a.id = n.advisory_id";

Notice notice_of(const store::Row& r, const std::string& today) {
  Notice n;
  n.id = r.integer(0);
  n.reference = r.text(1);
  n.title = r.text(2);
  n.advisory_id = r.integer(3);
  n.advisory = r.text(4);
  n.received_on = r.text(5);
  n.channel = r.text(6);
  n.forwarded_to = r.text(7);
  n.response_required = r.integer(8) != 0;
  n.response_due = r.text(9);
  n.ack_by = r.text(10);
  n.ack_on = r.text(11);
  n.ack_reference = r.text(12);
  n.document_name = r.text(13);
  n.document_path = r.text(14);
  n.document_sha256 = r.text(15);
  n.created_at = r.text(16);
  n.created_by = r.text(17);
  n.affected_devices = r.integer(18);
  n.open_findings = r.integer(19);
  bool acknowledged = !n.ack_on.empty();
  n.response_overdue = n.response_required && !acknowledged && n.response_due < today;
  n.complete = (!n.response_required || acknowledged) && n.open_findings == 0;
  return n;
}

Result<std::vector<Notice>> query_notices(store::Store& s, const std::string& where,
                                          std::vector<Value> params, const core::Clock& clock) {
  std::string today = core::format_date(clock.now());
  params.insert(params.begin(), today);
  auto rows = s.query(std::string(kNoticeSql) + where + " ORDER BY n.received_on, n.id", params);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<Notice> out;
  for (const auto& r : *rows) out.push_back(notice_of(r, today));
  return out;
}

// The document, kept under its content's hash so that a letter received twice is stored once.
Result<std::pair<std::string, std::string>> keep_document(const std::filesystem::path& home,
                                                          const std::filesystem::path& document) {
  auto content = core::read_file(document);
  if (!content) return tl::unexpected(content.error());
  std::string sha = core::sha256_hex(*content);
  std::string ext = core::ascii_lower(document.extension().string());
  if (ext.size() > 8 ||
      ext.find_first_not_of(".abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos) {
    ext.clear();
  }
  std::filesystem::path relative = std::filesystem::path("documents") / (sha + ext);
  std::error_code ec;
  std::filesystem::create_directories(home / "documents", ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create the documents folder: " + ec.message());
  if (!std::filesystem::exists(home / relative, ec)) {
    VIGIE_TRY(core::write_file_durably(home / relative, *content, 0640));
  }
  return std::make_pair(relative.string(), sha);
}

}  // namespace

Result<std::int64_t> add_notice(store::Store& s, const std::filesystem::path& home,
                                const NoticeInput& in, const Actor& actor) {
  if (core::trim(in.reference).empty()) {
    return fail(ErrorCode::kInvalidInput, "a notice needs its reference");
  }
  if (core::trim(in.channel).empty()) {
    return fail(ErrorCode::kInvalidInput, "how the notice came is required (--channel)");
  }
  VIGIE_TRY(check_date("received date", in.received_on));
  std::string due = in.response_due;
  if (!due.empty()) VIGIE_TRY(check_date("response due date", due));
  if (in.response_days < 0 || in.response_days > 3650) {
    return fail(ErrorCode::kInvalidInput, "response days must be between 0 and 3650");
  }
  if (due.empty() && in.response_days > 0) {
    due = core::date_after(*core::parse_utc(in.received_on), in.response_days);
  }
  std::int64_t advisory_id = 0;
  std::string title = in.title;
  if (!in.advisory.empty()) {
    auto id = find_advisory(s, in.advisory);
    if (!id) return tl::unexpected(id.error());
    advisory_id = *id;
    if (title.empty()) {
      std::vector<Value> p = {advisory_id};
      auto rows = s.query("SELECT title FROM advisories WHERE id = ?", p);
      if (rows && !rows->empty()) title = rows->front().text(0);
    }
  }
  if (title.empty()) title = in.reference;
  std::pair<std::string, std::string> doc;
  if (!in.document.empty()) {
    auto kept = keep_document(home, in.document);
    if (!kept) return tl::unexpected(kept.error());
    doc = *kept;
  }
  auto tx = store::Transaction::begin(s);
  if (!tx) return tl::unexpected(tx.error());
  std::vector<Value> key = {in.reference};
  auto taken = s.query_int("SELECT COUNT(*) FROM notices WHERE reference = ?", key);
  if (!taken) return tl::unexpected(taken.error());
  if (*taken > 0) {
    return fail(ErrorCode::kConflict, fmt::format("notice '{}' already exists", in.reference));
  }
  VIGIE_TRY(s.lock_table("notices"));
  auto id = s.next_id("notices");
  if (!id) return tl::unexpected(id.error());
  auto opt = [](const std::string& v) { return v.empty() ? Value(nullptr) : Value(v); };
  std::vector<Value> p = {
      *id,
      advisory_id == 0 ? Value(nullptr) : Value(advisory_id),
      in.reference,
      title,
      in.received_on,
      in.channel,
      opt(in.forwarded_to),
      std::int64_t{due.empty() ? 0 : 1},
      opt(due),
      opt(in.document.empty() ? std::string() : in.document.filename().string()),
      opt(doc.first),
      opt(doc.second),
      core::format_utc(actor.clock.now()),
      actor.name};
  VIGIE_TRY(s.execute(
      "INSERT INTO notices (id, advisory_id, reference, title, received_on, channel, "
      "forwarded_to, response_required, response_due, document_name, document_path, "
      "document_sha256, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      p));
  VIGIE_TRY(tx->commit());
  return *id;
}

Status acknowledge_notice(store::Store& s, std::string_view notice, const Acknowledgement& ack,
                          const Actor& actor) {
  if (core::trim(ack.by).empty()) {
    return fail(ErrorCode::kInvalidInput, "who signed the acknowledgement is required (--by)");
  }
  VIGIE_TRY(check_date("acknowledgement date", ack.on));
  auto n = get_notice(s, notice, actor.clock);
  if (!n) return tl::unexpected(n.error());
  if (ack.on < n->received_on) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("acknowledged on {} before the notice was received ({})", ack.on,
                            n->received_on));
  }
  std::vector<Value> p = {ack.by, ack.on,
                          ack.reference.empty() ? Value(nullptr) : Value(ack.reference), n->id};
  return s.execute("UPDATE notices SET ack_by = ?, ack_on = ?, ack_reference = ? WHERE id = ?", p);
}

Result<std::vector<Notice>> list_notices(store::Store& s, const core::Clock& clock) {
  return query_notices(s, "", {}, clock);
}

Result<Notice> get_notice(store::Store& s, std::string_view notice, const core::Clock& clock) {
  auto found = query_notices(s, " WHERE n.reference = ?", {std::string(notice)}, clock);
  if (!found) return tl::unexpected(found.error());
  if (found->empty()) {
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(notice.data(), notice.data() + notice.size(), id);
    if (ec == std::errc() && end == notice.data() + notice.size()) {
      found = query_notices(s, " WHERE n.id = ?", {id}, clock);
      if (!found) return tl::unexpected(found.error());
    }
  }
  if (found->empty()) {
    return fail(ErrorCode::kNotFound, fmt::format("no notice '{}' (reference or number)", notice));
  }
  return found->front();
}

Result<std::vector<Notice>> notices_of_device(store::Store& s, std::int64_t device_id,
                                              const core::Clock& clock) {
  return query_notices(s,
                       " WHERE n.advisory_id IN (SELECT f.advisory_id FROM findings f WHERE "
                       "f.device_id = ? AND f.verdict <> 'not_affected')",
                       {device_id}, clock);
}

}  // namespace vigie::advisory
