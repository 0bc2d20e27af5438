// Firewall rules: the documented CSV format (errors positioned), nftables JSON produced by the
// real `nft -j list ruleset` inside a throw-away network namespace, and storage on both
// back-ends (all or nothing, zones checked, audited).
#include "vigie/netpolicy/firewall.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "test_support.h"
#include "vigie/audit/audit.h"
#include "vigie/core/file.h"
#include "vigie/inventory/import.h"

namespace vigie::netpolicy {
namespace {

using vigie::testing::TempDir;
using vigie::testing::write_file;

Result<RuleSet> csv(const TempDir& dir, const std::string& text) {
  write_file(dir / "rules.csv", text);
  return read_rules_csv(dir / "rules.csv", "core");
}

TEST(FirewallCsvTest, ReadsRulesInPositionOrder) {
  TempDir dir;
  auto set = csv(dir,
                 "position,name,source,destination,protocol,ports,action\n"
                 "20,default,any,any,any,,drop\n"
                 "10,office-smb,Bureautique|10.9.0.0/16,CHU/Imagerie,tcp,\"139, 445\",accept\n");
  ASSERT_TRUE(set) << set.error().to_string();
  ASSERT_EQ(set->rules.size(), 2U);
  const auto& r = set->rules.front();
  EXPECT_EQ(r.position, 10);
  EXPECT_EQ(r.name, "office-smb");
  EXPECT_EQ(format_endpoint(r.source), "Bureautique|10.9.0.0/16");
  EXPECT_EQ(format_ports(r.ports), "139,445");
  EXPECT_EQ(r.action, Action::kAccept);
  EXPECT_TRUE(set->rules.back().source.any());
  EXPECT_NE(r.provenance.locator.find("line 3"), std::string::npos);
}

struct BadCsv {
  std::string body;
  std::string where;
  std::string reason;
};

class FirewallCsvRefusalTest : public ::testing::TestWithParam<BadCsv> {};

TEST_P(FirewallCsvRefusalTest, NamesLineColumnAndReason) {
  TempDir dir;
  auto set = csv(dir, "name,source,destination,protocol,ports,action\n" + GetParam().body);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().where.find(GetParam().where), std::string::npos) << set.error().to_string();
  EXPECT_NE(set.error().message.find(GetParam().reason), std::string::npos)
      << set.error().to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Rows, FirewallCsvRefusalTest,
    ::testing::Values(BadCsv{"a,any,any,tcp,445,allow\n", ":2 column 'action'", "unknown action"},
                      BadCsv{"a,any,any,gre,,drop\n", ":2 column 'protocol'", "unknown protocol"},
                      BadCsv{"a,any,any,tcp,99999,drop\n", ":2 column 'ports'", "99999"},
                      BadCsv{"a,any,any,any,445,drop\n", ":2 column 'ports'", "tcp or udp"},
                      BadCsv{"ok,any,any,tcp,445,drop\nb,10.1.2.3/16,any,tcp,445,drop\n",
                             ":3 column 'source'", "not a valid prefix"}));

TEST(FirewallCsvTest, UnknownColumnIsRefused) {
  TempDir dir;
  auto set = csv(dir, "name,source,destination,verdict\n");
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message.find("unknown column 'verdict'"), std::string::npos);
}

// Runs a shell command, returns its stdout; empty optional when it fails.
std::optional<std::string> run(const std::string& command) {
  std::string out;
  std::FILE* pipe = popen(command.c_str(), "r");  // NOLINT(cert-env33-c): test harness
  if (pipe == nullptr) return std::nullopt;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  if (pclose(pipe) != 0) return std::nullopt;
  return out;
}

// A real nftables ruleset loaded in a throw-away namespace, listed back as JSON by nft.
class NftJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = "vexp-" + std::to_string(::getpid());
    if (!run("ip netns add " + ns_ + " 2>/dev/null")) GTEST_SKIP() << "no network namespaces here";
  }
  void TearDown() override {
    if (!ns_.empty()) run("ip netns del " + ns_ + " 2>/dev/null");
  }
  std::optional<std::string> listed(const std::string& ruleset) {
    write_file(dir_ / "rules.nft", ruleset);
    if (!run("ip netns exec " + ns_ + " nft -f " + (dir_ / "rules.nft").string()))
      return std::nullopt;
    return run("ip netns exec " + ns_ + " nft -j list ruleset");
  }
  TempDir dir_;
  std::string ns_;
};

