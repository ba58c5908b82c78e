// Test fixture for lib/config: a real configuration tree in a fresh temp
// dir, entered as the working directory so that diagnostics read exactly
// "config/lists.d/ops.toml:4: ..." (the main file is given as
// "config/tlpmail.toml"). The base tree is valid; each test breaks one thing.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "support/temp_dir.h"

namespace tlpmail::config::testing {

inline constexpr std::string_view kMain = R"([server]
hostname = "lists.example.org"
)";

// The first person of kDirectory (lines 1-7), with every common key.
inline constexpr std::string_view kAlice = R"([[person]]
email = "alice@csirt-a.example"
name = "Alice Example"
organization = "CSIRT-A"
country = "AT"
fingerprint = "0123456789ABCDEF0123456789ABCDEF01234567"
clearance = "RED"
)";

// Line numbers matter: tests name them.
inline const std::string kDirectory = std::string(kAlice) + R"(
[[person]]
email = "bob@csirt-b.example"
name = "Bob Example"
fingerprint = "1111111111111111111111111111111111111111"
clearance = "AMBER"

[[person]]
email = "soc@csirt-c.example"
name = "CSIRT-C SOC"
fingerprint = "2222222222222222222222222222222222222222"
clearance = "AMBER+STRICT"
kind = "team"
)";

inline constexpr std::string_view kOpsList = R"(address = "csirt-ops@lists.example.org"
description = "CSIRT Network operational exchange"
tlp_ceiling = "AMBER"
tlp_default = "GREEN"
members = ["alice@csirt-a.example", "bob@csirt-b.example", "soc@csirt-c.example"]
admins = ["alice@csirt-a.example"]
)";

using Lines = std::vector<std::string>;

// One row of a table test: the whole text of one file and every diagnostic
// of loading the tree with it (name says what the row breaks).
struct FileCase {
  std::string name;
  std::string text;
  Lines want;
};

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_cwd_ = std::filesystem::current_path();
    std::filesystem::current_path(root_.path());
    std::filesystem::create_directories("config/lists.d");
    std::filesystem::create_directories("config/keys");
    write("config/tlpmail.toml", kMain);
    write("config/directory.toml", kDirectory);
    write("config/lists.d/ops.toml", kOpsList);
  }

  void TearDown() override { std::filesystem::current_path(old_cwd_); }

  // Writes `text` to `path` (relative to the temp dir).
  static void write(const std::filesystem::path& path, std::string_view text) {
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    ASSERT_TRUE(out.good()) << path;
  }

  // Every diagnostic of loading config/tlpmail.toml, as printed.
  static std::vector<std::string> check(const std::filesystem::path& main = "config/tlpmail.toml") {
    LoadResult r = load_config(main);
    std::vector<std::string> out;
    for (const auto& d : r.diagnostics) out.push_back(d.to_string());
    bool has_error = false;
    for (const auto& d : r.diagnostics) has_error = has_error || d.severity == Severity::error;
    EXPECT_EQ(r.ok(), !has_error) << "a config must be returned exactly when there is no error";
    return out;
  }

  // Writes `text` to `path` (write()), then every diagnostic of loading
  // config/tlpmail.toml (check()): one broken file, its FILE:LINE errors.
  static std::vector<std::string> check_with(const std::filesystem::path& path,
                                             std::string_view text) {
    write(path, text);
    return check();
  }

  // Each row in turn: check_with(path, row.text) must be row.want. The other
  // files stay the base tree's, so a row breaks exactly one thing.
  static void expect_each(const std::filesystem::path& path, std::span<const FileCase> cases) {
    for (const FileCase& c : cases) EXPECT_EQ(check_with(path, c.text), c.want) << c.name;
  }

  // config/tlpmail.toml as kMain (its [server] hostname, lines 1-2) followed
  // by `rest` from line 3 on.
  static void write_main(std::string_view rest) {
    write("config/tlpmail.toml", std::string(kMain) + std::string(rest));
  }

  // write_main(rest), then every diagnostic (check()).
  static std::vector<std::string> check_main(std::string_view rest) {
    write_main(rest);
    return check();
  }

  // Loads and expects success without any diagnostic.
  static std::shared_ptr<const Config> load_ok(
      const std::filesystem::path& main = "config/tlpmail.toml") {
    LoadResult r = load_config(main);
    for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
    EXPECT_TRUE(r.ok());
    return r.config;
  }

  // load_ok(), kept in loaded_, then the person at `email`: nullptr and a
  // test failure when the load or the lookup fails.
  const directory::Person* load_person(std::string_view email) {
    loaded_ = load_ok();
    const directory::Person* p = loaded_ ? loaded_->directory.find_person(email) : nullptr;
    EXPECT_NE(p, nullptr) << email;
    return p;
  }

  std::shared_ptr<const Config> loaded_;  // by load_person()
  ::tlpmail::testing::TempDir root_;      // the working directory while a test runs
  std::filesystem::path old_cwd_;
};

// `text` with the one occurrence of `from` replaced by `to`.
inline std::string replaced(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  auto pos = out.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) out.replace(pos, from.size(), to);
  return out;
}

// kDirectory plus a fourth [[person]] at line 22 whose first key is at
// line 23.
inline std::string with_person(std::string_view keys) {
  return std::string(kDirectory) + "\n[[person]]\n" + std::string(keys);
}

// with_person(): a fourth person Dave, valid, whose four required keys
// stand at lines 23-26; `more` follows from line 27 on.
inline std::string with_dave(std::string_view more) {
  return with_person(std::string(R"(email = "dave@csirt-d.example"
name = "Dave Example"
fingerprint = "3333333333333333333333333333333333333333"
clearance = "GREEN"
)") + std::string(more));
}

}  // namespace tlpmail::config::testing
