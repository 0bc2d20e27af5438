#include "vigie/netpolicy/port_table.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include "vigie/core/csv.h"
#include "vigie/core/text.h"
#include "vigie/profile_data.h"

namespace vigie::netpolicy {
namespace {

using core::ErrorCode;

constexpr size_t kMaxYamlBytes = 1 << 20;  // a vendor's table is a few kilobytes
constexpr int kMaxYamlDepth = 32;          // the format needs 3 levels
constexpr size_t kMaxRows = 10000;

// Keys of the profile as a whole and keys of a row. In CSV every row carries the profile's
// columns (and must repeat the same values); in YAML they are top-level keys.
constexpr std::array<std::string_view, 6> kProfileKeys = {"name",     "vendor",   "product",
                                                          "versions", "document", "mud_url"};
constexpr std::array<std::string_view, 12> kRowKeys = {
    "direction",    "inbound", "outbound",  "peer",     "protocol", "ports",
    "source_ports", "purpose", "cleartext", "document", "row",      "quote"};

template <size_t N>
bool is_one_of(const std::array<std::string_view, N>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// A key as written ("Source ports", "source-ports") in its canonical form ("source_ports").
std::string canonical_key(std::string_view text) {
  std::string key = core::ascii_lower(core::trim(text));
  std::replace(key.begin(), key.end(), '-', '_');
  std::replace(key.begin(), key.end(), ' ', '_');
  return key;
}

// One value and where it was read ("file:12:column 3" or "file:12:5").
struct Cell {
  std::string value;
  std::string where;
};

// One row of a table, whatever its form, before it becomes intents.
struct Row {
  std::map<std::string, Cell> cells;  // non-empty values only, by canonical key
  std::string where;                  // the row itself, for missing keys
  std::string locator;                // provenance when the row names none
  std::string quote;
};

// The message prefix naming the key in the form's own word ("column" or "key").
struct Form {
  std::string_view key_word;
};

tl::unexpected<core::Error> refuse(const Form& form, std::string_view key, const Cell& cell,
                                   std::string_view why) {
  return core::fail(ErrorCode::kInvalidInput, fmt::format("{} '{}': {}", form.key_word, key, why),
                    cell.where);
}

const Cell* find(const Row& row, std::string_view key) {
  auto it = row.cells.find(std::string(key));
  return it == row.cells.end() ? nullptr : &it->second;
}

Result<Cell> required(const Form& form, const Row& row, std::string_view key) {
  if (const Cell* c = find(row, key)) return *c;
  return core::fail(ErrorCode::kInvalidInput, fmt::format("{} '{}' is missing", form.key_word, key),
                    row.where);
}

std::optional<bool> parse_flag(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, bool>, 8> kFlags = {{{"y", true},
                                                                               {"yes", true},
                                                                               {"true", true},
                                                                               {"x", true},
                                                                               {"n", false},
                                                                               {"no", false},
                                                                               {"false", false},
                                                                               {"-", false}}};
  const std::string key = core::ascii_lower(core::trim(text));
  for (const auto& [name, flag] : kFlags) {
    if (name == key) return flag;
  }
  return std::nullopt;
}

// "to-device", "from-device", or the letters' words for them.
std::optional<Direction> parse_table_direction(std::string_view text) {
  const std::string key = core::ascii_lower(core::trim(text));
  if (key == "inbound" || key == "in" || key == "to device") return Direction::kToDevice;
  if (key == "outbound" || key == "out" || key == "from device") return Direction::kFromDevice;
  return parse_direction(key);
}

Result<std::vector<Direction>> row_directions(const Form& form, const Row& row) {
  if (const Cell* d = find(row, "direction")) {
    auto direction = parse_table_direction(d->value);
    if (!direction) {
      return refuse(
          form, "direction", *d,
          fmt::format("'{}' is not to-device, from-device, inbound or outbound", d->value));
    }
    return std::vector<Direction>{*direction};
  }
  std::vector<Direction> out;
  for (auto [key, direction] : {std::pair{"inbound", Direction::kToDevice},
                                std::pair{"outbound", Direction::kFromDevice}}) {
    const Cell* c = find(row, key);
    if (c == nullptr) continue;
    auto flag = parse_flag(c->value);
    if (!flag) return refuse(form, key, *c, fmt::format("'{}' is not Y or N", c->value));
    if (*flag) out.push_back(direction);
  }
  if (out.empty()) {
    return core::fail(
        ErrorCode::kInvalidInput,
        fmt::format("no direction: give {0} 'direction', or 'inbound'/'outbound' set to Y",
                    form.key_word),
        row.where);
  }
  return out;
}

// "TCP", "udp", "TCP&UDP" (two intents), "tcp/udp".
Result<std::vector<Protocol>> row_protocols(const Form& form, const Cell& cell) {
  std::vector<Protocol> out;
  std::string_view text = cell.value;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t sep = text.find_first_of("&/+", start);
    const auto item = text.substr(start, sep == std::string_view::npos ? text.npos : sep - start);
    auto protocol = parse_protocol(item);
    if (!protocol) {
      return refuse(form, "protocol", cell,
                    fmt::format("'{}' is not TCP, UDP, ICMP, any or TCP&UDP", core::trim(item)));
    }
    if (std::find(out.begin(), out.end(), *protocol) == out.end()) out.push_back(*protocol);
    if (sep == std::string_view::npos) break;
    start = sep + 1;
  }
  return out;
}

Result<std::vector<PortRange>> row_ports(const Form& form, const Row& row, std::string_view key) {
  const Cell* c = find(row, key);
  if (c == nullptr) return std::vector<PortRange>{};
  auto ports = parse_ports(c->value);
  if (!ports) return refuse(form, key, *c, ports.error().message);
  if (ports->size() == 1 && ports->front().any()) ports->clear();
  return ports;
}

// The intents of one row: one per direction and protocol.
Status add_row(const Form& form, const Row& row, const std::string& document, Profile& out) {
  auto directions = row_directions(form, row);
  if (!directions) return tl::unexpected(directions.error());
  auto peer_cell = required(form, row, "peer");
  if (!peer_cell) return tl::unexpected(peer_cell.error());
  auto peer = parse_peer(peer_cell->value);
  if (!peer) return refuse(form, "peer", *peer_cell, peer.error().message);
  auto protocol_cell = required(form, row, "protocol");
  if (!protocol_cell) return tl::unexpected(protocol_cell.error());
  auto protocols = row_protocols(form, *protocol_cell);
  if (!protocols) return tl::unexpected(protocols.error());
  auto ports = row_ports(form, row, "ports");
  if (!ports) return tl::unexpected(ports.error());
  if (!find(row, "ports")) {
    return core::fail(
        ErrorCode::kInvalidInput,
        fmt::format("{} 'ports' is missing (write 'any' for every port)", form.key_word),
        row.where);
  }
  auto source_ports = row_ports(form, row, "source_ports");
  if (!source_ports) return tl::unexpected(source_ports.error());
  const bool has_ports = !ports->empty() || !source_ports->empty();
  for (Protocol p : *protocols) {
    if (has_ports && p != Protocol::kTcp && p != Protocol::kUdp) {
      return refuse(form, "ports", *find(row, "ports"),
                    fmt::format("{} has no ports: write 'any'", to_string(p)));
    }
  }
  std::optional<bool> cleartext;
  if (const Cell* c = find(row, "cleartext")) {
    cleartext = parse_flag(c->value);
    if (!cleartext) return refuse(form, "cleartext", *c, "not yes or no");
  }
  const Cell* doc = find(row, "document");
  const Cell* locator = find(row, "row");
  const Cell* quote = find(row, "quote");
  const Cell* purpose = find(row, "purpose");
  for (Direction direction : *directions) {
    for (Protocol protocol : *protocols) {
      out.intents.push_back(
          Intent{direction, *peer, protocol, *ports, *source_ports,
                 purpose ? purpose->value : std::string(),
                 cleartext.value_or(default_cleartext(protocol, *ports)),
                 Provenance{doc ? doc->value : document, locator ? locator->value : row.locator,
                            quote ? quote->value : row.quote}});
    }
  }
  return {};
}

// Sets a profile-level value; CSV rows must all agree.
Status set_profile_value(const Form& form, std::string_view key, const Cell& cell,
                         std::map<std::string, Cell>& profile_values) {
  auto [it, inserted] = profile_values.emplace(std::string(key), cell);
  if (!inserted && it->second.value != cell.value) {
    return refuse(form, key, cell,
                  fmt::format("'{}' differs from '{}' given at {}", cell.value, it->second.value,
                              it->second.where));
  }
  return {};
}

Result<Profile> make_profile(const Form& form, const std::map<std::string, Cell>& values,
                             std::string_view file, const std::string& where) {
  auto get = [&](std::string_view key) {
    auto it = values.find(std::string(key));
    return it == values.end() ? std::string() : it->second.value;
  };
  Profile p;
  p.vendor = get("vendor");
  p.product = get("product");
  for (auto [key, value] : {std::pair{"vendor", &p.vendor}, std::pair{"product", &p.product}}) {
    if (value->empty()) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("{} '{}' is missing", form.key_word, key), where);
    }
  }
  p.versions = get("versions");
  if (!p.versions.empty() && !p.versions.starts_with("vers:")) {
    return refuse(form, "versions", values.at("versions"),
                  "a version range is a vers string such as 'vers:generic/>=2.0|<3.1'");
  }
  p.name = get("name");
  if (p.name.empty()) p.name = profile_slug(p.vendor, p.product);
  p.source = get("document");
  if (p.source.empty()) p.source = std::string(file);
  p.mud_url = get("mud_url");
  return p;
}

