// The phi side of the command line: `vigie phi dicom|text|check`. De-identifies DICOM files,
// scrubs texts, and checks files for PHI left. Needs the home only for the hospital's key
// (created at first use), never the store.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vigie::apps {

class PhiCommands {
 public:
  explicit PhiCommands(CLI::App& app);

  // The exit code of the phi command given, or nullopt when it is none of them.
  std::optional<int> run(const std::optional<std::string>& home_flag) const;

  // `vigie init` creates the hospital's key with the rest of the home; false (with a message
  // on stderr) when it cannot.
  static bool init_home(const std::filesystem::path& home);

 private:
  int dicom(const std::filesystem::path& home) const;
  int text() const;
  int check() const;

  CLI::App* dicom_ = nullptr;
  CLI::App* text_ = nullptr;
  CLI::App* check_ = nullptr;

  std::vector<std::string> inputs_;
  std::string out_dir_;
  std::vector<std::string> options_;
  std::string burned_in_ = "refuse";
  std::string patterns_;
  std::string output_;
  bool report_ = false;
  bool json_ = false;
  unsigned jobs_ = 0;
};

}  // namespace vigie::apps
