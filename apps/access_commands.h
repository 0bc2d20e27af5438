// Who may use the remote-service gateway, on the command line (the hospital's side, on its
// store): `vigie vendors`, `vigie engineers` (add with a password, totp, certificate, password,
// disable, list), `vigie access` (a device's access level, ports and operations) and
// `vigie authorisations` (engineer x device or zone x operations).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "app_context.h"

namespace vigie::apps {

class AccessCommands {
 public:
  explicit AccessCommands(CLI::App& app);
  std::optional<int> run(AppContext& ctx) const;

 private:
  int engineers_add(AppContext& ctx) const;
  int engineers_list(AppContext& ctx) const;
  int access_set(AppContext& ctx) const;
  int access_show(AppContext& ctx) const;
  int authorisations_list(AppContext& ctx) const;

  CLI::App* vendors_add_ = nullptr;
  CLI::App* vendors_list_ = nullptr;
  CLI::App* engineers_add_ = nullptr;
  CLI::App* engineers_totp_ = nullptr;
  CLI::App* engineers_certificate_ = nullptr;
  CLI::App* engineers_password_ = nullptr;
  CLI::App* engineers_disable_ = nullptr;
  CLI::App* engineers_list_ = nullptr;
  CLI::App* access_set_ = nullptr;
  CLI::App* access_show_ = nullptr;
  CLI::App* authorisations_add_ = nullptr;
  CLI::App* authorisations_list_ = nullptr;
  CLI::App* authorisations_revoke_ = nullptr;

  std::string name_;
  std::string vendor_;
  std::string organisation_;
  std::string password_file_;
  std::string issuer_ = "Vigie";
  std::string serial_;
  std::string cert_file_;
  std::string csr_file_;
  std::string out_file_;
  std::int64_t device_ = 0;
  std::string level_;
  std::string from_;
  std::string to_;
  std::string ports_;
  std::string operations_;
  std::string limited_ = "screen,download";
  std::string owner_;
  std::string engineer_;
  std::string zone_;
  std::int64_t id_ = 0;
  bool json_ = false;
};

// A password from a file (its first line), or from the terminal without echo.
core::Result<std::string> read_password(const std::string& file, std::string_view prompt);

}  // namespace vigie::apps
