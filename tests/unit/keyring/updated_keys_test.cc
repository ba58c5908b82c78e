// Tests of the keys members updated by mail (state_dir/keys.d, keyring.h
// "keys updated by mail") with real gpg and a real configuration tree:
// the stored file and its date, load_keys merging keys.d with keys_dir
// (a later expiry wins, the source says where it came from), a keys.d file
// holding a foreign key refusing the load, files of unpinned fingerprints
// ignored, and a revocation certificate in keys_dir taking effect whatever
// its file name.
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "config/config.h"
#include "keyring/keyring.h"
#include "keyring/two_members_fixture.h"
#include "openpgp/context.h"
#include "openpgp/gpg_test_keys.h"
#include "openpgp/temp_home.h"
#include "support/files.h"

namespace tlpmail::keyring {
namespace {

namespace fs = std::filesystem;
namespace tk = tlpmail::testkeys;

class UpdatedKeysTest : public tk::TwoMembersTest {
 protected:
  void SetUp() override {
    TwoMembersTest::SetUp();
    if (HasFatalFailure()) return;
    bob_short_ = tk::export_public(gen(), bob_);  // expiring in 10 days
  }

  // The tree of write_tree() with list x@ and `bob_key` in keys/bob.asc
  // (bob_short_: as exported at SetUp).
  std::shared_ptr<const config::Config> write_config(const std::string& bob_key) {
    return write_tree("x@lists.example.org", bob_key);
  }

  KeyReport load(const config::Config& cfg) {
    auto r = load_keys(cfg, home_->path(), std::time(nullptr));
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(r).value() : KeyReport{};
  }

  std::string extended_bob() {
    extend_bob();
    return tk::export_public(gen(), bob_);
  }

  static std::string errors(const KeyReport& r) {
    std::string out;
    for (const auto& d : r.diagnostics) {
      if (d.severity == config::Severity::error) out += d.to_string() + "\n";
    }
    return out;
  }

  std::string bob_short_;
};

TEST_F(UpdatedKeysTest, StoredFileCarriesItsDate) {
  auto cfg = write_config(bob_short_);
  ASSERT_TRUE(cfg);
  const std::time_t when = 1790000000;  // 2026-09-21T14:13:20Z
  auto file = store_updated_key(*cfg, bob_, extended_bob(), when);
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(*file, updated_key_file(*cfg, bob_));
  EXPECT_EQ(file->parent_path(), fs::path(root()) / "state" / "keys.d");
  const std::string text = testing::read_file(*file);
  EXPECT_NE(text.find("-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: updated by mail "
                      "2026-09-21T14:13:20Z\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(updated_key_date(text), when);
  EXPECT_EQ(fs::status(file->parent_path()).permissions() & fs::perms::all, fs::perms::owner_all);
  // No temporary file is left beside it.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(file->parent_path())) entries += !e.path().empty();
  EXPECT_EQ(entries, 1);

  struct Case {
    const char* name;
    std::string text;
    std::time_t want;
  };
  const Case cases[] = {
      {"no header", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n", 0},
      {"header after the blank line does not count",
       "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nComment: updated by mail 2026-09-21T14:13:20Z\n",
       0},
      {"bad date", "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: updated by mail 2026-13-45\n\n",
       0},
      {"CRLF", "-----BEGIN PGP PUBLIC KEY BLOCK-----\r\nVersion: x\r\nComment: updated by mail "
               "2026-09-21T14:13:20Z\r\n\r\n",
       when},
      {"not armor", "Comment: updated by mail 2026-09-21T14:13:20Z\n", 0},
  };
  for (const Case& c : cases) EXPECT_EQ(updated_key_date(c.text), c.want) << c.name;

  EXPECT_FALSE(store_updated_key(*cfg, "1234", extended_bob(), when));
  EXPECT_FALSE(store_updated_key(*cfg, bob_, "no key here", when));
}

TEST_F(UpdatedKeysTest, LaterExpiryFromMailWins) {
  auto cfg = write_config(bob_short_);
  ASSERT_TRUE(cfg);
  KeyReport before = load(*cfg);
  const PersonKey* b = before.find(kBob);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, KeyStatus::expires_soon);
  EXPECT_EQ(b->source, KeySource::keys_dir);
  EXPECT_TRUE(b->update_file.empty());

  const std::time_t when = std::time(nullptr) - 60;
  ASSERT_TRUE(store_updated_key(*cfg, bob_, extended_bob(), when));
  KeyReport after = load(*cfg);
  EXPECT_EQ(errors(after), "");
  b = after.find(kBob);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, KeyStatus::ok) << b->status_word;
  EXPECT_GT(b->usable_until, std::time(nullptr) + 700 * 86400);
  EXPECT_EQ(b->source, KeySource::mail);
  EXPECT_EQ(b->source_date, when);
  EXPECT_EQ(b->update_file, updated_key_file(*cfg, bob_));
  EXPECT_EQ(b->file, fs::path(root()) / "keys" / "bob.asc");
  EXPECT_EQ(to_string(b->source), "update by mail");
  EXPECT_EQ(after.find(kAlice)->source, KeySource::keys_dir);

  // The admins put the same update into keys_dir: keys.d brings nothing
  // more, the source is keys_dir again.
  auto cfg2 = write_config(tk::export_public(gen(), bob_));
  KeyReport merged = load(*cfg2);
  b = merged.find(kBob);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, KeyStatus::ok);
  EXPECT_EQ(b->source, KeySource::keys_dir);
  EXPECT_EQ(b->update_file, updated_key_file(*cfg2, bob_));

  // An older keys_dir file does not undo the update (the newest
  // self-signature counts).
  // (Each report is kept in a variable: find() points into it.)
  auto cfg3 = write_config(bob_short_);
  KeyReport older = load(*cfg3);
  b = older.find(kBob);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, KeyStatus::ok);
  EXPECT_EQ(b->source, KeySource::mail);

