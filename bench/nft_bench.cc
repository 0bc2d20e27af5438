// nftables generation at scale: builds the ruleset of one zone whose devices each carry the
// Essenta DR's Annex A allow-list until the ruleset holds ELEMENTS map elements, renders it as
// .nft and JSON, and checks the text with nft -c in a scratch network namespace, timing each
// step. bench/nft_bench.sh runs it beside `nft -c` alone on the same file.
//
//   nft_bench ELEMENTS OUT_DIR      writes OUT_DIR/ruleset.nft and ruleset.json, prints timings
#include <fmt/format.h>
#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/file.h"
#include "vigie/netpolicy/nft.h"

namespace np = vigie::netpolicy;

namespace {

struct Row {
  np::Direction direction;
  std::string_view role;
  np::Protocol protocol;
  std::vector<np::PortRange> ports;
  std::string_view purpose;
};

// The Annex A rows of the Essenta DR Compact (2023-PD-DXR-009), as the shipped profile reads
// them: per device 24 rows, 40 map elements once overlapping ranges are cut.
std::vector<Row> annex_a() {
  using D = np::Direction;
  using P = np::Protocol;
  const D in = D::kToDevice;
  const D out = D::kFromDevice;
  return {
      {in, "pacs", P::kTcp, {{3010, 3010}}, "DICOM"},
      {in, "vendor-remote-service", P::kTcp, {{80, 80}, {4440, 4440}}, "Remote Service FSF"},
      {in, "vendor-remote-service", P::kTcp, {{5900, 5900}}, "Remote Service via VNC"},
      {in, "k6233-control", P::kTcp, {{17991, 17991}}, "K6233 control"},
      {out, "pcr-reader", P::kTcp, {{18015, 18020}, {18030, 18030}, {18050, 18050}}, "PCR Reader"},
      {out, "pcr-reader", P::kTcp, {{21, 21}}, "FTP for PCR Reader integration"},
      {in, "vendor-remote-service", P::kTcp, {{50123, 50123}}, "CDF Provider Server"},
      {out, "antivirus-update", P::kTcp, {{80, 80}}, "VirusGuard Updates"},
      {out,
       "vendor-remote-service",
       P::kTcp,
       {{443, 443}, {8086, 8086}, {9006, 9006}, {9900, 9900}},
       "Remote service"},
      {out, "ris", P::kTcp, {{5104, 5104}}, "To RIS"},
      {out, "pacs", P::kTcp, {{6104, 6104}}, "To PACS"},
      {out, "printer", P::kTcp, {{104, 104}}, "To Printer"},
      {out, "printer", P::kTcp, {{445, 445}}, "DosePRN_445"},
      {out, "printer", P::kTcp, {{9100, 9100}}, "DosePRN_JETDIRECT"},
      {out, "printer", P::kTcp, {{515, 515}}, "DosePRN_LPR"},
      {out, "printer", P::kTcp, {{137, 139}}, "DosePRN_SYSCO"},
      {out, "printer", P::kUdp, {{137, 139}}, "DosePRN_SYSCO"},
      {out, "ntp", P::kUdp, {{123, 123}}, "Time Synchronization"},
      {out, "syslog", P::kUdp, {{514, 514}}, "Audit Trail"},
      {out, "pacs", P::kTcp, {{80, 80}, {104, 104}, {443, 443}, {6464, 6464}}, "iSite"},
      {out, "ris", P::kTcp, {{1024, 65535}}, "FTP RIS"},
      {out, "printer", P::kUdp, {{514, 514}}, "Dicom Print"},
      {out, "pcr-reader", P::kTcp, {{80, 80}, {23, 23}}, "PCR READER_CONF"},
      {out, "pcr-reader", P::kTcp, {{18018, 18018}}, "PCR READER_FRUP"},
      {out, "pcr-reader", P::kTcp, {{1024, 65535}}, "PCR READER_FTPDATA"},
  };
}

std::vector<np::IpPrefix> peer(std::string_view role) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kSite = {
      {"pacs", "10.20.0.5"},
      {"ris", "10.20.0.6"},
      {"ntp", "10.20.0.7"},
      {"printer", "10.20.1.0/24"},
      {"syslog", "10.20.0.9"},
      {"antivirus-update", "10.20.0.11"},
      {"vendor-remote-service", "10.30.0.0/28"},
      {"k6233-control", "10.20.2.40"},
      {"pcr-reader", "10.20.2.41"}};
  for (const auto& [r, text] : kSite) {
    if (r == role) return {*np::parse_prefix(text)};
  }
  return {};
}

