// Test fixture shared by the tests of keys updated by mail (keyring's
// keys.d, requests' update-key): Alice and Bob's keys made with real gpg in
// a generating home, a configuration tree naming both, and an empty home
// for the daemon. Test-only; what each test checks stays in its own file.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "config/config.h"
#include "openpgp/context.h"
#include "openpgp/gpg_test_keys.h"
#include "openpgp/temp_home.h"

namespace tlpmail::testkeys {

class TwoMembersTest : public ::testing::Test {
 protected:
  static constexpr const char* kAlice = "alice@csirt-a.example";
  static constexpr const char* kBob = "bob@csirt-b.example";

  static void SetUpTestSuite() { ASSERT_TRUE(openpgp::initialize()); }

  // Alice's key never expires; Bob's expires in 10 days (he extends it
  // later in the generating home). Each: ed25519 primary, cv25519 subkey.
  void SetUp() override {
    gen_ = new_home();
    root_ = new_home();
    home_ = new_home();
    ASSERT_TRUE(gen_ && root_ && home_);
    alice_ = generate(gen(), "Alice", kAlice, "ed25519", "sign,cert", "never");
    add_subkey(gen(), alice_, "cv25519", "encr", "never");
    bob_ = generate(gen(), "Bob", kBob, "ed25519", "sign,cert", "10d");
    add_subkey(gen(), bob_, "cv25519", "encr", "10d");
  }

  std::string root() const { return root_->path().string(); }
  std::string gen() const { return gen_->path().string(); }

  // In root(): tlpmail.toml (state_dir "state"), directory.toml (alice,
  // bob, AMBER), lists.d/<local part>.toml for `list` with both as members
  // and alice as admin, keys/alice.asc as exported now and keys/bob.asc
  // holding `bob_key`. Returns the loaded config; an error fails the test.
  std::shared_ptr<const config::Config> write_tree(const std::string& list,
                                                   const std::string& bob_key) {
    namespace fs = std::filesystem;
    fs::create_directories(root() + "/keys");
    fs::create_directories(root() + "/lists.d");
    write_file(root() + "/tlpmail.toml",
               "[server]\nhostname = \"lists.example.org\"\nlisten = [\"127.0.0.1:10030\"]\n"
               "[paths]\nstate_dir = \"state\"\n");
    std::string dir;
    for (const auto& [email, fpr] :
         {std::pair<std::string, std::string>{kAlice, alice_}, {kBob, bob_}}) {
      dir += "[[person]]\nemail = \"" + email +
             "\"\nname = \"T\"\norganization = \"C\"\n"
             "country = \"AT\"\nfingerprint = \"" +
             fpr + "\"\nclearance = \"AMBER\"\n\n";
    }
    write_file(root() + "/directory.toml", dir);
    write_file(root() + "/lists.d/" + list.substr(0, list.find('@')) + ".toml",
               "address = \"" + list + "\"\ntlp_ceiling = \"AMBER\"\nmembers = [\"" + kAlice +
                   "\", \"" + kBob + "\"]\nadmins = [\"" + kAlice + "\"]\n");
    write_file(root() + "/keys/alice.asc", export_public(gen(), alice_));
    write_file(root() + "/keys/bob.asc", bob_key);
    auto loaded = config::load_config(root() + "/tlpmail.toml");
    for (const auto& d : loaded.diagnostics) {
      if (d.severity == config::Severity::error) ADD_FAILURE() << d.to_string();
    }
    return loaded.config;
  }

  // Bob moves the expiry of his key and of its subkey to two years ahead.
  void extend_bob() {
    gpg(gen(), {"--quick-set-expire", bob_, "2y"});
    gpg(gen(), {"--quick-set-expire", bob_, "2y", "*"});
  }

  std::unique_ptr<openpgp::TempHome> gen_, root_, home_;
  std::string alice_, bob_;
};

}  // namespace tlpmail::testkeys
