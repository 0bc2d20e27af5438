#include "vigie/core/log.h"

#include <gtest/gtest.h>

namespace vigie::core {
namespace {

TEST(Log, SecretFieldsAreRecognised) {
  for (const char* k : {"password", "session_token", "TOTP_SECRET", "private_key", "otp"}) {
    EXPECT_TRUE(is_secret_field(k)) << k;
  }
  for (const char* k : {"device", "peer", "rows"}) EXPECT_FALSE(is_secret_field(k)) << k;
}

TEST(Log, SecretsNeverReachTheOutput) {
  init_logging(LogLevel::kInfo, LogFormat::kJson);
  ::testing::internal::CaptureStderr();
  log_event(LogLevel::kInfo, "login", {{"user", "alice"}, {"password", "hunter2"}});
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("\"user\":\"alice\""), std::string::npos) << out;
  EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
  EXPECT_NE(out.find("[redacted]"), std::string::npos);
}

}  // namespace
}  // namespace vigie::core