// CSV ------------------------------------------------------------------------------------

Result<Profile> read_csv(core::CsvReader& reader, const std::string& file) {
  const Form form{"column"};
  std::vector<std::string_view> fields;
  auto got = reader.next(fields);
  if (!got) return tl::unexpected(got.error());
  if (!*got) {
    return core::fail(ErrorCode::kInvalidInput, "empty file: a header line is required",
                      file + ":1");
  }
  std::vector<std::string> columns;
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string key = canonical_key(fields[i]);
    Cell cell{std::string(fields[i]), fmt::format("{}:1:column {}", file, i + 1)};
    if (!is_one_of(kProfileKeys, key) && !is_one_of(kRowKeys, key)) {
      return refuse(form, fields[i], cell,
                    "unknown column (see docs/netpolicy-formats.md, 'Port tables in CSV')");
    }
    if (std::find(columns.begin(), columns.end(), key) != columns.end()) {
      return refuse(form, fields[i], cell, "appears twice");
    }
    columns.push_back(std::move(key));
  }
  std::map<std::string, Cell> profile_values;
  std::vector<Row> rows;
  while (true) {
    got = reader.next(fields);
    if (!got) return tl::unexpected(got.error());
    if (!*got) break;
    const std::string where = fmt::format("{}:{}", file, reader.line());
    if (fields.size() != columns.size()) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("expected {} fields as in the header, found {}", columns.size(),
                                    fields.size()),
                        where);
    }
    if (rows.size() == kMaxRows) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("more than {} rows in one table", kMaxRows), where);
    }
    Row row{{}, where, fmt::format("line {}", reader.line()), {}};
    for (size_t i = 0; i < fields.size(); ++i) {
      if (!row.quote.empty()) row.quote += ',';
      row.quote += core::csv_field(fields[i]);
      const auto value = core::trim(fields[i]);
      Cell cell{std::string(value), fmt::format("{}:{}:column {}", file, reader.line(), i + 1)};
      // "document" is per row in CSV: the provenance of that row.
      if (is_one_of(kProfileKeys, columns[i]) && columns[i] != "document") {
        VIGIE_TRY(set_profile_value(form, columns[i], cell, profile_values));
      } else if (!value.empty()) {
        row.cells.emplace(columns[i], std::move(cell));
      }
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) {
    return core::fail(ErrorCode::kInvalidInput, "no rows after the header", file + ":2");
  }
  auto profile = make_profile(form, profile_values, file, rows.front().where);
  if (!profile) return profile;
  for (const auto& row : rows) VIGIE_TRY(add_row(form, row, file, *profile));
  return profile;
}

