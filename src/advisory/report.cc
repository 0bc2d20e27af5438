#include "vigie/advisory/report.h"

#include <fmt/format.h>

#include <algorithm>

#include "vigie/core/text.h"
#include "vigie/inventory/inventory.h"

namespace vigie::advisory {
namespace {

// The words of the reports, French first.
struct Label {
  std::string_view key;
  std::string_view fr;
  std::string_view en;
};

constexpr Label kLabels[] = {
    {"notice_report", "Rapport de la notice de sécurité", "Safety notice report"},
    {"device_report", "Rapport de l'équipement", "Device report"},
    {"reference", "Référence", "Reference"},
    {"title", "Titre", "Title"},
    {"advisory", "Avis (CSAF)", "Advisory (CSAF)"},
    {"received_on", "Reçue le", "Received on"},
    {"channel", "Canal", "Channel"},
    {"forwarded_to", "Transmise à", "Forwarded to"},
    {"response_due", "Réponse attendue le", "Response due on"},
    {"no_response", "aucune réponse demandée", "no response required"},
    {"acknowledged", "Accusé de réception", "Acknowledgement"},
    {"not_acknowledged", "non envoyé", "not sent"},
    {"document", "Document original (SHA-256)", "Original document (SHA-256)"},
    {"state", "État", "State"},
    {"complete", "complète", "complete"},
    {"incomplete", "en cours", "in progress"},
    {"overdue", "réponse en retard", "response overdue"},
    {"affected_devices", "Équipements concernés", "Affected devices"},
    {"open_findings", "Actions restant à mener", "Findings still open"},
    {"device", "N°", "No."},
    {"vendor", "Fabricant", "Vendor"},
    {"product", "Modèle", "Product"},
    {"part_number", "Référence (P/N)", "Part number"},
    {"serial_number", "N° de série", "Serial number"},
    {"software_version", "Version logicielle", "Software version"},
    {"hostname", "Nom réseau", "Host name"},
    {"site", "Site", "Site"},
    {"zone", "Zone", "Zone"},
    {"device_status", "Statut de l'équipement", "Device status"},
    {"verdict", "Verdict", "Verdict"},
    {"status", "Suivi", "Status"},
    {"due_on", "Échéance", "Due on"},
    {"action", "Action recommandée", "Recommended action"},
    {"target_version", "Version cible", "Target version"},
    {"note", "Justification", "Note"},
    {"reason", "Motif", "Reason"},
    {"findings", "Constats", "Findings"},
    {"letters", "Lettres à conserver dans le manuel de l'exploitant",
     "Letters to keep in the operator manual"},
    {"generated", "Édité le", "Generated on"},
    {"none", "aucun", "none"},
    {"affected", "concerné", "affected"},
    {"fixed", "corrigé", "fixed"},
    {"not_affected", "non concerné", "not affected"},
    {"under_investigation", "en cours d'analyse", "under investigation"},
    {"unknown", "indéterminé", "unknown"},
    {"open", "à traiter", "open"},
    {"in_progress", "en cours", "in progress"},
    {"mitigated", "atténué", "mitigated"},
    {"risk_accepted", "risque accepté", "risk accepted"},
    {"not_applicable", "sans objet", "not applicable"},
    {"missing", "donnée manquante", "missing data"},
};

std::string_view label(std::string_view key, Language lang) {
  for (const auto& l : kLabels) {
    if (l.key == key) return lang == Language::kFrench ? l.fr : l.en;
  }
  return key;
}

std::string first_action(const Finding& f) {
  if (f.actions.empty()) return {};
  return f.actions.front().text;
}

std::string target(const Finding& f) {
  for (const auto& a : f.actions) {
    if (!a.target_version.empty()) return a.target_version;
  }
  return {};
}

// Affected first, then unknown, under investigation, fixed, not affected.
void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return static_cast<int>(a.verdict) < static_cast<int>(b.verdict);
  });
}

constexpr std::string_view kColumns[] = {
    "device",   "vendor", "product", "part_number",    "serial_number", "software_version",
    "hostname", "site",   "zone",    "device_status",  "advisory",      "verdict",
    "status",   "due_on", "action",  "target_version", "note"};

std::vector<std::string> cells(const Finding& f, Language lang) {
  std::string note = f.status_note;
  if (!f.missing.empty()) {
    note = fmt::format("{}: {}", label("missing", lang), fmt::join(f.missing, ", "));
  }
  return {std::to_string(f.device_id),
          f.vendor,
          f.product,
          f.part_number,
          f.serial_number,
          f.software_version,
          f.hostname,
          f.site,
          f.zone,
          f.device_status,
          f.advisory,
          std::string(label(to_string(f.verdict), lang)),
          std::string(label(to_string(f.status), lang)) +
              (f.overdue ? fmt::format(" ({})", label("overdue", lang)) : ""),
          f.due_on,
          first_action(f),
          target(f),
          note};
}

std::string csv_rows(const std::vector<Finding>& findings, Language lang) {
  std::string out;
  for (size_t i = 0; i < std::size(kColumns); ++i) {
    out += (i ? "," : "") + core::csv_field(label(kColumns[i], lang));
  }
  out += "\r\n";
  for (const auto& f : findings) {
    auto c = cells(f, lang);
    for (size_t i = 0; i < c.size(); ++i) out += (i ? "," : "") + core::csv_field(c[i]);
    out += "\r\n";
  }
  return out;
}