TEST_F(NftJsonTest, ForwardChainsSetsJumpsAndPolicyBecomeOrderedRules) {
  auto json = listed(R"nft(table inet hospital {
  set office { type ipv4_addr; flags interval; elements = { 10.1.160.0/24, 10.2.160.0/24 } }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    ct state invalid drop
    ip saddr @office jump from_office
    ip saddr 10.1.150.0/24 ip daddr 10.1.110.0/24 tcp dport { 104, 11112 } counter accept comment "pacs-to-imaging"
    iifname "vlan110" oifname "vlan150" accept
  }
  chain from_office {
    ip daddr 10.1.110.0/24 tcp dport 445 counter accept comment "office-smb (mistake)"
    ip daddr 10.1.110.0/24 drop
  }
}
)nft");
  ASSERT_TRUE(json) << "nft refused the test ruleset";
  NftImportOptions options;
  options.ruleset = "core";
  auto refused = read_rules_nft_json(*json, "list.json", options);
  ASSERT_FALSE(refused) << "an interface without a zone must be refused";
  EXPECT_NE(refused.error().message.find("--interface vlan110=SITE/ZONE"), std::string::npos)
      << refused.error().to_string();
  EXPECT_NE(refused.error().where.find("/nftables/"), std::string::npos);

  options.interfaces = {{"vlan110", "CHU/Imagerie"}, {"vlan150", "CHU/Serveurs"}};
  auto set = read_rules_nft_json(*json, "list.json", options);
  ASSERT_TRUE(set) << set.error().to_string();
  ASSERT_EQ(set->rules.size(), 5U);
  const auto& smb = set->rules[0];
  EXPECT_EQ(smb.name, "office-smb (mistake)");
  EXPECT_EQ(format_endpoint(smb.source), "10.1.160.0/24|10.2.160.0/24")
      << "the jump's match is kept";
  EXPECT_EQ(format_endpoint(smb.destination), "10.1.110.0/24");
  EXPECT_EQ(format_ports(smb.ports), "445");
  EXPECT_EQ(smb.protocol, Protocol::kTcp);
  EXPECT_EQ(set->rules[1].action, Action::kDrop);
  EXPECT_EQ(format_ports(set->rules[2].ports), "104,11112");
  EXPECT_EQ(format_endpoint(set->rules[3].source), "CHU/Imagerie");
  EXPECT_EQ(format_endpoint(set->rules[3].destination), "CHU/Serveurs");
  EXPECT_TRUE(set->rules[4].source.any());
  EXPECT_EQ(set->rules[4].action, Action::kDrop) << "the chain policy closes the list";
  for (size_t i = 0; i < set->rules.size(); ++i)
    EXPECT_EQ(set->rules[i].position, static_cast<int>(i) + 1);
}

TEST_F(NftJsonTest, UnmodelledMatchIsRefusedOrSkippedOnRequest) {
  auto json = listed(R"nft(table ip t {
  chain transit {
    type filter hook forward priority 0; policy accept;
    ip ttl 3 drop
    tcp dport 23 reject
  }
}
)nft");
  ASSERT_TRUE(json);
  NftImportOptions options;
  options.ruleset = "t";
  auto refused = read_rules_nft_json(*json, "t.json", options);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("cannot model"), std::string::npos);
  options.skip_unsupported = true;
  auto set = read_rules_nft_json(*json, "t.json", options);
  ASSERT_TRUE(set) << set.error().to_string();
  ASSERT_EQ(set->warnings.size(), 1U);
  ASSERT_EQ(set->rules.size(), 2U);
  EXPECT_EQ(set->rules[0].action, Action::kReject);
  EXPECT_EQ(set->rules[1].action, Action::kAccept);
}

TEST(NftJsonSyntaxTest, SyntaxErrorsNameLineAndColumn) {
  NftImportOptions options;
  options.ruleset = "x";
  auto set = read_rules_nft_json("{\"nftables\": [\n  {\"chain\": }\n]}", "bad.json", options);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().where.find("bad.json:2:"), std::string::npos) << set.error().to_string();
  auto other = read_rules_nft_json("{\"rules\": []}", "other.json", options);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("not an nftables JSON document"), std::string::npos);
}

class FirewallStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    write_file(dir_ / "devices.csv",
               "vendor,product,serial_number,site,zone,ip\n"
               "Siemens,Artis zee,1,CHU,Imagerie,10.1.110.20\n"
               "Dell,OptiPlex,2,CHU,Bureautique,10.1.160.10\n"
               "Dell,OptiPlex,3,Nord,Bureautique,10.2.160.10\n");
    auto r =
        inventory::import_devices(*store_, dir_ / "devices.csv", inventory::ImportFormat::kCsv, {});
    ASSERT_TRUE(r.ok());
  }
  Status save(const RuleSet& set) {
    auto tx = store::Transaction::begin(*store_);
    if (!tx) return tl::unexpected(tx.error());
    VIGIE_TRY(
        save_ruleset(*store_, set, "rules.csv", {"netops", "cli", "2026-11-25T10:00:00.000Z"}));
    return tx->commit();
  }
  TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_P(FirewallStoreTest, SavedRulesLoadBackAndReplaceTheirRuleset) {
  auto set = csv(dir_,
                 "name,source,destination,protocol,ports,action\n"
                 "smb,CHU/Bureautique,Imagerie,tcp,445,accept\n"
                 "rest,any,any,any,,drop\n");
  ASSERT_TRUE(set);
  ASSERT_TRUE(save(*set));
  auto rules = load_rules(*store_);
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->size(), 2U);
  EXPECT_EQ(format_endpoint(rules->front().source), "CHU/Bureautique");
  set->rules.pop_back();
  ASSERT_TRUE(save(*set));
  EXPECT_EQ(load_rules(*store_)->size(), 1U);
  auto v = audit::verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->entries, 2);
}

TEST_P(FirewallStoreTest, UnknownOrAmbiguousZoneIsRefusedAndNothingChanges) {
  auto ok = csv(dir_, "name,source,destination,action\nx,any,Imagerie,drop\n");
  ASSERT_TRUE(save(*ok));
  auto ambiguous = csv(dir_, "name,source,destination,action\nx,Bureautique,Imagerie,drop\n");
  auto st = save(*ambiguous);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("several sites"), std::string::npos);
  EXPECT_NE(st.error().where.find("line 2"), std::string::npos) << st.error().to_string();
  auto unknown = csv(dir_, "name,source,destination,action\nx,Cuisine,Imagerie,drop\n");
  ASSERT_FALSE(save(*unknown));
  auto rules = load_rules(*store_);
  ASSERT_EQ(rules->size(), 1U);
  EXPECT_TRUE(rules->front().source.any());
}

INSTANTIATE_TEST_SUITE_P(Backends, FirewallStoreTest,
                         ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::netpolicy