// YAML -----------------------------------------------------------------------------------

std::string yaml_where(std::string_view file, const YAML::Mark& mark) {
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

// The deepest nesting yaml-cpp's recursive parser would meet, bounded before it runs: flow
// brackets outside quoted scalars, and per line the indentation plus the block indicators
// ("- - - x") that open a level each. Over-counts rather than under-counts.
class YamlDepth {
 public:
  explicit YamlDepth(std::string_view text) : text_(text) {}

  // The offset of the line where the bound is passed, or nullopt.
  std::optional<size_t> too_deep_at() {
    size_t line_start = 0;
    while (line_start < text_.size()) {
      size_t end = text_.find('\n', line_start);
      if (end == std::string_view::npos) end = text_.size();
      const auto line = text_.substr(line_start, end - line_start);
      const size_t content = quote_ == 0 ? block_prefix(line) : 0;
      if (block_ > kMaxYamlDepth * 2 || !scan(line.substr(content))) return line_start;
      line_start = end + 1;
    }
    return std::nullopt;
  }

 private:
  // Indentation and block indicators at the start of a line; returns where content begins.
  size_t block_prefix(std::string_view line) {
    block_ = 0;
    size_t i = 0;
    while (i < line.size()) {
      const char c = line[i];
      const bool indicator =
          (c == '-' || c == '?' || c == ':') && (i + 1 == line.size() || line[i + 1] == ' ');
      if (c == ' ' || c == '\t') {
        ++block_;
      } else if (indicator) {
        block_ += 2;
      } else if (c == '&' || c == '!') {
        while (i + 1 < line.size() && line[i + 1] != ' ') ++i;
      } else {
        break;
      }
      ++i;
    }
    return i;
  }

  // Flow brackets outside quoted scalars; false when too deep.
  bool scan(std::string_view line) {
    char previous = ' ';  // the last character outside quotes that is not a space
    for (size_t j = 0; j < line.size(); ++j) {
      const char c = line[j];
      if (quote_ == '"') {
        if (c == '\\') {
          ++j;
        } else if (c == '"') {
          quote_ = 0;
          previous = c;
        }
        continue;
      }
      if (quote_ == '\'') {
        if (c == '\'') {
          quote_ = 0;  // or the first of '' (an escaped quote): reopened below
          previous = c;
        }
        continue;
      }
      if ((c == '"' || c == '\'') &&
          std::string_view(" [{,:-?").find(previous) != std::string_view::npos) {
        quote_ = c;
        continue;
      }
      if (c == '\'' && j > 0 && line[j - 1] == '\'') {
        quote_ = c;  // the second quote of ''
        continue;
      }
      if (c == '#' && (j == 0 || line[j - 1] == ' ')) break;
      if (c == '[' || c == '{') ++flow_;
      if (c == ']' || c == '}') flow_ = std::max(0, flow_ - 1);
      if (block_ + flow_ * 2 > kMaxYamlDepth * 2) return false;
      if (c != ' ' && c != '\t') previous = c;
    }
    return true;
  }

  std::string_view text_;
  int flow_ = 0;
  int block_ = 0;
  char quote_ = 0;  // the quote of a scalar that continues on the next line
};

// A scalar, or a sequence of scalars joined with ", " (ports: [80, 4440]).
Result<Cell> yaml_cell(const Form& form, std::string_view file, std::string_view key,
                       const YAML::Node& node) {
  Cell cell{{}, yaml_where(file, node.Mark())};
  if (node.IsNull()) return cell;
  if (node.IsScalar()) {
    cell.value = std::string(core::trim(node.Scalar()));
    return cell;
  }
  if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!item.IsScalar()) return refuse(form, key, cell, "a list of values may hold only values");
      if (!cell.value.empty()) cell.value += ", ";
      cell.value += core::trim(item.Scalar());
    }
    return cell;
  }
  return refuse(form, key, cell, "expected a value, found a mapping");
}

