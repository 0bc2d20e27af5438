// The profiles Vigie ships: the Essenta DR Compact profile holds every row of Annex A of the
// Philips letter, each quoted verbatim from the letter, and is stored by `vigie init --demo`.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <tuple>
#include <vector>

#include "test_support.h"
#include "vigie/core/file.h"
#include "vigie/netpolicy/mud.h"
#include "vigie/netpolicy/policy_store.h"
#include "vigie/netpolicy/port_table.h"

namespace vigie::netpolicy {
namespace {

std::string letter() {
  auto text = core::read_file(testing::fixture("../seeds/002_061d4e330f3f04cd.txt"));
  EXPECT_TRUE(text) << "the Philips letter (seed 002)";
  return text.value_or("");
}

Profile essenta() {
  auto profiles = shipped_profiles();
  EXPECT_TRUE(profiles) << profiles.error().to_string();
  if (!profiles) return {};
  auto it = std::find_if(profiles->begin(), profiles->end(),
                         [](const Profile& p) { return p.name == "philips-essenta-dr-compact"; });
  EXPECT_NE(it, profiles->end());
  return it == profiles->end() ? Profile{} : *it;
}

// The rows of Annex A as printed: each line from the table's header to the end that starts
// with its port column ("80, 4440", "18015 - 18020, 18030, 18050", ">1023").
struct AnnexRow {
  std::string line;
  std::string ports;
};

std::vector<AnnexRow> annex_rows(const std::string& text) {
  const auto start = text.find("Port Protocol Fixed Inbound");
  EXPECT_NE(start, std::string::npos);
  std::vector<AnnexRow> out;
  const std::regex row(R"(^(>?\d+(?:\s*-\s*\d+)?(?:,\s*\d+(?:\s*-\s*\d+)?)*) \S.*$)");
  size_t at = text.find('\n', start) + 1;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    std::smatch m;
    if (std::regex_match(line, m, row) && line != "2023-PD-DXR-009") out.push_back({line, m[1]});
    at = end + 1;
  }
  return out;
}

TEST(ShippedProfiles, EssentaQuotesAreVerbatimInTheLetter) {
  const std::string text = letter();
  const Profile p = essenta();
  ASSERT_EQ(p.intents.size(), 25U);  // 24 rows, "TCP&UDP" giving two intents
  EXPECT_EQ(p.vendor, "Philips");
  EXPECT_EQ(p.product, "Essenta DR Compact");
  for (const auto& i : p.intents) {
    EXPECT_NE(text.find(i.provenance.quote), std::string::npos)
        << i.provenance.locator << ": '" << i.provenance.quote << "' is not in the letter";
    EXPECT_EQ(i.provenance.document,
              "Philips 2023-PD-DXR-009, Annex A (seeds/002_061d4e330f3f04cd.txt)");
    EXPECT_FALSE(i.purpose.empty()) << i.provenance.locator;
  }
}

TEST(ShippedProfiles, EssentaHasEveryRowAndPortOfAnnexA) {
  const auto rows = annex_rows(letter());
  ASSERT_EQ(rows.size(), 24U);
  const Profile p = essenta();
  for (size_t n = 0; n < rows.size(); ++n) {
    const std::string locator = fmt::format("Annex A row {}", n + 1);
    auto expected = parse_ports(rows[n].ports);
    ASSERT_TRUE(expected) << rows[n].line;
    size_t found = 0;
    for (const auto& i : p.intents) {
      if (i.provenance.locator != locator) continue;
      ++found;
      EXPECT_TRUE(i.provenance.quote.starts_with(rows[n].line)) << locator;
      EXPECT_EQ(i.ports, *expected) << locator << ": " << rows[n].line;
    }
    EXPECT_EQ(found, rows[n].line.find("TCP&UDP") == std::string::npos ? 1U : 2U) << locator;
  }
}

// The reading of each row whose cells are garbled or ambiguous (data/profiles/README.md).
TEST(ShippedProfiles, EssentaGarbledRowsAreReadAsDocumented) {
  struct Reading {
    const char* locator;
    Direction direction;
    Protocol protocol;
    const char* peer;
    bool cleartext;
  };
  const std::vector<Reading> readings = {
      {"Annex A row 1", Direction::kToDevice, Protocol::kTcp, "pacs", false},
      {"Annex A row 3", Direction::kToDevice, Protocol::kTcp, "vendor-remote-service", true},
      {"Annex A row 4", Direction::kToDevice, Protocol::kTcp, "k6233-control", false},
      {"Annex A row 6", Direction::kFromDevice, Protocol::kTcp, "pcr-reader", true},
      {"Annex A row 7", Direction::kToDevice, Protocol::kTcp, "vendor-remote-service", false},
      {"Annex A row 8", Direction::kFromDevice, Protocol::kTcp, "antivirus-update", true},
      {"Annex A row 18", Direction::kFromDevice, Protocol::kUdp, "syslog", false},
      {"Annex A row 20", Direction::kFromDevice, Protocol::kTcp, "ris", true},
      {"Annex A row 21", Direction::kFromDevice, Protocol::kUdp, "printer", false},
      {"Annex A row 22", Direction::kFromDevice, Protocol::kTcp, "pcr-reader", true},
      {"Annex A row 23", Direction::kFromDevice, Protocol::kTcp, "pcr-reader", false},
      {"Annex A row 24", Direction::kFromDevice, Protocol::kTcp, "pcr-reader", true},
  };
  const Profile p = essenta();
  for (const auto& r : readings) {
    auto it = std::find_if(p.intents.begin(), p.intents.end(),
                           [&](const Intent& i) { return i.provenance.locator == r.locator; });
    ASSERT_NE(it, p.intents.end()) << r.locator;
    EXPECT_EQ(it->direction, r.direction) << r.locator;
    EXPECT_EQ(it->protocol, r.protocol) << r.locator;
    EXPECT_EQ(it->peer, (Peer{PeerKind::kRole, r.peer})) << r.locator;
    EXPECT_EQ(it->cleartext, r.cleartext) << r.locator;
  }
}

TEST(ShippedProfiles, EssentaExportsAsMudAndReadsBack) {
  const Profile p = essenta();
  auto mud = write_mud(p, "2023-09-01T00:00:00Z");
  ASSERT_TRUE(mud) << mud.error().to_string();
  auto back = read_mud(*mud, "essenta.json");
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_EQ(back->profile.intents.size(), p.intents.size());
  for (size_t i = 0; i < p.intents.size(); ++i) {
    const auto& a = p.intents[i];
    const auto& b = back->profile.intents[i];
    EXPECT_EQ(
        std::tie(a.direction, a.peer, a.protocol, a.ports, a.source_ports, a.purpose, a.cleartext),
        std::tie(b.direction, b.peer, b.protocol, b.ports, b.source_ports, b.purpose, b.cleartext))
        << a.provenance.locator;
  }
}

TEST(ShippedProfiles, SavedOnEachBackendWithTheirProvenance) {
  for (const auto& backend : testing::backends()) {
    testing::TempDir dir;
    auto store = testing::open_fresh_store(backend, dir);
    ASSERT_TRUE(store) << backend;
    auto saved = save_shipped_profiles(*store, Actor{"test", "test", "2026-11-25T00:00:00Z"});
    ASSERT_TRUE(saved) << backend << ": " << saved.error().to_string();
    EXPECT_EQ(*saved, 1U);
    auto found = find_profile(*store, "philips-essenta-dr-compact");
    ASSERT_TRUE(found && *found) << backend;
    const Profile expected = essenta();
    ASSERT_EQ((*found)->intents.size(), expected.intents.size()) << backend;
    for (size_t i = 0; i < expected.intents.size(); ++i) {
      EXPECT_EQ((*found)->intents[i].provenance.quote, expected.intents[i].provenance.quote);
      EXPECT_EQ((*found)->intents[i].ports, expected.intents[i].ports);
    }
    // Saving again replaces, never duplicates.
    ASSERT_TRUE(save_shipped_profiles(*store, Actor{"test", "test", "2026-11-25T00:00:00Z"}));
    auto all = load_profiles(*store);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 1U) << backend;
  }
}

}  // namespace
}  // namespace vigie::netpolicy
