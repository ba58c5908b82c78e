// lib/backup on a state folder made here (a real tlpmail.db, spool files,
// a GnuPG-like home with a socket and lock files, keys.d) without gpg or a
// daemon: what a backup holds and leaves out, its modes, the manifest's
// checks (tampered file, extra file, a path that climbs out), and restore
// into an empty, a missing and a non-empty state.
#include "backup/backup.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "store/database.h"
#include "store/schema.h"
#include "support/temp_dir.h"

namespace tlpmail::backup {
namespace {

namespace fs = std::filesystem;
using ::tlpmail::testing::TempDir;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? (st.st_mode & 0777) : 0xFFFF;
}

int newest() { return static_cast<int>(store::migrations().size()); }

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = fs::path(root_.path()) / "state";
    fs::create_directories(state_ / "spool" / "msg");
    auto db = store::Database::open(state_ / "tlpmail.db");
    ASSERT_TRUE(db) << db.error().message;
    // q1 waits for its fan-out; q2 is done (its file is a leftover).
    ASSERT_TRUE(
        (*db)->execute("INSERT INTO spool_messages VALUES ('q1', 1, 'a@x', 5, 'received', 1),"
                       " ('q2', 1, 'a@x', 5, 'done', 1)"));
    write(state_ / "spool" / "msg" / "q1", "hello");
    write(state_ / "spool" / "msg" / "q2", "stale");
    write(state_ / "spool" / "msg" / "q3", "not committed");  // no row yet
    write(state_ / "gnupg" / "pubring.kbx", "public");
    write(state_ / "gnupg" / "private-keys-v1.d" / "ABCD.key", "SECRET");
    write(state_ / "gnupg" / "pubring.kbx.lock", "lock");
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", (state_ / "gnupg" / "S.gpg-agent").c_str());
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::close(s);
    write(state_ / "keys.d" / "FPR.asc", "key update");
  }

  fs::path out() const { return fs::path(root_.path()) / "backup"; }

  TempDir root_;
  fs::path state_;
};

TEST_F(BackupTest, HoldsTheStateAndNothingElse) {
  auto r = make_backup(state_, out(), "9.9.9", 1'800'000'000);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->spooled, 1u);
  EXPECT_EQ(r->gnupg_files, 2u);
  EXPECT_EQ(r->updated_keys, 1u);
  EXPECT_EQ(r->manifest.schema, newest());
  std::vector<std::string> paths;
  for (const auto& f : r->manifest.files) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"tlpmail.db", "spool/msg/q1",
                                             "gnupg/private-keys-v1.d/ABCD.key",
                                             "gnupg/pubring.kbx", "keys.d/FPR.asc"}));
  EXPECT_FALSE(fs::exists(out() / "spool" / "msg" / "q2"));
  EXPECT_FALSE(fs::exists(out() / "spool" / "msg" / "q3"));
  EXPECT_FALSE(fs::exists(out() / "gnupg" / "S.gpg-agent"));
  EXPECT_EQ(read(out() / "gnupg" / "private-keys-v1.d" / "ABCD.key"), "SECRET");
  EXPECT_EQ(mode_of(out()), 0700u);
  EXPECT_EQ(mode_of(out() / "gnupg" / "private-keys-v1.d"), 0700u);
  EXPECT_EQ(mode_of(out() / "gnupg" / "private-keys-v1.d" / "ABCD.key"), 0600u);
  EXPECT_EQ(mode_of(out() / "tlpmail.db"), 0600u);
  EXPECT_EQ(mode_of(out() / kManifestName), 0600u);
  std::string manifest = read(out() / kManifestName);
  EXPECT_NE(manifest.find("created = '2027-01-15T08:00:00Z'"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("version = '9.9.9'"), std::string::npos) << manifest;

  auto again = make_backup(state_, out(), "9.9.9", 1);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("is not an empty folder"), std::string::npos);
}

TEST_F(BackupTest, VerifyRefusesWhatDoesNotCheckOut) {
  ASSERT_TRUE(make_backup(state_, out(), "9.9.9", 1));
  ASSERT_TRUE(verify_backup(out(), newest()));

  auto refused = [&](const std::string& want) {
    auto v = verify_backup(out(), newest());
    EXPECT_FALSE(v) << want;
    if (!v) {
      EXPECT_NE(v.error().message.find(want), std::string::npos) << v.error().message;
    }
  };
  write(out() / "keys.d" / "FPR.asc", "key updatf");
  refused("keys.d/FPR.asc differs from the manifest");
  write(out() / "keys.d" / "FPR.asc", "key update");
  write(out() / "extra", "x");
  refused("extra is not in the manifest");
  fs::remove(out() / "extra");
  EXPECT_TRUE(verify_backup(out(), newest()));
  EXPECT_FALSE(verify_backup(out(), newest() - 1));  // from a newer tlpmail

  std::string m = read(out() / kManifestName);
  std::string climbing = m;
  climbing.replace(climbing.find("path = 'keys.d/FPR.asc'"), 23, "path = '../etc/passwd'");
  write(out() / kManifestName, climbing);
  refused("a file entry is malformed");
  fs::remove(out() / kManifestName);
  refused("is not a tlpmail backup");
}

TEST_F(BackupTest, RestoreIntoEmptyMissingAndNonEmptyState) {
  ASSERT_TRUE(make_backup(state_, out(), "9.9.9", 1));
  const fs::path fresh = fs::path(root_.path()) / "fresh" / "state";
  auto r = restore_backup(out(), fresh, RestoreOptions{false, newest()});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->replaced);
  EXPECT_EQ(read(fresh / "spool" / "msg" / "q1"), "hello");
  EXPECT_EQ(read(fresh / "gnupg" / "private-keys-v1.d" / "ABCD.key"), "SECRET");
  EXPECT_EQ(mode_of(fresh), 0700u);
  EXPECT_FALSE(fs::exists(fresh / ".restore"));
  auto db = store::Database::open(fresh / "tlpmail.db");
  ASSERT_TRUE(db) << db.error().message;
  auto rows = (*db)->query("SELECT id FROM spool_messages WHERE state = 'received'");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].text(0), "q1");
  db->reset();

  write(state_ / "keys.d" / "FPR.asc", "changed since");
  auto no = restore_backup(out(), state_, RestoreOptions{false, newest()});
  ASSERT_FALSE(no);
  EXPECT_NE(no.error().message.find("is not empty: pass --force"), std::string::npos);
  EXPECT_EQ(read(state_ / "keys.d" / "FPR.asc"), "changed since");
  write(state_ / "unrelated.txt", "kept");
  auto yes = restore_backup(out(), state_, RestoreOptions{true, newest()});
  ASSERT_TRUE(yes) << yes.error().message;
  EXPECT_TRUE(yes->replaced);
  EXPECT_EQ(read(state_ / "keys.d" / "FPR.asc"), "key update");
  EXPECT_FALSE(fs::exists(state_ / "spool" / "msg" / "q2"));
  EXPECT_EQ(read(state_ / "unrelated.txt"), "kept");
}

}  // namespace
}  // namespace tlpmail::backup