// A mapping's entries by canonical key, refusing duplicates and keys not in `allowed`.
template <class Allowed>
Result<std::vector<std::pair<std::string, YAML::Node>>> yaml_entries(const Form& form,
                                                                     std::string_view file,
                                                                     const YAML::Node& map,
                                                                     const Allowed& allowed) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  for (const auto& entry : map) {
    const Cell where{{}, yaml_where(file, entry.first.Mark())};
    if (!entry.first.IsScalar()) return refuse(form, "?", where, "a key must be a plain name");
    std::string key = canonical_key(entry.first.Scalar());
    if (!allowed(key)) {
      return refuse(form, entry.first.Scalar(), where,
                    "unknown key (see docs/netpolicy-formats.md, 'Port tables in YAML')");
    }
    for (const auto& [seen, node] : out) {
      if (seen == key) return refuse(form, entry.first.Scalar(), where, "appears twice");
    }
    out.emplace_back(std::move(key), entry.second);
  }
  return out;
}

Result<Profile> read_yaml(const YAML::Node& root, const std::string& file) {
  const Form form{"key"};
  const Cell top{{}, yaml_where(file, root.Mark())};
  if (!root.IsMap()) return refuse(form, "/", top, "the document must be a mapping");
  auto entries = yaml_entries(form, file, root, [](const std::string& k) {
    return is_one_of(kProfileKeys, k) || k == "intents";
  });
  if (!entries) return tl::unexpected(entries.error());
  std::map<std::string, Cell> values;
  YAML::Node intents;
  for (const auto& [key, node] : *entries) {
    if (key == "intents") {
      intents = node;
      continue;
    }
    auto cell = yaml_cell(form, file, key, node);
    if (!cell) return tl::unexpected(cell.error());
    values.emplace(key, std::move(*cell));
  }
  auto profile = make_profile(form, values, file, top.where);
  if (!profile) return profile;
  if (!intents || !intents.IsSequence() || intents.size() == 0) {
    return core::fail(ErrorCode::kInvalidInput, "key 'intents' is missing or is not a list of rows",
                      top.where);
  }
  if (intents.size() > kMaxRows) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("more than {} rows in one table", kMaxRows), top.where);
  }
  size_t index = 0;
  for (const auto& item : intents) {
    ++index;
    const std::string where = yaml_where(file, item.Mark());
    if (!item.IsMap()) {
      return core::fail(ErrorCode::kInvalidInput, "each row of 'intents' must be a mapping", where);
    }
    auto row_entries =
        yaml_entries(form, file, item, [](const std::string& k) { return is_one_of(kRowKeys, k); });
    if (!row_entries) return tl::unexpected(row_entries.error());
    Row row{{}, where, fmt::format("row {}", index), {}};
    for (const auto& [key, node] : *row_entries) {
      auto cell = yaml_cell(form, file, key, node);
      if (!cell) return tl::unexpected(cell.error());
      if (!cell->value.empty()) row.cells.emplace(key, std::move(*cell));
    }
    VIGIE_TRY(add_row(form, row, profile->source, *profile));
  }
  return profile;
}

