// Small, valid CSAF 2.0 security advisories for the advisory tests, shaped like the Siemens
// WannaCry letter: listed versions with an upgrade target, a serial-number limit with a part
// number and no patch, version ranges with a "first upgrade" rule.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vigie::advisory::testing {

using nlohmann::json;

// A complete security advisory around `branches` (under one vendor) and `vulnerabilities`.
inline json csaf_document(const std::string& tracking_id, const std::string& vendor, json branches,
                          json vulnerabilities, int version = 1) {
  json history = json::array();
  for (int v = 1; v <= version; ++v) {
    history.push_back({{"date", "2017-07-0" + std::to_string(v) + "T00:00:00.000Z"},
                       {"number", std::to_string(v)},
                       {"summary", v == 1 ? "Initial version." : "Update."}});
  }
  return {{"document",
           {{"category", "csaf_security_advisory"},
            {"csaf_version", "2.0"},
            {"lang", "en"},
            {"title", tracking_id + " test advisory"},
            {"notes", {{{"category", "summary"}, {"title", "Summary"}, {"text", "For tests."}}}},
            {"publisher",
             {{"category", "vendor"}, {"name", vendor}, {"namespace", "https://vendor.example"}}},
            {"tracking",
             {{"id", tracking_id},
              {"status", "final"},
              {"version", std::to_string(version)},
              {"initial_release_date", "2017-07-01T00:00:00.000Z"},
              {"current_release_date", history.back()["date"]},
              {"revision_history", history}}}}},
          {"product_tree",
           {{"branches", {{{"category", "vendor"}, {"name", vendor}, {"branches", branches}}}}}},
          {"vulnerabilities", vulnerabilities}};
}

inline json version_branch(const std::string& category, const std::string& name,
                           const std::string& product_id, const std::string& product_name) {
  return {{"category", category},
          {"name", name},
          {"product", {{"name", product_name}, {"product_id", product_id}}}};
}

inline json remediation(const std::string& category, const std::string& details, json ids) {
  return {{"category", category}, {"details", details}, {"product_ids", ids}};
}

// The WannaCry-like advisory: Artis zee VC14B affected (upgrade to VC14J, fixed), Arcadis
// Varic Gen2 P/N 10143406 below serial 15000 affected without a patch, Symbia T2 from VA60A
// patchable and from VA70A to upgrade to VB10A first.
inline json wannacry_like(const std::string& tracking_id = "TEST-AX047", int version = 1) {
  json serials = {"?", "??", "???", "????", "10???", "11???", "12???", "13???", "14???"};
  json branches = {{{"category", "product_name"},
                    {"name", "Artis zee"},
                    {"branches",
                     {version_branch("product_version", "VC14B", "AZ-VC14B", "Artis zee VC14B"),
                      version_branch("product_version", "VC14J", "AZ-VC14J", "Artis zee VC14J")}}},
                   {{"category", "product_name"},
                    {"name", "Arcadis Varic Gen2"},
                    {"product",
                     {{"name", "Arcadis Varic Gen2 below serial number 15000"},
                      {"product_id", "VARIC-GEN2"},
                      {"product_identification_helper",
                       {{"model_numbers", {"10143406"}}, {"serial_numbers", serials}}}}}},
                   {{"category", "product_name"},
                    {"name", "Symbia T2"},
                    {"branches",
                     {version_branch("product_version_range", "vers:vendor/>=VA60A|<VA70A",
                                     "T2-VA60", "Symbia T2 VA60A to before VA70A"),
                      version_branch("product_version_range", "vers:vendor/>=VA70A|<VB10A",
                                     "T2-VA70", "Symbia T2 VA70x")}}}};
  json vulnerabilities = {
      {{"cve", "CVE-2017-0144"},
       {"notes", {{{"category", "description"}, {"text", "SMBv1 remote code execution."}}}},
       {"product_status",
        {{"known_affected", {"AZ-VC14B", "VARIC-GEN2", "T2-VA60", "T2-VA70"}},
         {"fixed", {"AZ-VC14J"}}}},
       {"remediations",
        {remediation("vendor_fix", "Upgrade to VC14J.", {"AZ-VC14B"}),
         remediation("no_fix_planned", "No patch will be provided for this system.",
                     {"VARIC-GEN2"}),
         remediation("mitigation", "Block ports 139/445/3389 at the firewall of the segment.",
                     {"VARIC-GEN2"}),
         remediation("workaround", "Disconnect from the network and use the system standalone.",
                     {"VARIC-GEN2"}),
         remediation("vendor_fix", "Upgrade to VB10A first, then install the patch.", {"T2-VA70"}),
         remediation("vendor_fix", "Install the patch through Remote Update Handling.",
                     {"T2-VA60"})}},
       {"scores",
        {{{"products", {"AZ-VC14B", "VARIC-GEN2", "T2-VA60", "T2-VA70"}},
          {"cvss_v3",
           {{"version", "3.0"},
            {"vectorString", "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"},
            {"baseScore", 8.1},
            {"baseSeverity", "HIGH"}}}}}}}};
  return csaf_document(tracking_id, "Siemens Healthineers", branches, vulnerabilities, version);
}

}  // namespace vigie::advisory::testing
