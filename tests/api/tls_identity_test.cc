#include "vigie/api/tls_identity.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "test_support.h"

namespace vigie::api {
namespace {

TEST(TlsIdentity, CreatesAKeyOnlyTheOwnerCanReadAndKeepsExistingOnes) {
  vigie::testing::TempDir dir;
  auto made = ensure_tls_identity(dir / "tls/server.crt", dir / "tls/server.key");
  ASSERT_TRUE(made) << made.error().to_string();
  EXPECT_TRUE(*made);
  struct stat st {};
  ASSERT_EQ(stat((dir / "tls/server.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = ensure_tls_identity(dir / "tls/server.crt", dir / "tls/server.key");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  std::string check = "openssl x509 -in " + (dir / "tls/server.crt").string() +
                      " -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1'";
  EXPECT_EQ(std::system(check.c_str()), 0);
}

}  // namespace
}  // namespace vigie::api