bool is_role_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool is_dns_char(char c) { return is_role_char(c) || c == '.'; }

bool is_role_name(std::string_view name) {
  return !name.empty() && !name.starts_with('-') &&
         std::all_of(name.begin(), name.end(), is_role_char);
}

bool is_dns_name(std::string_view name) {
  return !name.empty() && !name.starts_with('.') && !name.starts_with('-') &&
         name.find("..") == name.npos && std::all_of(name.begin(), name.end(), is_dns_char);
}

}  // namespace

Result<Profile> read_port_table_csv(const std::filesystem::path& path) {
  auto reader = core::CsvReader::open(path);
  if (!reader) return tl::unexpected(reader.error());
  return read_csv(*reader, path.string());
}

Result<Profile> read_port_table_yaml(std::string_view text, std::string_view file) {
  const std::string name(file);
  if (text.size() > kMaxYamlBytes) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("larger than {} KiB", kMaxYamlBytes >> 10), name);
  }
  if (auto bad = core::find_invalid_utf8(text)) {
    return core::fail(ErrorCode::kInvalidInput, "not valid UTF-8",
                      name + ":" + core::line_column(text, *bad));
  }
  if (auto deep = YamlDepth(text).too_deep_at()) {
    return core::fail(ErrorCode::kInvalidInput,
                      fmt::format("nested deeper than {} levels", kMaxYamlDepth),
                      name + ":" + core::line_column(text, *deep));
  }
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    return read_yaml(root, name);
  } catch (const YAML::Exception& e) {
    return core::fail(ErrorCode::kInvalidInput, "malformed YAML: " + e.msg,
                      yaml_where(name, e.mark));
  }
}

