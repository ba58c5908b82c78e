// Tests of make_tls_context() with certificates and keys made by the real
// openssl command in a short temp folder: success, missing and garbage
// files, and a key that belongs to another certificate.
#include "net/tls.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace tlpmail::net {
namespace {

namespace fs = std::filesystem;

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    make_pair("a");
    make_pair("b");
  }

  void make_pair(const std::string& name) {
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-days 1 -subj /CN=localhost -keyout " +
        (dir_ / (name + "-key.pem")).string() + " -out " + (dir_ / (name + "-cert.pem")).string() +
        " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  fs::path cert(const std::string& n) const { return dir_ / (n + "-cert.pem"); }
  fs::path key(const std::string& n) const { return dir_ / (n + "-key.pem"); }

  ::tlpmail::testing::TempDir tmp_;
  const fs::path dir_{tmp_.path()};
};

TEST_F(TlsContextTest, LoadsMatchingPair) {
  auto got = make_tls_context(cert("a"), key("a"));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_NE(*got, nullptr);
}

TEST_F(TlsContextTest, MissingCertificateNamesTheFile) {
  auto got = make_tls_context(dir_ / "nope.pem", key("a"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message.rfind("tls_certificate " + (dir_ / "nope.pem").string() + ": ", 0),
            0u)
      << got.error().message;
  EXPECT_EQ(got.error().kind, ErrorClass::permanent);
}

TEST_F(TlsContextTest, GarbageCertificateIsRefused) {
  std::ofstream(dir_ / "garbage.pem") << "this is not a certificate\n";
  auto got = make_tls_context(dir_ / "garbage.pem", key("a"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message.rfind("tls_certificate ", 0), 0u) << got.error().message;
}

TEST_F(TlsContextTest, MissingKeyNamesTheFile) {
  auto got = make_tls_context(cert("a"), dir_ / "nokey.pem");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message.rfind("tls_private_key " + (dir_ / "nokey.pem").string() + ": ", 0),
            0u)
      << got.error().message;
}

TEST_F(TlsContextTest, KeyOfAnotherCertificateIsRefused) {
  auto got = make_tls_context(cert("a"), key("b"));
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find(key("b").string()), std::string::npos) << got.error().message;
}

}  // namespace
}  // namespace tlpmail::net