// CPU seconds (user + system) of this process or of its waited-for children.
double cpu_seconds(int who) {
  rusage u{};
  ::getrusage(who, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  size_t target = 0;
  if (argc != 3 ||
      std::from_chars(argv[1], argv[1] + std::string_view(argv[1]).size(), target).ec !=
          std::errc()) {
    std::fprintf(stderr, "usage: nft_bench ELEMENTS OUT_DIR\n");
    return 2;
  }
  std::filesystem::path out_dir(argv[2]);
  const auto rows = annex_a();

  // Each device gets every row; devices are added until the target is reached. Counting
  // needs the generator's cut of overlapping ranges: one device's share is measured first.
  auto make_input = [&](size_t devices) {
    np::NftInput input;
    input.zone = {
        1, "CHU", "Imagerie", 150, np::ZoneKind::kMedical, {*np::parse_prefix("10.100.0.0/14")}};
    input.profile_names[1] = "philips-essenta-dr-compact";
    for (size_t d = 0; d < devices; ++d) {
      np::AllowEntry e;
      e.device_id = static_cast<std::int64_t>(d + 1);
      e.device_ip = np::IpAddress::v4((10U << 24) | ((100U + d / 65000) << 16) |
                                      static_cast<std::uint32_t>(d % 65000 + 1));
      e.profile_id = 1;
      for (size_t i = 0; i < rows.size(); ++i) {
        e.direction = rows[i].direction;
        e.role = rows[i].role;
        e.peers = peer(rows[i].role);
        e.protocol = rows[i].protocol;
        e.intent_index = static_cast<int>(i);
        e.purpose = rows[i].purpose;
        for (const auto& p : rows[i].ports) {
          e.ports = p;
          input.entries.push_back(e);
        }
      }
    }
    return input;
  };
  auto one = np::build_ruleset(make_input(1));
  if (!one || one->element_count() == 0) return 1;
  size_t devices = (target + one->element_count() - 1) / one->element_count();
  np::NftInput input = make_input(devices);

  double self_cpu_start = cpu_seconds(RUSAGE_SELF);
  auto start = Clock::now();
  auto ruleset = np::build_ruleset(input);
  double build_s = seconds_since(start);
  if (!ruleset) {
    std::fprintf(stderr, "nft_bench: %s\n", ruleset.error().to_string().c_str());
    return 1;
  }
  start = Clock::now();
  std::string text = np::render_nft(*ruleset);
  double render_nft_s = seconds_since(start);
  double generator_cpu_s = cpu_seconds(RUSAGE_SELF) - self_cpu_start;
  start = Clock::now();
  std::string json = np::render_json(*ruleset);
  double render_json_s = seconds_since(start);

  // The check as `vigie policy generate` runs it: two nft processes (two cores), each with
  // half the elements; then in one process, as `nft -c` alone would.
  double children_cpu_start = cpu_seconds(RUSAGE_CHILDREN);
  start = Clock::now();
  auto check = np::nft_check_ruleset(*ruleset, {np::NftFormat::kText, 2, 0});
  double check_s = seconds_since(start);
  double check_cpu_s = cpu_seconds(RUSAGE_CHILDREN) - children_cpu_start;
  start = Clock::now();
  auto single = np::nft_check_ruleset(*ruleset, {np::NftFormat::kText, 1, 0});
  double check_single_s = seconds_since(start);
  for (const auto* c : {&check, &single}) {
    if (!*c || !(*c)->accepted) {
      std::fprintf(stderr, "nft_bench: nft refused the ruleset: %s\n",
                   *c ? (*c)->output.c_str() : c->error().to_string().c_str());
      return 1;
    }
  }
  if (!vigie::core::write_file_durably(out_dir / "ruleset.nft", text, 0644) ||
      !vigie::core::write_file_durably(out_dir / "ruleset.json", json, 0644)) {
    std::fprintf(stderr, "nft_bench: cannot write to %s\n", out_dir.c_str());
    return 1;
  }
  std::printf(
      "%s\n",
      fmt::format("devices={} entries={} elements={} maps={} text_bytes={} json_bytes={} "
                  "build_s={:.3f} render_nft_s={:.3f} render_json_s={:.3f} check_s={:.3f} "
                  "check_one_process_s={:.3f} total_s={:.3f} total_cpu_s={:.3f}",
                  devices, input.entries.size(), ruleset->element_count(), ruleset->maps.size(),
                  text.size(), json.size(), build_s, render_nft_s, render_json_s, check_s,
                  check_single_s, build_s + render_nft_s + check_s, generator_cpu_s + check_cpu_s)
          .c_str());
  return 0;
}