std::string write_port_table_yaml(const Profile& profile) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  auto text = [&](std::string_view key, const std::string& value) {
    out << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted << value;
  };
  text("name", profile.name);
  text("vendor", profile.vendor);
  text("product", profile.product);
  if (!profile.versions.empty()) text("versions", profile.versions);
  text("document", profile.source);
  if (!profile.mud_url.empty()) text("mud_url", profile.mud_url);
  out << YAML::Key << "intents" << YAML::Value << YAML::BeginSeq;
  for (const auto& i : profile.intents) {
    out << YAML::BeginMap;
    text("direction", std::string(to_string(i.direction)));
    text("peer", format_peer(i.peer));
    text("protocol", std::string(to_string(i.protocol)));
    text("ports", format_ports(i.ports));
    if (!i.source_ports.empty()) text("source_ports", format_ports(i.source_ports));
    if (!i.purpose.empty()) text("purpose", i.purpose);
    text("cleartext", i.cleartext ? "yes" : "no");
    text("document", i.provenance.document);
    text("row", i.provenance.locator);
    if (!i.provenance.quote.empty()) text("quote", i.provenance.quote);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

bool default_cleartext(Protocol protocol, const std::vector<PortRange>& ports) {
  static constexpr std::array<std::uint16_t, 5> kCleartextTcp = {20, 21, 23, 80, 5900};
  if (protocol != Protocol::kTcp) return false;
  return std::any_of(ports.begin(), ports.end(), [](const PortRange& r) {
    if (r.last - r.first >= 1023) return false;
    return std::any_of(kCleartextTcp.begin(), kCleartextTcp.end(),
                       [&](std::uint16_t p) { return r.contains(p); });
  });
}

Result<Peer> parse_peer(std::string_view raw) {
  const auto text = core::trim(raw);
  const std::string lower = core::ascii_lower(text);
  if (text.empty()) return core::fail(ErrorCode::kInvalidInput, "empty peer");
  if (auto prefix = parse_prefix(text)) return Peer{PeerKind::kCidr, prefix->to_string()};
  for (PeerKind kind : {PeerKind::kAny, PeerKind::kLocalNetworks, PeerKind::kSameManufacturer,
                        PeerKind::kMyController}) {
    if (lower == to_string(kind)) return Peer{kind, {}};
  }
  for (auto [prefix, kind] :
       {std::pair{"manufacturer:", PeerKind::kManufacturer},
        std::pair{"controller:", PeerKind::kController}, std::pair{"dns:", PeerKind::kDnsName},
        std::pair{"role:", PeerKind::kRole}}) {
    if (!lower.starts_with(prefix)) continue;
    auto value = core::trim(text.substr(std::string_view(prefix).size()));
    if (value.empty()) {
      return core::fail(ErrorCode::kInvalidInput, fmt::format("'{}' names nothing", text));
    }
    const std::string name = core::ascii_lower(value);
    if (kind == PeerKind::kRole && !is_role_name(name)) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("'{}' is not a role name (letters, digits, '-')", value));
    }
    if (kind == PeerKind::kDnsName && !is_dns_name(name)) {
      return core::fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a DNS name", value));
    }
    const bool keeps_case = kind == PeerKind::kManufacturer || kind == PeerKind::kController;
    return Peer{kind, keeps_case ? std::string(value) : name};
  }
  if (is_role_name(lower)) return Peer{PeerKind::kRole, lower};
  if (is_dns_name(lower) && lower.find('.') != lower.npos) return Peer{PeerKind::kDnsName, lower};
  return core::fail(ErrorCode::kInvalidInput,
                    fmt::format("'{}' is not a role, an address or prefix, a DNS name or a MUD "
                                "abstraction",
                                text));
}

