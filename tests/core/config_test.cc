#include "vigie/core/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace vigie::core {
namespace {

TEST(Config, EmptyFileGivesTheDefaults) {
  auto c = parse_config("", "vigie.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->store_url, "sqlite:vigie.db");
  EXPECT_EQ(c->server_port, 8443);
  EXPECT_TRUE(c->demo_load_on_first_start);
}

TEST(Config, ReadsEveryDocumentedKey) {
  auto c = parse_config(R"(
[store]
url = "postgresql://vigie@db/vigie"
[server]
listen = "::1"
port = 0
tls_cert = "a.crt"
tls_key = "a.key"
[log]
level = "debug"
format = "json"
[demo]
load_on_first_start = false
)",
                        "vigie.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->store_url, "postgresql://vigie@db/vigie");
  EXPECT_EQ(c->server_listen, "::1");
  EXPECT_EQ(c->server_port, 0);
  EXPECT_EQ(c->server_tls_cert, "a.crt");
  EXPECT_EQ(c->log_level, LogLevel::kDebug);
  EXPECT_EQ(c->log_format, LogFormat::kJson);
  EXPECT_FALSE(c->demo_load_on_first_start);
}

TEST(Config, UnknownKeyIsRefusedWithFileLineAndColumn) {
  auto c = parse_config("[server]\nport = 8443\nprot = 1\n", "/etc/vigie.toml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().where, "/etc/vigie.toml:3:1");
  EXPECT_NE(c.error().message.find("unknown key 'server.prot'"), std::string::npos);
}

TEST(Config, UnknownTableIsRefused) {
  auto c = parse_config("[nope]\nx = 1\n", "v.toml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().where, "v.toml:1:2");
  EXPECT_NE(c.error().message.find("'nope'"), std::string::npos);
}

TEST(Config, WrongTypeIsRefusedWithPosition) {
  auto c = parse_config("[server]\nport = \"8443\"\n", "v.toml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().where, "v.toml:2:8");
  EXPECT_NE(c.error().message.find("expected an integer"), std::string::npos);
}

TEST(Config, OutOfRangePortIsRefused) {
  EXPECT_FALSE(parse_config("[server]\nport = 70000\n", "v.toml"));
}

TEST(Config, SyntaxErrorNamesThePosition) {
  auto c = parse_config("[server\n", "v.toml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().where.rfind("v.toml:1:", 0), 0u) << c.error().where;
}

TEST(Config, DefaultFileDocumentsEveryKeyAndParsesBack) {
  std::string text = default_config_text();
  for (const auto& key : config_keys()) {
    EXPECT_NE(text.find(key.doc), std::string::npos) << key.name;
  }
  auto c = parse_config(text, "default");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->store_url, Config{}.store_url);
}

}  // namespace
}  // namespace vigie::core

namespace vigie::core {
namespace {

TEST(Config, ReferenceDocumentsEveryKey) {
  std::ifstream in(std::string(VIGIE_SOURCE_DIR) + "/docs/configuration.md");
  std::stringstream doc;
  doc << in.rdbuf();
  ASSERT_FALSE(doc.str().empty());
  for (const auto& key : config_keys()) {
    EXPECT_NE(doc.str().find("`" + key.name + "`"), std::string::npos) << key.name;
  }
}

}  // namespace
}  // namespace vigie::core
