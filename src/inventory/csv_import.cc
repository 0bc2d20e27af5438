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
  std::string where;                 // file:line
  std::optional<core::Error> error;  // the row was refused; `device` may be incomplete
  bool read = false;                 // a whole device was read (DeviceCheck refused it)
};

// Rows of a batch are reused from batch to batch: their strings keep their capacity, so that
// parsing a row allocates nothing once the first batches have been filled.
struct Batch {
  std::vector<ParsedRow> rows;
  size_t size = 0;
  ParsedRow& next() {
    if (size == rows.size()) rows.emplace_back();
    return rows[size++];
  }
};

// Empties a device for the next row, keeping the capacity of its strings.
void reset(Device& d) {
  static_assert(sizeof(Device) == 672, "a field was added to Device: reset it here");
  for (std::string* s :
       {&d.vendor, &d.vendor_norm, &d.product, &d.product_norm, &d.part_number, &d.serial_number,
        &d.udi, &d.software_version, &d.hardware_revision, &d.os, &d.site, &d.zone, &d.location,
        &d.owner, &d.new_owner, &d.maintenance_contract, &d.created_at, &d.updated_at}) {
    s->clear();
  }
  d.id = 0;
  d.zone_vlan.reset();
  d.zone_trust = Trust::kUnknown;
  d.criticality = Criticality::kOther;
  d.status = DeviceStatus::kInService;
  d.remote_service = false;
  d.identified = true;
  d.interfaces.clear();
  d.open_ports.clear();
}

constexpr size_t kBatchRows = 4096;
constexpr size_t kBatchesInFlight = 4;

// A bounded queue of row batches between the parsing thread and the writing thread.
class RowQueue {
 public:
  // Blocks while the queue is full; false when the consumer closed it.
  bool push(Batch batch) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || batches_.size() < kBatchesInFlight; });
    if (closed_) return false;
    batches_.push_back(std::move(batch));
    not_empty_.notify_one();
    return true;
  }
  // Blocks until a batch arrives; false at the end of input.
  bool pop(Batch& out) {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !batches_.empty() || done_ || closed_; });
    if (batches_.empty()) return false;
    out = std::move(batches_.front());
    batches_.pop_front();
    not_full_.notify_one();
    return true;
  }
  // Hands a consumed batch back so that its rows are reused (and freed, at the end, by the
  // thread that allocated them).
  void recycle(Batch batch) {
    batch.size = 0;
    std::lock_guard lock(mutex_);
    if (spare_.size() < kBatchesInFlight + 1) spare_.push_back(std::move(batch));
  }
  Batch fresh_batch() {
    std::lock_guard lock(mutex_);
    if (spare_.empty()) {
      Batch batch;
      batch.rows.reserve(kBatchRows);
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
  std::deque<Batch> batches_;
  std::vector<Batch> spare_;
  bool done_ = false;
  bool closed_ = false;
};

// Parses, validates and checks rows for duplicates (DeviceCheck), ahead of the writer.
void parse_rows(core::CsvReader& reader, const std::vector<std::optional<Field>>& columns,
                const std::vector<std::string>& names, RowQueue& queue,
                const std::stop_token& stop) {
  const std::string& file = reader.file_name();
  DeviceCheck check;
  check.start(file);
  std::vector<std::string_view> fields;
  Batch batch = queue.fresh_batch();
  auto flush = [&] {
    bool ok = queue.push(std::move(batch));
    batch = queue.fresh_batch();
    return ok;
  };
  while (!stop.stop_requested()) {
    auto got = reader.next(fields);
    if (!got) {  // malformed CSV: the reader cannot resynchronise, so this is the last row
      ParsedRow& row = batch.next();
      row.error = got.error();
      row.read = false;
      break;
    }
    if (!*got) break;
    ParsedRow& row = batch.next();
    reset(row.device);
    row.error.reset();
    size_t line = reader.line();
    row.where.clear();
    fmt::format_to(std::back_inserter(row.where), "{}:{}", file, line);
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
                        fmt::format("{}:column {}", row.where, i + 1)};
      }
    }
    row.read = !row.error;
    if (row.read) row.error = check.check(row.device, row.where);
    if (batch.size == kBatchRows && !flush()) return;
  }
  if (batch.size > 0) flush();
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
  Batch batch;
  while (queue.pop(batch)) {
    for (size_t i = 0; i < batch.size; ++i) {
      ParsedRow& row = batch.rows[i];
      bool go_on = true;
      if (row.error) {
        go_on = row.read ? writer.refuse_checked(std::move(*row.error))
                         : writer.reject(std::move(*row.error));
      } else {
        go_on = writer.add(row.device, present, row.where, /*checked=*/true);
      }
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