std::string format_peer(const Peer& peer) {
  switch (peer.kind) {
    case PeerKind::kRole:
    case PeerKind::kDnsName: {
      // Bare when it reads back the same ("pacs", "pacs.example.org"), else prefixed ("dns:pacs",
      // "role:any").
      auto bare = parse_peer(peer.value);
      if (bare && *bare == peer) return peer.value;
      return fmt::format("{}:{}", peer.kind == PeerKind::kRole ? "role" : "dns", peer.value);
    }
    case PeerKind::kCidr:
      return peer.value;
    case PeerKind::kManufacturer:
    case PeerKind::kController:
      return fmt::format("{}:{}", to_string(peer.kind), peer.value);
    case PeerKind::kAny:
    case PeerKind::kLocalNetworks:
    case PeerKind::kSameManufacturer:
    case PeerKind::kMyController:
      break;
  }
  return std::string(to_string(peer.kind));
}

std::string profile_slug(std::string_view vendor, std::string_view product) {
  std::string out;
  for (char c : core::ascii_lower(fmt::format("{} {}", vendor, product))) {
    if (is_role_char(c) && c != '_' && c != '-') {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

Result<std::vector<Profile>> shipped_profiles() {
  std::vector<Profile> out;
  // Every file of data/profiles/ compiled in (data/CMakeLists.txt).
  static constexpr std::array<std::pair<std::string_view, std::string_view (*)()>, 1> kShipped = {
      {{"philips-essenta-dr-compact.yaml", &profile_data::philips_essenta_dr_compact}}};
  for (const auto& [name, text] : kShipped) {
    auto profile = read_port_table_yaml(text(), fmt::format("data/profiles/{}", name));
    if (!profile) return tl::unexpected(profile.error());
    out.push_back(std::move(*profile));
  }
  return out;
}

Result<size_t> save_shipped_profiles(store::Store& store, const Actor& actor) {
  auto profiles = shipped_profiles();
  if (!profiles) return tl::unexpected(profiles.error());
  auto tx = store::Transaction::begin(store);
  if (!tx) return tl::unexpected(tx.error());
  for (auto& p : *profiles) VIGIE_TRY(save_profile(store, p, "table", actor));
  VIGIE_TRY(tx->commit());
  return profiles->size();
}

}  // namespace vigie::netpolicy
