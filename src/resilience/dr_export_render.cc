// The readable side of an export: one self-contained HTML page (inline style, no script, no
// external asset, so it opens from a USB stick on any browser) and CSV files for a
// spreadsheet, plus the registered procedure documents as they were registered.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "vigie/advisory/findings.h"
#include "vigie/core/file.h"
#include "vigie/core/ids.h"
#include "vigie/core/text.h"
#include "vigie/inventory/inventory.h"
#include "vigie/inventory/normalize.h"
#include "vigie/resilience/dr_export.h"
#include "vigie/store/store.h"

namespace vigie::resilience {
namespace {

using core::csv_field;
using core::ErrorCode;
using core::html_escape;

struct DeviceRow {
  std::int64_t id = 0;
  std::string vendor;
  std::string vendor_norm;
  std::string product;
  std::string part_number;
  std::string serial;
  std::string version;
  std::string site;
  std::string zone;
  std::string location;
  std::string owner;
  std::string criticality;
  std::string status;
  std::string ips;
  std::string macs;
  std::string hostnames;
  std::string vlans;
  std::string contract;
  bool remote_service = false;
};

std::string joined(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

DeviceRow row_of(const inventory::Device& d) {
  DeviceRow r{d.id,
              d.vendor,
              d.vendor_norm,
              d.product,
              d.part_number,
              d.serial_number,
              d.software_version,
              d.site,
              d.zone,
              d.location,
              d.owner,
              std::string(inventory::to_string(d.criticality)),
              std::string(inventory::to_string(d.status)),
              {},
              {},
              {},
              {},
              d.maintenance_contract,
              d.remote_service};
  std::vector<std::string> ips;
  std::vector<std::string> macs;
  std::vector<std::string> names;
  std::vector<std::string> vlans;
  for (const auto& i : d.interfaces) {
    ips.push_back(i.ip);
    macs.push_back(i.mac);
    names.push_back(i.hostname);
    if (i.vlan) vlans.push_back(std::to_string(*i.vlan));
  }
  r.ips = joined(ips, " ");
  r.macs = joined(macs, " ");
  r.hostnames = joined(names, " ");
  r.vlans = joined(vlans, " ");
  return r;
}

std::string csv_line(std::initializer_list<std::string_view> fields) {
  std::string out;
  bool first = true;
  for (auto f : fields) {
    if (!first) out += ',';
    first = false;
    out += csv_field(f);
  }
  out += "\r\n";
  return out;
}

std::string actions_text(const std::vector<advisory::Action>& actions) {
  std::vector<std::string> parts;
  for (const auto& a : actions) {
    std::string t = a.category + ": " + a.text;
    if (!a.url.empty()) t += " (" + a.url + ")";
    parts.push_back(std::move(t));
  }
  return joined(parts, "; ");
}

constexpr std::string_view kStyle = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:1.5em;color:#111;font-size:14px}
h1{font-size:1.6em;margin:0 0 .2em}h2{margin-top:2em;border-bottom:2px solid #333;padding-bottom:.2em}
h3{margin:1.2em 0 .3em}table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee;position:sticky;top:0}tr:nth-child(even) td{background:#fafafa}
.meta{color:#444}.warn{background:#fff3cd;border:1px solid #e0c060;padding:.5em .8em}
.overdue{color:#b00;font-weight:bold}.mono{font-family:ui-monospace,Consolas,monospace;font-size:.9em}
nav a{margin-right:1.2em}@media print{nav{display:none}th{position:static}}
)css";

}  // namespace

Result<std::vector<ArchiveFile>> export_files(store::Store& store,
                                              const std::filesystem::path& home,
                                              const ArchiveMeta& meta, ExportCounts& counts) {
  counts = {};
  // Devices still on the hospital's floor (not decommissioned or sold), by site, zone, place.
  std::vector<DeviceRow> devices;
  VIGIE_TRY(inventory::for_each_device(store, {}, [&](const inventory::Device& d) {
    if (d.status != inventory::DeviceStatus::kDecommissioned &&
        d.status != inventory::DeviceStatus::kSold) {
      devices.push_back(row_of(d));
    }
    return true;
  }));
  std::sort(devices.begin(), devices.end(), [](const DeviceRow& a, const DeviceRow& b) {
    return std::tie(a.site, a.zone, a.location, a.vendor, a.product, a.id) <
           std::tie(b.site, b.zone, b.location, b.vendor, b.product, b.id);
  });
  std::map<std::int64_t, const DeviceRow*> by_id;
  for (const auto& d : devices) by_id[d.id] = &d;

  // Findings still needing work, mitigated or accepted: what to do and by when.
  const core::ManualClock at_export(*core::parse_utc(meta.created_at));
  std::vector<advisory::Finding> findings;
  VIGIE_TRY(advisory::for_each_finding(store, {}, at_export,
                                       [&](const advisory::Finding& f) { findings.push_back(f); }));
  std::sort(findings.begin(), findings.end(), [](const auto& a, const auto& b) {
    const std::string da = a.due_on.empty() ? "9999" : a.due_on;
    const std::string db = b.due_on.empty() ? "9999" : b.due_on;
    return std::tie(da, a.advisory, a.device_id) < std::tie(db, b.advisory, b.device_id);
  });

  auto contacts = list_vendor_contacts(store);
  if (!contacts) return tl::unexpected(contacts.error());
  std::map<std::string, std::vector<const VendorContact*>> contacts_of;
  for (const auto& c : *contacts) contacts_of[inventory::normalize_vendor(c.vendor)].push_back(&c);
  auto procedures = list_procedures(store);
  if (!procedures) return tl::unexpected(procedures.error());

  std::vector<ArchiveFile> files;
  // Procedure documents, checked against what was registered.
  std::map<std::string, std::string> procedure_file;
  for (const auto& p : *procedures) {
    auto content = core::read_file(home / p.document_path);
    if (!content) {
      return core::fail(
          ErrorCode::kIo,
          fmt::format("procedure '{}': its document is missing from the home", p.name),
          (home / p.document_path).string());
    }
    if (core::sha256_hex(*content) != p.sha256) {
      return core::fail(ErrorCode::kInvalidInput,
                        fmt::format("procedure '{}': its document changed since it was "
                                    "registered (SHA-256 differs); register it again",
                                    p.name),
                        (home / p.document_path).string());
    }
    std::string ext = std::filesystem::path(p.document_path).extension().string();
    const std::string path = "procedures/" + p.name + ext;
    procedure_file[p.name] = path;
    files.push_back({path, "application/octet-stream", std::move(*content)});
  }

  // ---- CSV ----
  std::string csv =
      csv_line({"id", "vendor", "product", "part_number", "serial_number", "software_version",
                "site", "zone", "location", "owner", "criticality", "status", "ip", "mac",
                "hostname", "vlan", "maintenance_contract", "remote_service", "vendor_contacts"});
  auto contact_summary = [&](const std::string& vendor_norm) {
    std::vector<std::string> parts;
    auto it = contacts_of.find(vendor_norm);
    if (it == contacts_of.end()) return std::string();
    for (const auto* c : it->second) {
      parts.push_back(fmt::format("{}: {}", c->service, c->phone.empty() ? c->email : c->phone));
    }
    return joined(parts, "; ");
  };
  for (const auto& d : devices) {
    csv += csv_line({std::to_string(d.id), d.vendor, d.product, d.part_number, d.serial, d.version,
                     d.site, d.zone, d.location, d.owner, d.criticality, d.status, d.ips, d.macs,
                     d.hostnames, d.vlans, d.contract, d.remote_service ? "yes" : "no",
                     contact_summary(d.vendor_norm)});
  }
  files.push_back({"csv/devices.csv", "text/csv; charset=utf-8", std::move(csv)});
  csv = csv_line({"finding_id", "device_id", "vendor", "product", "serial_number", "site", "zone",
                  "location", "ip", "advisory", "verdict", "status", "due_on", "overdue", "actions",
                  "status_note"});
  for (const auto& f : findings) {
    const DeviceRow* d = by_id.count(f.device_id) != 0 ? by_id[f.device_id] : nullptr;
    csv += csv_line({std::to_string(f.id), std::to_string(f.device_id), f.vendor, f.product,
                     f.serial_number, f.site, f.zone, d != nullptr ? d->location : "",
                     d != nullptr ? d->ips : "", f.advisory, advisory::to_string(f.verdict),
                     advisory::to_string(f.status), f.due_on, f.overdue ? "yes" : "no",
                     actions_text(f.actions), f.status_note});
  }
  files.push_back({"csv/findings.csv", "text/csv; charset=utf-8", std::move(csv)});
  csv = csv_line({"vendor", "service", "contact_name", "phone", "email", "hours", "contract",
                  "notes", "updated_at"});
  for (const auto& c : *contacts) {
    csv += csv_line({c.vendor, c.service, c.contact_name, c.phone, c.email, c.hours, c.contract,
                     c.notes, c.updated_at});
  }
  files.push_back({"csv/vendor_contacts.csv", "text/csv; charset=utf-8", std::move(csv)});
  csv = csv_line(
      {"name", "title", "applies_to", "file", "sha256", "size", "registered_at", "registered_by"});
  for (const auto& p : *procedures) {
    csv += csv_line({p.name, p.title, p.applies_to, procedure_file[p.name], p.sha256,
                     std::to_string(p.size), p.registered_at, p.registered_by});
  }
  files.push_back({"csv/procedures.csv", "text/csv; charset=utf-8", std::move(csv)});

  // ---- HTML ----
  const std::string site = html_escape(meta.site);
  std::string h;
  h.reserve(4096 + devices.size() * 400);
  h += fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\">"
      "<title>Disaster-recovery export - {0} - {1}</title><style>{2}</style></head><body>\n"
      "<h1>Disaster-recovery export: {0}</h1>\n"
      "<p class=\"meta\">Generation {1}, made {3} by Vigie {4}. Devices: {5}; findings needing "
      "attention: {6}; procedures: {7}; vendor contacts: {8}.</p>\n"
      "<p class=\"warn\">This is a copy made at {3} for when the live systems are down. It "
      "does not change afterwards: check the date, and use the newest generation you have. "
      "The same data is in the <span class=\"mono\">csv/</span> folder for a spreadsheet.</p>\n"
      "<nav><a href=\"#procedures\">Degraded-mode procedures</a><a href=\"#findings\">Open "
      "findings</a><a href=\"#devices\">Devices</a><a href=\"#contacts\">Vendor contacts</a>"
      "</nav>\n",
      site, html_escape(meta.generation), kStyle, html_escape(meta.created_at),
      html_escape(meta.vigie_version), devices.size(), findings.size(), procedures->size(),
      contacts->size());

  h += "<h2 id=\"procedures\">Degraded-mode procedures</h2>\n";
  if (procedures->empty()) {
    h += "<p>No procedure registered (<span class=\"mono\">vigie export procedure "
         "add</span>).</p>\n";
  } else {
    h += "<table><tr><th>Procedure</th><th>Applies to</th><th>Document</th><th>Registered</th>"
         "</tr>\n";
    for (const auto& p : *procedures) {
      h += fmt::format(
          "<tr><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td><td>{} by {}</td></tr>\n",
          html_escape(p.title), html_escape(p.applies_to), html_escape(procedure_file[p.name]),
          html_escape(p.document_name), html_escape(p.registered_at), html_escape(p.registered_by));
    }
    h += "</table>\n";
  }

  h += "<h2 id=\"findings\">Open findings and what to do (by deadline)</h2>\n";
  if (findings.empty()) {
    h += "<p>No finding needs attention.</p>\n";
  } else {
    h += "<table><tr><th>Due</th><th>Status</th><th>Device</th><th>Where</th><th>Advisory</th>"
         "<th>Actions</th></tr>\n";
    for (const auto& f : findings) {
      const DeviceRow* d = by_id.count(f.device_id) != 0 ? by_id[f.device_id] : nullptr;
      std::string actions;
      for (const auto& a : f.actions) {
        actions +=
            fmt::format("<div><b>{}</b>: {}</div>", html_escape(a.category), html_escape(a.text));
      }
      h += fmt::format(
          "<tr><td{}>{}{}</td><td>{}{}</td><td>{} {} <span class=\"mono\">{}</span></td>"
          "<td>{}<br><span class=\"mono\">{}</span></td><td>{}</td><td>{}</td></tr>\n",
          f.overdue ? " class=\"overdue\"" : "", html_escape(f.due_on.empty() ? "-" : f.due_on),
          f.overdue ? " (overdue)" : "", html_escape(advisory::to_string(f.status)),
          f.status_note.empty() ? "" : "<br>" + html_escape(f.status_note), html_escape(f.vendor),
          html_escape(f.product), html_escape(f.serial_number),
          html_escape(joined({f.site, f.zone, d != nullptr ? d->location : ""}, " / ")),
          html_escape(d != nullptr ? d->ips : ""), html_escape(f.advisory), actions);
    }
    h += "</table>\n";
  }

  h += "<h2 id=\"devices\">Devices by site and zone</h2>\n";
  std::string current;
  for (const auto& d : devices) {
    const std::string group = joined(
        {d.site.empty() ? "(no site)" : d.site, d.zone.empty() ? "(no zone)" : d.zone}, " / ");
    if (group != current) {
      if (!current.empty()) h += "</table>\n";
      current = group;
      h += fmt::format(
          "<h3>{}</h3>\n<table><tr><th>Id</th><th>Device</th><th>Serial / version</th>"
          "<th>Location</th><th>Owner</th><th>Criticality / status</th><th>Network</th>"
          "<th>Vendor support</th></tr>\n",
          html_escape(group));
    }
    std::string support;
    if (auto it = contacts_of.find(d.vendor_norm); it != contacts_of.end()) {
      for (const auto* c : it->second) {
        support += fmt::format("<div>{}: {}</div>", html_escape(c->service),
                               html_escape(c->phone.empty() ? c->email : c->phone));
      }
    }
    if (!d.contract.empty()) support += "<div>contract " + html_escape(d.contract) + "</div>";
    h += fmt::format(
        "<tr><td>{}</td><td>{} {}<br><span class=\"mono\">{}</span></td><td class=\"mono\">{}"
        "<br>{}</td><td>{}</td><td>{}</td><td>{}<br>{}</td><td class=\"mono\">{}<br>{}<br>{}"
        "</td><td>{}</td></tr>\n",
        d.id, html_escape(d.vendor), html_escape(d.product), html_escape(d.part_number),
        html_escape(d.serial), html_escape(d.version), html_escape(d.location),
        html_escape(d.owner), html_escape(d.criticality), html_escape(d.status), html_escape(d.ips),
        html_escape(d.hostnames), html_escape(d.macs), support);
  }
  if (!current.empty()) h += "</table>\n";
  if (devices.empty()) h += "<p>No device in the inventory.</p>\n";

  h += "<h2 id=\"contacts\">Vendor contacts</h2>\n";
  if (contacts->empty()) {
    h += "<p>No vendor contact registered (<span class=\"mono\">vigie export contacts "
         "import</span>).</p>\n";
  } else {
    h += "<table><tr><th>Vendor</th><th>Service</th><th>Name</th><th>Phone</th><th>E-mail</th>"
         "<th>Hours</th><th>Contract</th><th>Notes</th></tr>\n";
    for (const auto& c : *contacts) {
      h += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}"
          "</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
          html_escape(c.vendor), html_escape(c.service), html_escape(c.contact_name),
          html_escape(c.phone), html_escape(c.email), html_escape(c.hours), html_escape(c.contract),
          html_escape(c.notes));
    }
    h += "</table>\n";
  }
  h += fmt::format(
      "<p class=\"meta\">Generation {} of {}; signed, encrypted archive checked "
      "with <span class=\"mono\">vigie export verify</span>.</p>\n</body></html>\n",
      html_escape(meta.generation), site);
  files.push_back({"index.html", "text/html; charset=utf-8", std::move(h)});

  files.push_back(
      {"README.txt", "text/plain; charset=utf-8",
       fmt::format("Vigie disaster-recovery export\n"
                   "Site: {}\nGeneration: {}\nMade: {}\nVigie version: {}\n\n"
                   "Open index.html in any web browser (it needs no network).\n"
                   "csv/ holds the same data for a spreadsheet (UTF-8, comma-separated).\n"
                   "procedures/ holds the degraded-mode procedures as registered.\n"
                   "These files were unpacked by `vigie export verify`, which checked the\n"
                   "archive's signature and every file's SHA-256 against the signed manifest.\n",
                   meta.site, meta.generation, meta.created_at, meta.vigie_version)});
  counts.devices = static_cast<std::int64_t>(devices.size());
  counts.findings = static_cast<std::int64_t>(findings.size());
  counts.procedures = static_cast<std::int64_t>(procedures->size());
  counts.contacts = static_cast<std::int64_t>(contacts->size());
  return files;
}

}  // namespace vigie::resilience
