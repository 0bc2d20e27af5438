#include "phi_commands.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "cli_output.h"
#include "vigie/core/file.h"
#include "vigie/core/home.h"
#include "vigie/phi/check.h"
#include "vigie/phi/deidentify.h"
#include "vigie/phi/key.h"
#include "vigie/phi/outbound.h"
#include "vigie/phi/scrub.h"

namespace vigie::apps {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// FILE|DIR... as files; a directory gives every regular file under it, in name order.
std::vector<fs::path> expand(const std::vector<std::string>& args) {
  std::vector<fs::path> out;
  for (const auto& a : args) {
    std::error_code ec;
    if (!fs::is_directory(a, ec)) {
      out.emplace_back(a);
      continue;
    }
    std::vector<fs::path> in_dir;
    for (const auto& entry : fs::recursive_directory_iterator(a, ec)) {
      if (entry.is_regular_file()) in_dir.push_back(entry.path());
    }
    std::sort(in_dir.begin(), in_dir.end());
    out.insert(out.end(), in_dir.begin(), in_dir.end());
  }
  return out;
}

json counts_json(const phi::ActionCounts& c) {
  json actions = json::object();
  for (phi::Action a : {phi::Action::kRemove, phi::Action::kZero, phi::Action::kDummy,
                        phi::Action::kKeep, phi::Action::kClean, phi::Action::kUid}) {
    actions[std::string(1, phi::action_letter(a))] = c.count(a);
  }
  return {{"actions", actions},
          {"private_removed", c.private_removed},
          {"private_retained", c.private_retained},
          {"uids_replaced", c.uids_replaced},
          {"dates_shifted", c.dates_shifted},
          {"pixels_blanked", c.pixels_blanked}};
}

std::string counts_line(const phi::ActionCounts& c) {
  return fmt::format(
      "X {} Z {} D {} K {} C {} U {} (private removed {}, UIDs replaced {}, "
      "dates shifted {}{})",
      c.count(phi::Action::kRemove), c.count(phi::Action::kZero), c.count(phi::Action::kDummy),
      c.count(phi::Action::kKeep), c.count(phi::Action::kClean), c.count(phi::Action::kUid),
      c.private_removed, c.uids_replaced, c.dates_shifted,
      c.pixels_blanked ? ", pixels blanked" : "");
}

// A scrubber with the site patterns of FILE (none when FILE is empty).
core::Result<phi::Scrubber> scrubber_with(const std::string& patterns_file) {
  phi::ScrubConfig config;
  if (!patterns_file.empty()) {
    auto patterns = phi::load_patterns(patterns_file);
    if (!patterns) return tl::unexpected(patterns.error());
    config.patterns = std::move(*patterns);
  }
  return phi::Scrubber::create(std::move(config));
}

// A whole input file, mapped read-only: no copy before DCMTK's own.
class MappedFile {
 public:
  static core::Result<MappedFile> open(const fs::path& path) {
    MappedFile m;
    m.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (m.fd_ < 0 || ::fstat(m.fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      return core::fail(core::ErrorCode::kIo, fmt::format("cannot read: {}", std::strerror(errno)),
                        path.string());
    }
    m.size_ = static_cast<size_t>(st.st_size);
    if (m.size_ == 0) return m;
    m.data_ = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, m.fd_, 0);
    if (m.data_ == MAP_FAILED) {
      m.data_ = nullptr;
      return core::fail(core::ErrorCode::kIo, "cannot map the file", path.string());
    }
    return m;
  }
  MappedFile(MappedFile&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] std::string_view bytes() const {
    return data_ == nullptr ? std::string_view()
                            : std::string_view(static_cast<const char*>(data_), size_);
  }

 private:
  MappedFile() = default;
  int fd_ = -1;
  void* data_ = nullptr;
  size_t size_ = 0;
};

core::Status write_output(const fs::path& path, std::string_view bytes) {
  core::FilePtr f = core::open_file(path, "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size() ||
      std::fflush(f.get()) != 0) {
    return core::fail(core::ErrorCode::kIo, "cannot write the output", path.string());
  }
  return {};
}

}  // namespace

PhiCommands::PhiCommands(CLI::App& app) {
  auto* phi =
      app.add_subcommand("phi", "Mask patient data: DICOM de-identification, text scrubbing");
  phi->require_subcommand(1);

  dicom_ = phi->add_subcommand("dicom", "De-identify DICOM files (PS3.15 Annex E)");
  dicom_->add_option("IN", inputs_, "DICOM files or directories")->required();
  dicom_->add_option("--out", out_dir_, "Output directory (files named by their new SOP UID)")
      ->required();
  std::string option_help = "Profile option (repeatable):";
  for (const auto& o : phi::all_options()) option_help += " " + std::string(o.name);
  dicom_->add_option("--option", options_, option_help);
  dicom_
      ->add_option("--burned-in", burned_in_,
                   "Pixel data that may show text: refuse (default) or blank")
      ->check(CLI::IsMember({"refuse", "blank"}));
  dicom_->add_flag("--report", report_, "Print what was done to each file (counts, never values)");
  dicom_->add_flag("--json", json_, "The report as one JSON document");
  dicom_->add_option("--jobs", jobs_, "Files de-identified in parallel (default: one per core)");

  text_ = phi->add_subcommand("text", "Scrub a text or log file (HL7 v2, dumps, key=value...)");
  text_->add_option("FILE", inputs_, "Text file")->required()->expected(1);
  text_->add_option("--patterns", patterns_, "Site patterns: '<kind> <regex>' per line");
  text_->add_option("--out", output_, "Write the scrubbed text here (default: stdout)");

  check_ = phi->add_subcommand("check", "List any PHI still found in files (DICOM or text)");
  check_->add_option("FILE", inputs_, "Files or directories")->required();
  check_->add_option("--patterns", patterns_, "Site patterns for texts");
  check_->add_flag("--json", json_, "Findings as one JSON document");
}