std::string html_table(const std::vector<Finding>& findings, Language lang) {
  std::string out = "<table>\n<thead><tr>";
  for (auto c : kColumns) out += "<th>" + core::html_escape(label(c, lang)) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& f : findings) {
    out += fmt::format("<tr class=\"{}\">", to_string(f.verdict));
    for (const auto& c : cells(f, lang)) out += "<td>" + core::html_escape(c) + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::string html_page(std::string_view title, std::string_view body, Language lang,
                      const core::Clock& clock) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
      "<style>\nbody{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;"
      "font-size:85%}}th,td{{border:1px solid #999;padding:.3em;vertical-align:top}}"
      "th{{background:#eee}}tr.affected td{{background:#fde8e8}}tr.unknown td{{background:"
      "#fff6d6}}dt{{font-weight:bold}}\n</style>\n</head>\n<body>\n<h1>{}</h1>\n{}<p>{} {}</p>\n"
      "</body>\n</html>\n",
      lang == Language::kFrench ? "fr" : "en", core::html_escape(title), core::html_escape(title),
      body, core::html_escape(label("generated", lang)),
      core::html_escape(core::format_utc(clock.now())));
}

std::string definition_list(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string out = "<dl>\n";
  for (const auto& [k, v] : items) {
    out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", core::html_escape(k), core::html_escape(v));
  }
  return out + "</dl>\n";
}

std::vector<std::pair<std::string, std::string>> notice_facts(const Notice& n, Language lang) {
  auto l = [&](std::string_view key) { return std::string(label(key, lang)); };
  std::string state = n.complete ? l("complete") : l("incomplete");
  if (n.response_overdue) state += ", " + l("overdue");
  return {
      {l("reference"), n.reference},
      {l("title"), n.title},
      {l("advisory"), n.advisory.empty() ? l("none") : n.advisory},
      {l("received_on"), fmt::format("{} ({})", n.received_on, n.channel)},
      {l("forwarded_to"), n.forwarded_to.empty() ? l("none") : n.forwarded_to},
      {l("response_due"), n.response_required ? n.response_due : l("no_response")},
      {l("acknowledged"), n.ack_on.empty()
                              ? l("not_acknowledged")
                              : fmt::format("{}, {}{}", n.ack_on, n.ack_by,
                                            n.ack_reference.empty() ? "" : ", " + n.ack_reference)},
      {l("document"), n.document_sha256.empty()
                          ? l("none")
                          : fmt::format("{} ({})", n.document_name, n.document_sha256)},
      {l("affected_devices"), std::to_string(n.affected_devices)},
      {l("open_findings"), std::to_string(n.open_findings)},
      {l("state"), state},
  };
}

}  // namespace

std::optional<ReportFormat> parse_report_format(std::string_view text) {
  if (text == "html") return ReportFormat::kHtml;
  if (text == "csv") return ReportFormat::kCsv;
  return std::nullopt;
}

std::optional<Language> parse_language(std::string_view text) {
  if (text == "fr") return Language::kFrench;
  if (text == "en") return Language::kEnglish;
  return std::nullopt;
}

Result<std::string> notice_report(store::Store& s, std::string_view reference, ReportFormat format,
                                  Language lang, const core::Clock& clock) {
  auto n = get_notice(s, reference, clock);
  if (!n) return tl::unexpected(n.error());
  std::vector<Finding> findings;
  if (n->advisory_id != 0) {
    FindingFilter filter;
    filter.all = true;
    filter.advisory_id = n->advisory_id;
    VIGIE_TRY(for_each_finding(s, filter, clock, [&](const Finding& f) { findings.push_back(f); }));
  }
  sort_findings(findings);
  if (format == ReportFormat::kCsv) return csv_rows(findings, lang);
  std::string body = definition_list(notice_facts(*n, lang));
  body += fmt::format("<h2>{}</h2>\n", core::html_escape(label("findings", lang)));
  body += html_table(findings, lang);
  return html_page(fmt::format("{} {}", label("notice_report", lang), n->reference), body, lang,
                   clock);
}

Result<std::string> device_report(store::Store& s, std::int64_t device_id, ReportFormat format,
                                  Language lang, const core::Clock& clock) {
  auto device = inventory::get_device(s, device_id);
  if (!device) return tl::unexpected(device.error());
  std::vector<Finding> findings;
  FindingFilter filter;
  filter.all = true;
  filter.device_id = device_id;
  VIGIE_TRY(for_each_finding(s, filter, clock, [&](const Finding& f) { findings.push_back(f); }));
  sort_findings(findings);
  if (format == ReportFormat::kCsv) return csv_rows(findings, lang);
  auto notices = notices_of_device(s, device_id, clock);
  if (!notices) return tl::unexpected(notices.error());
  auto l = [&](std::string_view key) { return std::string(label(key, lang)); };
  std::string body = definition_list({
      {l("vendor"), device->vendor},
      {l("product"), device->product},
      {l("part_number"), device->part_number},
      {l("serial_number"), device->serial_number},
      {l("software_version"), device->software_version},
      {l("site"), device->site},
      {l("zone"), device->zone},
  });
  body += fmt::format("<h2>{}</h2>\n<ul>\n", core::html_escape(l("letters")));
  for (const auto& n : *notices) {
    body += fmt::format("<li>{} — {} ({} {}{})</li>\n", core::html_escape(n.reference),
                        core::html_escape(n.title), core::html_escape(l("received_on")),
                        core::html_escape(n.received_on),
                        n.document_sha256.empty() ? "" : ", SHA-256 " + n.document_sha256);
  }
  if (notices->empty()) body += "<li>" + core::html_escape(l("none")) + "</li>\n";
  body += fmt::format("</ul>\n<h2>{}</h2>\n", core::html_escape(l("findings")));
  body += html_table(findings, lang);
  return html_page(fmt::format("{} {} {} ({})", l("device_report"), device->vendor, device->product,
                               device->serial_number),
                   body, lang, clock);
}

}  // namespace vigie::advisory
