// CSV inventory import: a header naming the columns (see model.cc for names and synonyms),
// one device per row.
#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "import_internal.h"
#include "vigie/core/csv.h"

namespace vigie::inventory::internal {
namespace {

using core::ErrorCode;

struct ParsedRow {
  Device device;
  std::string where;
  std::optional<core::Error> error;  // the row was refused; `device` is empty
};

constexpr size_t kBatchRows = 4096;
constexpr size_t kBatchesInFlight = 4;

// A bounded queue of row batches between the parsing thread and the writing thread.
class RowQueue {
 public:
  // Blocks while the queue is full; false when the consumer closed it.
  bool push(std::vector<ParsedRow> batch) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || batches_.size() < kBatchesInFlight; });
    if (closed_) return false;
    batches_.push_back(std::move(batch));
    not_empty_.notify_one();
    return true;
  }
  // Blocks until a batch arrives; false at the end of input.
  bool pop(std::vector<ParsedRow>& out) {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !batches_.empty() || done_ || closed_; });
    if (batches_.empty()) return false;
    out = std::move(batches_.front());
    batches_.pop_front();
    not_full_.notify_one();
    return true;
  }
  // Hands a consumed batch back so that its storage is reused: a batch is a few MiB, which
  // malloc would otherwise map and unmap (and the kernel zero) every time.
  void recycle(std::vector<ParsedRow> batch) {
    batch.clear();
    std::lock_guard lock(mutex_);
    if (spare_.size() < kBatchesInFlight) spare_.push_back(std::move(batch));
  }
  std::vector<ParsedRow> fresh_batch() {
    std::lock_guard lock(mutex_);
    if (spare_.empty()) {
      std::vector<ParsedRow> batch;
      batch.reserve(kBatchRows);
      return batch;
    }
    auto batch = std::move(spare_.back());
    spare_.pop_back();
    return batch;
  }
  void finish() {
    std::lock_guard lock(mutex_);
    done_ = true;
    not_empty_.notify_all();
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<std::vector<ParsedRow>> batches_;
  std::vector<std::vector<ParsedRow>> spare_;
  bool done_ = false;
  bool closed_ = false;
};

void parse_rows(core::CsvReader& reader, const std::vector<std::optional<Field>>& columns,
                const std::vector<std::string>& names, RowQueue& queue,
                const std::stop_token& stop) {
  const std::string& file = reader.file_name();
  std::vector<std::string_view> fields;
  std::vector<ParsedRow> batch = queue.fresh_batch();
  auto flush = [&] {
    bool ok = queue.push(std::move(batch));
    batch = queue.fresh_batch();
    return ok;
  };
  while (!stop.stop_requested()) {
    auto got = reader.next(fields);
    if (!got) {  // malformed CSV: the reader cannot resynchronise, so this is the last row
      batch.push_back({{}, {}, got.error()});
      break;
    }
    if (!*got) break;
    ParsedRow row;
    row.where = fmt::format("{}:{}", file, reader.line());
    if (fields.size() != columns.size()) {
      row.error = core::Error{ErrorCode::kInvalidInput,
                              fmt::format("expected {} fields as in the header, found {}",
                                          columns.size(), fields.size()),
                              row.where};
    }
    for (size_t i = 0; i < fields.size() && !row.error; ++i) {
      if (!columns[i]) continue;
      if (auto why = set_field(row.device, *columns[i], fields[i])) {
        row.error =
            core::Error{ErrorCode::kInvalidInput, fmt::format("column '{}': {}", names[i], *why),
                        fmt::format("{}:{}:column {}", file, reader.line(), i + 1)};
      }
    }
    batch.push_back(std::move(row));
    if (batch.size() == kBatchRows && !flush()) return;
  }
  if (!batch.empty()) flush();
  queue.finish();
}

}  // namespace

void import_csv(DeviceWriter& writer, const std::filesystem::path& path,
                const ImportOptions& options) {
  auto reader = core::CsvReader::open(path);
  if (!reader) return void(writer.reject(reader.error()));
  std::vector<std::string_view> fields;
  auto got = reader->next(fields);
  if (!got) return void(writer.reject(got.error()));
  if (!*got) {
    return void(writer.reject({ErrorCode::kInvalidInput, "empty file: a header line is required",
                               fmt::format("{}:1", path.string())}));
  }
  // Column index -> field (nullopt: ignored column).
  std::vector<std::optional<Field>> columns;
  std::vector<std::string> names;
  FieldMask present;
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string where = fmt::format("{}:1:column {}", path.string(), i + 1);
    names.emplace_back(fields[i]);
    auto field = find_field(fields[i]);
    if (!field) {
      columns.emplace_back();
      if (options.ignore_unknown_columns) continue;
      if (!writer.reject({ErrorCode::kInvalidInput,
                          fmt::format("unknown column '{}' (see docs/inventory-formats.md, or "
                                      "use --ignore-unknown)",
                                      fields[i]),
                          where})) {
        return;
      }
      continue;
    }
    if (has(present, *field)) {
      if (!writer.reject({ErrorCode::kInvalidInput,
                          fmt::format("column '{}' appears twice", fields[i]), where})) {
        return;
      }
    }
    present.set(static_cast<size_t>(*field));
    columns.push_back(field);
  }
  for (Field required : {Field::kVendor, Field::kProduct}) {
    if (!has(present, required)) {
      writer.reject({ErrorCode::kInvalidInput,
                     fmt::format("the header has no '{}' column", fields_info(required).name),
                     fmt::format("{}:1", path.string())});
      return;
    }
  }
  if (writer.failed()) return;

  // Two stages on two threads: this one writes, a reader thread parses and validates rows
  // into batches. Rows keep their order, so errors are reported as in a single pass.
  RowQueue queue;
  std::jthread parser(
      [&](const std::stop_token& stop) { parse_rows(*reader, columns, names, queue, stop); });
  std::vector<ParsedRow> batch;
  while (queue.pop(batch)) {
    for (ParsedRow& row : batch) {
      bool go_on = row.error ? writer.reject(std::move(*row.error))
                             : writer.add(std::move(row.device), present, row.where);
      if (!go_on) {
        parser.request_stop();
        queue.close();
        return;
      }
    }
    queue.recycle(std::move(batch));
  }
}

}  // namespace vigie::inventory::internal
