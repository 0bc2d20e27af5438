// The demo hospital, embedded at build time: its inventory (data/demo/devices.csv) and the
// three vendor letters it received, each as a CSAF advisory (data/advisories/) and as the
// letter's text (data/advisories/letters/), its inter-zone firewall (data/demo/firewall.csv) and
// which servers play which role at each site (data/demo/roles.csv).
#pragma once

#include <string_view>

namespace vigie::demo {

std::string_view devices_csv();
std::string_view firewall_csv();
std::string_view roles_csv();

std::string_view ax047_csaf();
std::string_view ax047_letter();
std::string_view mi510_csaf();
std::string_view mi510_letter();
std::string_view dxr009_csaf();
std::string_view dxr009_letter();

}  // namespace vigie::demo