bool PhiCommands::init_home(const fs::path& home) {
  auto key = phi::load_or_create_key(home);
  if (!key) {
    std::cerr << "vigie: " << key.error().to_string() << "\n";
    return false;
  }
  return true;
}

std::optional<int> PhiCommands::run(const std::optional<std::string>& home_flag) const {
  if (dicom_->parsed()) return dicom(core::resolve_home(home_flag));
  if (text_->parsed()) return text();
  if (check_->parsed()) return check();
  return std::nullopt;
}

int PhiCommands::dicom(const fs::path& home) const {
  phi::DeidConfig config;
  for (const auto& name : options_) {
    auto o = phi::option_from_name(name);
    if (!o) {
      return fail_with({core::ErrorCode::kUsage, fmt::format("unknown option '{}'", name), {}});
    }
    config.options.set(*o);
  }
  if (auto valid = config.options.validate(); !valid) return fail_with(valid.error());
  config.burned_in =
      burned_in_ == "blank" ? phi::BurnedInPolicy::kBlank : phi::BurnedInPolicy::kRefuse;
  auto key = phi::load_or_create_key(home);
  if (!key) return fail_with(key.error());
  std::error_code ec;
  fs::create_directories(out_dir_, ec);
  if (ec) return fail_with({core::ErrorCode::kIo, "cannot create: " + ec.message(), out_dir_});

  const phi::Deidentifier deidentifier(*key, config);
  const std::vector<fs::path> files = expand(inputs_);
  struct Outcome {
    std::string output;
    std::optional<core::Error> error;
    phi::ActionCounts counts;
  };
  std::vector<Outcome> outcomes(files.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < files.size(); i = next++) {
      auto input = MappedFile::open(files[i]);
      if (!input) {
        outcomes[i].error = input.error();
        continue;
      }
      auto out = deidentifier.run(input->bytes(), files[i].string());
      if (!out) {
        outcomes[i].error = out.error();
        continue;
      }
      fs::path target = fs::path(out_dir_) / out->file_name;
      if (auto written = write_output(target, out->bytes); !written) {
        outcomes[i].error = written.error();
        continue;
      }
      outcomes[i].output = target.string();
      outcomes[i].counts = out->counts;
    }
  };
  unsigned jobs = jobs_ != 0 ? jobs_ : std::max(1U, std::thread::hardware_concurrency());
  jobs = static_cast<unsigned>(std::min<size_t>(jobs, std::max<size_t>(files.size(), 1)));
  std::vector<std::jthread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  threads.clear();

  int rc = 0;
  phi::ActionCounts total;
  json report = json::array();
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& o = outcomes[i];
    if (o.error) {
      rc = std::max(rc, core::exit_code(*o.error));
      std::cerr << "vigie: " << o.error->to_string() << "\n";
      report.push_back({{"file", files[i].string()}, {"refused", o.error->message}});
      continue;
    }
    total.add(o.counts);
    json entry = counts_json(o.counts);
    entry["file"] = files[i].string();
    entry["output"] = o.output;
    report.push_back(entry);
    if (report_ && !json_) {
      std::cout << fmt::format("{} -> {}: {}\n", files[i].string(), o.output,
                               counts_line(o.counts));
    }
  }
  if (json_) {
    std::cout << report.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else if (report_) {
    std::cout << fmt::format("total: {}\n", counts_line(total));
  }
  return rc;
}

int PhiCommands::text() const {
  auto scrubber = scrubber_with(patterns_);
  if (!scrubber) return fail_with(scrubber.error());
  auto bytes = core::read_file(inputs_.front());
  if (!bytes) return fail_with(bytes.error());
  auto out = scrubber->scrub(*bytes, inputs_.front());
  if (!out) return fail_with(out.error());
  if (output_.empty()) {
    std::cout << out->text;
  } else if (auto written = write_output(output_, out->text); !written) {
    return fail_with(written.error());
  }
  for (const auto& [kind, n] : out->masks) std::cerr << fmt::format("masked {}: {}\n", kind, n);
  return 0;
}

int PhiCommands::check() const {
  auto scrubber = scrubber_with(patterns_);
  if (!scrubber) return fail_with(scrubber.error());
  int rc = 0;
  json all = json::array();
  for (const auto& file : expand(inputs_)) {
    auto bytes = core::read_file(file);
    if (!bytes) {
      rc = 2;
      std::cerr << "vigie: " << bytes.error().to_string() << "\n";
      continue;
    }
    auto findings = phi::looks_like_dicom(*bytes)
                        ? phi::check_dicom(*bytes, file.string())
                        : phi::check_text(*scrubber, *bytes, file.string());
    if (!findings) {
      rc = std::max(rc, 2);
      std::cerr << "vigie: " << findings.error().to_string() << "\n";
      continue;
    }
    if (!findings->empty()) rc = std::max(rc, 1);
    for (const auto& f : *findings) {
      all.push_back(
          {{"file", file.string()}, {"where", f.where}, {"kind", f.kind}, {"detail", f.detail}});
      if (!json_)
        std::cout << fmt::format("{}: {}: {} ({})\n", file.string(), f.where, f.kind, f.detail);
    }
  }
  if (json_) std::cout << all.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return rc;
}

}  // namespace vigie::apps
