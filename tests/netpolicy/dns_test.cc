// DNS roles against a real DNS server (dnsmasq on loopback): addresses with their TTLs,
// re-resolution when they expire, changes kept and audited, failures that keep the last
// known addresses.
#include "vigie/netpolicy/dns.h"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "test_support.h"
#include "vigie/audit/audit.h"
#include "vigie/inventory/import.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): for posix_spawn

namespace vigie::netpolicy {
namespace {

// dnsmasq serving fixed records on 127.0.0.1:port until destroyed.
class DnsServer {
 public:
  DnsServer(int port, const std::vector<std::string>& records) : port_(port) {
    std::vector<std::string> args = {"/usr/sbin/dnsmasq",
                                     "--no-daemon",
                                     "--port=" + std::to_string(port),
                                     "--listen-address=127.0.0.1",
                                     "--bind-interfaces",
                                     "--no-resolv",
                                     "--no-hosts",
                                     "--conf-file=/dev/null",
                                     "--user=root",
                                     "--log-facility=/dev/null",
                                     "--local=/chu.test/"};
    for (const auto& r : records) args.push_back("--host-record=" + r);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = 0;
    // Wait until it answers.
    for (int i = 0; i < 50 && pid_ != 0; ++i) {
      if (resolve_name("ready.chu.test", {server(), 1, 1}).error().code !=
          core::ErrorCode::kUnavailable) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~DnsServer() {
    if (pid_ != 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;
  [[nodiscard]] bool running() const { return pid_ != 0; }
  [[nodiscard]] std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  pid_t pid_ = 0;
};

int test_port() { return 20000 + static_cast<int>(::getpid() % 20000); }

TEST(ResolveNameTest, AddressesComeWithTheirTtl) {
  DnsServer dns(test_port(), {"pacs.chu.test,10.1.150.10,120", "pacs.chu.test,fd00::10,120"});
  ASSERT_TRUE(dns.running());
  auto answers = resolve_name("pacs.chu.test", {dns.server(), 1, 1});
  ASSERT_TRUE(answers) << answers.error().to_string();
  ASSERT_EQ(answers->size(), 2U);
  EXPECT_EQ((*answers)[0].address.to_string(), "10.1.150.10");
  EXPECT_EQ((*answers)[0].ttl, 120U);
  EXPECT_EQ((*answers)[1].address.to_string(), "fd00::10");
  auto missing = resolve_name("nothing.chu.test", {dns.server(), 1, 1});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
}

TEST(ResolveNameTest, SilentServerIsUnavailable) {
  auto answers = resolve_name("pacs.chu.test", {"127.0.0.1:9", 1, 1});
  ASSERT_FALSE(answers);
  EXPECT_EQ(answers.error().code, core::ErrorCode::kUnavailable);
}

class DnsRolesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = vigie::testing::open_fresh_store(GetParam(), dir_);
    ASSERT_NE(store_, nullptr);
    vigie::testing::write_file(dir_ / "d.csv",
                               "vendor,product,serial_number,site,zone,ip\n"
                               "Philips,Essenta DR Compact,1,CHU,Radio,10.1.110.30\n");
    ASSERT_TRUE(
        inventory::import_devices(*store_, dir_ / "d.csv", inventory::ImportFormat::kCsv, {}).ok());
    site_ = store_->query_int("SELECT id FROM sites").value();
    ASSERT_TRUE(tx([&]() -> Status {
      return bind_role(*store_, site_, "pacs", "pacs.chu.test", at("10:00"));
    }));
  }

  static Actor at(const std::string& hhmm) {
    return {"netops", "cli", "2026-11-25T" + hhmm + ":00.000Z"};
  }

  Status tx(const std::function<Status()>& body) {
    auto t = store::Transaction::begin(*store_);
    if (!t) return tl::unexpected(t.error());
    VIGIE_TRY(body());
    return t->commit();
  }

  Result<std::vector<ResolveOutcome>> resolve(const std::string& server, const std::string& hhmm,
                                              bool force = false) {
    auto t = store::Transaction::begin(*store_);
    if (!t) return tl::unexpected(t.error());
    auto out = resolve_roles(*store_, {server, 1, 1}, at(hhmm), force);
    if (!out) return out;
    VIGIE_TRY(t->commit());
    return out;
  }

  vigie::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::int64_t site_ = 0;
};

TEST_P(DnsRolesTest, ReResolvesOnExpiryKeepsHistoryAndAuditsChanges) {
  {
    DnsServer dns(test_port(), {"pacs.chu.test,10.1.150.10,300"});
    ASSERT_TRUE(dns.running());
    auto first = resolve(dns.server(), "10:00");
    ASSERT_TRUE(first) << first.error().to_string();
    ASSERT_EQ(first->size(), 1U);
    EXPECT_EQ(first->front().added, std::vector<std::string>{"10.1.150.10"});
    auto fresh = resolve(dns.server(), "10:04");
    ASSERT_TRUE(fresh);
    EXPECT_TRUE(fresh->empty()) << "not expired yet: nothing to do";
  }
  {
    DnsServer dns(test_port(), {"pacs.chu.test,10.1.150.11,300"});
    ASSERT_TRUE(dns.running());
    auto moved = resolve(dns.server(), "10:06");
    ASSERT_TRUE(moved) << moved.error().to_string();
    ASSERT_EQ(moved->size(), 1U);
    EXPECT_EQ(moved->front().added, std::vector<std::string>{"10.1.150.11"});
    EXPECT_EQ(moved->front().removed, std::vector<std::string>{"10.1.150.10"});
  }
  EXPECT_EQ(store_->query_int("SELECT COUNT(*) FROM dns_addresses").value(), 2) << "history kept";
  auto roles = role_addresses_at(*store_, site_, "2026-11-25T10:07:00.000Z");
  ASSERT_TRUE(roles);
  ASSERT_EQ((*roles)["pacs"].size(), 1U);
  EXPECT_EQ((*roles)["pacs"].front().to_string(), "10.1.150.11");
  auto changes =
      store_->query_int("SELECT COUNT(*) FROM audit_log WHERE action = 'netpolicy.dns.change'");
  EXPECT_EQ(changes.value(), 2);
  auto v = audit::verify(*store_);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok);
}

TEST_P(DnsRolesTest, FailureKeepsTheLastAddresses) {
  {
    DnsServer dns(test_port(), {"pacs.chu.test,10.1.150.10,60"});
    ASSERT_TRUE(dns.running());
    ASSERT_TRUE(resolve(dns.server(), "10:00"));
  }
  auto down = resolve("127.0.0.1:9", "11:00");
  ASSERT_TRUE(down);
  ASSERT_EQ(down->size(), 1U);
  EXPECT_FALSE(down->front().error.empty());
  EXPECT_EQ(down->front().current, std::vector<std::string>{"10.1.150.10"});
  auto roles = role_addresses_at(*store_, site_, "2026-11-25T11:00:00.000Z");
  ASSERT_TRUE(roles);
  ASSERT_EQ((*roles)["pacs"].size(), 1U) << "an expired resolution still stands for the role";
}

INSTANTIATE_TEST_SUITE_P(Backends, DnsRolesTest, ::testing::ValuesIn(vigie::testing::backends()));

}  // namespace
}  // namespace vigie::netpolicy