  // Only in keys.d: still the pinned key, from there.
  fs::remove(root() + "/keys/bob.asc");
  KeyReport only_mail = load(*cfg3);
  b = only_mail.find(kBob);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, KeyStatus::ok);
  EXPECT_EQ(b->file, updated_key_file(*cfg3, bob_));
  EXPECT_EQ(b->source, KeySource::mail);
}

TEST_F(UpdatedKeysTest, ForeignKeyInKeysDIsAnError) {
  auto cfg = write_config(bob_short_);
  ASSERT_TRUE(cfg);
  // A file named for bob that holds alice's key (written past
  // store_updated_key, as by hand).
  fs::create_directories(updated_keys_dir(*cfg));
  tk::write_file(updated_key_file(*cfg, bob_).string(), tk::export_public(gen(), alice_));
  KeyReport r = load(*cfg);
  EXPECT_EQ(errors(r), updated_key_file(*cfg, bob_).string() +
                           ": cannot import: a file of keys updated by mail must hold the key " +
                           bob_ + " only (it holds " + alice_ + "); remove the file and reload\n");
  EXPECT_TRUE(r.has_errors());
  // Nothing reached the caller's home.
  EXPECT_FALSE(fs::exists(home_->path() / "pubring.kbx"));
}

TEST_F(UpdatedKeysTest, UnpinnedAndBadlyNamedFilesAreIgnored) {
  auto cfg = write_config(bob_short_);
  ASSERT_TRUE(cfg);
  const std::string stranger =
      tk::generate(gen(), "S", "stranger@elsewhere.example", "ed25519", "sign,cert", "never");
  fs::create_directories(updated_keys_dir(*cfg));
  tk::write_file(updated_key_file(*cfg, stranger).string(), tk::export_public(gen(), stranger));
  tk::write_file((updated_keys_dir(*cfg) / "bob.asc").string(), extended_bob());
  tk::write_file((updated_keys_dir(*cfg) / ("." + bob_ + ".asc.tmp")).string(), extended_bob());
  KeyReport r = load(*cfg);
  EXPECT_EQ(errors(r), "");
  EXPECT_TRUE(r.unpinned.empty());
  EXPECT_EQ(r.find(kBob)->status, KeyStatus::expires_soon);
  EXPECT_EQ(r.find(kBob)->source, KeySource::keys_dir);
}

TEST_F(UpdatedKeysTest, RevocationFileCountsWhateverItsName) {
  auto cfg = write_config(bob_short_);
  ASSERT_TRUE(cfg);
  std::string rev = testing::read_file(gen() + "/openpgp-revocs.d/" + bob_ + ".rev");
  rev.erase(rev.find(":-----BEGIN"), 1);
  rev = rev.substr(rev.find("-----BEGIN"));
  // "0-..." sorts before bob.asc: a revocation is imported after every key.
  tk::write_file(root() + "/keys/0-bob-revoked.asc", rev);
  KeyReport r = load(*cfg);
  EXPECT_EQ(errors(r), "");
  EXPECT_EQ(r.find(kBob)->status, KeyStatus::revoked);
  EXPECT_EQ(r.find(kAlice)->status, KeyStatus::ok);
  // The same in the daemon's home, not only in the staging home.
  auto ctx = openpgp::Context::open(home_->path());
  ASSERT_TRUE(ctx);
  auto held = ctx->find_key(bob_);
  ASSERT_TRUE(held && *held);
  EXPECT_TRUE((*held)->revoked);
}

}  // namespace
}  // namespace tlpmail::keyring
