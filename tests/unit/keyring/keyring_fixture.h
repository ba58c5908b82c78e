// Shared by the load_keys() suites (keyring_test.cc,
// key_import_safety_test.cc): per test, a configuration root and an empty
// GnuPG home for load_keys() in short temporary folders; per suite, gen_,
// the home the suite makes its test keys in. Test plumbing only.
#pragma once

#include <gtest/gtest.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "keyring/keyring.h"
#include "openpgp/gpg_test_keys.h"
#include "openpgp/temp_home.h"

namespace tlpmail::keyring::testing {

class KeyringFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testkeys::new_home();
    ASSERT_TRUE(root_);
    home_ = testkeys::new_home();
    ASSERT_TRUE(home_);
  }

  std::string root() const { return root_->path().string(); }
  std::string keys_dir() const { return root() + "/keys"; }
  std::string home() const { return home_->path().string(); }

  // load_keys() into the test's home; a test failure when it fails.
  KeyReport load(const config::Config& cfg, std::time_t now = std::time(nullptr)) {
    auto r = load_keys(cfg, home_->path(), now);
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(r).value() : KeyReport{};
  }

  // Every diagnostic of a load, as printed.
  static std::vector<std::string> texts(const KeyReport& r) {
    std::vector<std::string> out;
    for (const auto& d : r.diagnostics) out.push_back(d.to_string());
    return out;
  }

  static inline std::unique_ptr<openpgp::TempHome> gen_;
  std::unique_ptr<openpgp::TempHome> root_;
  std::unique_ptr<openpgp::TempHome> home_;
};

}  // namespace tlpmail::keyring::testing
