// A member key that expires DURING the test: libfaketime (LD_PRELOAD +
// FAKETIME_TIMESTAMP_FILE, FAKETIME_NO_CACHE=1) moves the clock of every gpg
// this process spawns (the test's own gpg commands and those GPGME spawns)
// while the test process itself keeps the real clock and passes `now`
// explicitly. One key (valid 1 day) is generated with real gpg. Not here:
// the fixture corpus (corpus_test.cc) or the single rules (rules_test.cc).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "intake/record.h"
#include "intake/replies.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "pipeline/verifier.h"
#include "store/database.h"
#include "support/files.h"

namespace tlpmail::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFaketimeLib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
constexpr const char* kList = "ops@lists.example.org";
constexpr const char* kMember = "alice@a.example";
constexpr std::time_t kDay = 86400;
// The environment variables this test sets for its children.
const char* const kEnvNames[] = {"LD_PRELOAD", "FAKETIME_TIMESTAMP_FILE", "FAKETIME_NO_CACHE"};

using ::tlpmail::testing::read_file;

void write_file(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

std::string to_crlf(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' && (out.empty() || out.back() != '\r')) out += '\r';
    out += c;
  }
  return out;
}

class ExpiryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(openpgp::initialize().has_value());
    ASSERT_TRUE(fs::exists(kFaketimeLib)) << kFaketimeLib << " (Debian package faketime)";
    for (const char* name : kEnvNames) {
      const char* v = getenv(name);
      saved_env_.push_back(v ? std::optional<std::string>(v) : std::nullopt);
    }
    char tmpl[] = "/tmp/tlpt-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    clock_file_ = root_ / "clock";
    set_fake_offset("+0");
    // From here on every child of this process runs under libfaketime. The
    // test process itself is not preloaded (setenv reaches children only).
    setenv("FAKETIME_TIMESTAMP_FILE", clock_file_.c_str(), 1);
    setenv("FAKETIME_NO_CACHE", "1", 1);
    setenv("LD_PRELOAD", kFaketimeLib, 1);
    env_set_ = true;
  }

  void TearDown() override {
    gpg_.reset();
    db_.reset();
    if (!root_.empty()) {
      for (const char* h : {"s", "g"}) {
        const std::string kill =
            "gpgconf --homedir " + (root_ / h).string() + " --kill all >/dev/null 2>&1";
        (void)std::system(kill.c_str());
      }
      std::error_code ec;
      fs::remove_all(root_, ec);
    }
    if (env_set_) {
      for (std::size_t i = 0; i < saved_env_.size(); ++i) {
        if (saved_env_[i]) {
          setenv(kEnvNames[i], saved_env_[i]->c_str(), 1);
        } else {
          unsetenv(kEnvNames[i]);
        }
      }
    }
  }

  // Moves the fake clock of every gpg process (running or future):
  // libfaketime's relative offset syntax, e.g. "+0", "+23h", "+2d".
  void set_fake_offset(const std::string& offset) { write_file(clock_file_, offset + "\n"); }

  // The sender's gpg (a child of the test process, so under libfaketime).
  int sender_gpg(const std::string& args) {
    const std::string cmd = "gpg --homedir " + (root_ / "s").string() +
                            " --batch --yes --no-tty --pinentry-mode loopback --passphrase '' "
                            "--trust-model always " +
                            args + " >" + (root_ / "gpg.out").string() + " 2>" +
                            (root_ / "gpg.err").string();
    const int rc = std::system(cmd.c_str());
    if (rc != 0) ADD_FAILURE() << cmd << "\n" << read_file(root_ / "gpg.err");
    return rc;
  }

  // Generates a key (ed25519 primary + cv25519 encryption subkey, both
  // valid for `expire` from the fake "now") in the sender's home and
  // exports it to the config's keys/ folder; returns its fingerprint.
  std::string make_key(const std::string& name, const std::string& email,
                       const std::string& expire) {
    if (sender_gpg("--quick-gen-key '" + name + " <" + email + ">' ed25519 sign,cert " + expire) !=
            0 ||
        sender_gpg("--with-colons --list-keys " + email) != 0) {
      return "";
    }
    std::istringstream colons(read_file(root_ / "gpg.out"));
    std::string line;
    std::string fpr;
    while (std::getline(colons, line) && fpr.empty()) {
      // fpr:::::::::FINGERPRINT:  (field 10); the first is the primary's.
      if (line.rfind("fpr:", 0) != 0) continue;
      std::size_t pos = 0;
      for (int i = 0; i < 9 && pos != std::string::npos; ++i) pos = line.find(':', pos + 1);
      if (pos != std::string::npos) fpr = line.substr(pos + 1, 40);
    }
    if (fpr.size() != 40) {
      ADD_FAILURE() << read_file(root_ / "gpg.out");
      return "";
    }
    const fs::path file = root_ / "config" / "keys" / (email + ".TEST-ONLY.asc");
    if (sender_gpg("--quick-add-key " + fpr + " cv25519 encr " + expire) != 0 ||
        sender_gpg("--armor --output " + file.string() + " --export " + fpr) != 0) {
      return "";
    }
    return fpr;
  }

  // Makes alice's key (valid one day: the one that expires) and bob's
  // (no expiry; a second member, so that the list has a recipient other
  // than the sender), and writes the configuration.
  void make_key_and_config() {
    fs::create_directories(root_ / "s");
    fs::permissions(root_ / "s", fs::perms::owner_all, fs::perm_options::replace);
    fs::create_directories(root_ / "config" / "keys");
    fpr_ = make_key("Alice Example", kMember, "1d");
    ASSERT_EQ(fpr_.size(), 40u);
    const std::string bob = make_key("Bob Beispiel", "bob@b.example", "never");
    ASSERT_EQ(bob.size(), 40u);
    const fs::path cfg = root_ / "config";
    write_file(cfg / "tlpmail.toml",
               "[server]\nhostname = \"lists.example.org\"\nlisten = [\"127.0.0.1:10030\"]\n"
               "protocol = \"smtp\"\n\n[relay]\nhost = \"127.0.0.1\"\nport = 10031\n"
               "starttls = \"off\"\n\n[paths]\nstate_dir = \"state\"\n"
               "directory = \"directory.toml\"\nlists_dir = \"lists.d\"\nkeys_dir = \"keys\"\n");
    write_file(cfg / "directory.toml",
               "[[person]]\nemail = \"alice@a.example\"\nname = \"Alice Example\"\n"
               "organization = \"A\"\ncountry = \"AT\"\nfingerprint = \"" +
                   fpr_ +
                   "\"\nclearance = \"RED\"\nkind = \"person\"\n\n"
                   "[[person]]\nemail = \"bob@b.example\"\nname = \"Bob Beispiel\"\n"
                   "organization = \"B\"\ncountry = \"DE\"\nfingerprint = \"" +
                   bob + "\"\nclearance = \"RED\"\nkind = \"person\"\n");
    write_file(cfg / "lists.d" / "ops.toml",
               std::string("address = \"") + kList +
                   "\"\ndescription = \"expiry test\"\ntlp_ceiling = \"AMBER\"\n"
                   "tlp_default = \"AMBER\"\nmembers = [\"alice@a.example\", \"bob@b.example\"]\n"
                   "admins = [\"alice@a.example\"]\ndeliver_to_sender = true\n");
    auto loaded = config::load_config(cfg / "tlpmail.toml");
    for (const auto& d : loaded.diagnostics) {
      if (d.severity == config::Severity::error) ADD_FAILURE() << d.to_string();
    }
    ASSERT_TRUE(loaded.ok());
    config_ = loaded.config;
    auto ctx = openpgp::Context::open(root_ / "g");
    ASSERT_TRUE(ctx.has_value()) << ctx.error().message;
    gpg_ = std::make_unique<openpgp::Context>(std::move(ctx).value());
    auto db = store::Database::open(root_ / "tlpmail.db");
    ASSERT_TRUE(db.has_value()) << db.error().message;
    db_ = std::move(db).value();
  }

  // A PGP/MIME signed message from the member, signed by the sender's gpg
  // at the current fake time.
  std::string signed_message(const std::string& tag) {
    const std::string part = to_crlf(
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n"
        "TLP:GREEN\n\nExpiry test " +
        tag + ".\n");
    write_file(root_ / "part", part);
    if (sender_gpg("--armor --detach-sign --digest-algo SHA256 --local-user " + fpr_ +
                   " --output - " + (root_ / "part").string()) != 0) {
      return "";
    }
    const std::string sig = to_crlf(read_file(root_ / "gpg.out"));
    return to_crlf(std::string("From: Alice Example <") + kMember + ">\nTo: " + kList +
                   "\nSubject: expiry " + tag + "\nMessage-ID: <" + tag +
                   "@a.example>\nMIME-Version: 1.0\n"
                   "Content-Type: multipart/signed; micalg=pgp-sha256;\n"
                   " protocol=\"application/pgp-signature\"; boundary=\"b1\"\n\n--b1\n") +
           part + "\r\n--b1\r\nContent-Type: application/pgp-signature\r\n\r\n" + sig +
           "\r\n--b1--\r\n";
  }

  const keyring::PersonKey* alice(const keyring::KeyReport& report) {
    return report.find(kMember);
  }

  fs::path root_;
  fs::path clock_file_;
  std::vector<std::optional<std::string>> saved_env_;
  bool env_set_ = false;
  std::string fpr_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<openpgp::Context> gpg_;
  std::unique_ptr<store::Database> db_;
};

TEST_F(ExpiryTest, KeyExpiresWhileTheFakeClockMoves) {
  ASSERT_NO_FATAL_FAILURE(make_key_and_config());
  const directory::MailingList* list = config_->directory.find_list(kList);
  ASSERT_NE(list, nullptr);
  const std::time_t day0 = std::time(nullptr);  // the test process keeps the real clock

  // Day 0: the key is fresh; gpg (spawned by GPGME) sees it unexpired.
  auto keys0 = keyring::load_keys(*config_, root_ / "g", day0);
  ASSERT_TRUE(keys0.has_value()) << keys0.error().message;
  ASSERT_NE(alice(*keys0), nullptr);
  EXPECT_TRUE(alice(*keys0)->usable) << alice(*keys0)->status_word;
  EXPECT_EQ(alice(*keys0)->status, keyring::KeyStatus::expires_soon);
  const auto seen0 = gpg_->find_key(fpr_);
  ASSERT_TRUE(seen0.has_value() && seen0->has_value());
  EXPECT_FALSE((*seen0)->expired);
  {
    const std::string raw = signed_message("day0");
    ASSERT_FALSE(raw.empty());
    Verifier v(*config_, *keys0, *db_);
    auto got = v.verify(*gpg_, *list, raw, day0);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_TRUE(got->accepted) << intake::reply_for(*got).to_string();
    EXPECT_EQ(intake::reply_for(*got).code, 250);
    ASSERT_TRUE(intake::record(*db_, *got, *list, "Q1", day0).has_value());
  }

  // 23 hours later (the key still valid) the member signs a second
  // message; verified then, it is accepted.
  set_fake_offset("+23h");
  const std::string late = signed_message("late");
  ASSERT_FALSE(late.empty());
  {
    Verifier v(*config_, *keys0, *db_);
    auto got = v.verify(*gpg_, *list, late, day0 + 23 * 3600);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_TRUE(got->accepted) << intake::reply_for(*got).to_string();
  }

  // Day 2: the key expired a day ago. The gpg processes GPGME spawns now
  // see it expired (proof that libfaketime reaches them: the real clock
  // says otherwise), and the pipeline, judging at now = day 2, refuses.
  set_fake_offset("+2d");
  const std::time_t day2 = day0 + 2 * kDay;
  const auto seen2 = gpg_->find_key(fpr_);
  ASSERT_TRUE(seen2.has_value() && seen2->has_value());
  EXPECT_TRUE((*seen2)->expired) << "libfaketime did not reach the gpg GPGME spawned";
  // The sender's gpg refuses to sign with the expired key at day 2.
  {
    const std::string cmd = "gpg --homedir " + (root_ / "s").string() +
                            " --batch --no-tty --pinentry-mode loopback --passphrase '' "
                            "--detach-sign --local-user " +
                            fpr_ + " --output /dev/null " + (root_ / "part").string() +
                            " >/dev/null 2>&1";
    EXPECT_NE(std::system(cmd.c_str()), 0) << "gpg signed with a key expired at day 2";
  }

  auto keys2 = keyring::load_keys(*config_, root_ / "g", day2);
  ASSERT_TRUE(keys2.has_value()) << keys2.error().message;
  ASSERT_NE(alice(*keys2), nullptr);
  EXPECT_EQ(alice(*keys2)->status, keyring::KeyStatus::expired);
  EXPECT_EQ(alice(*keys2)->status_word, "expired");
  EXPECT_FALSE(alice(*keys2)->usable);

  // The same message, verified at day 2, is refused for the key.
  Verifier v2(*config_, *keys2, *db_);
  auto got = v2.verify(*gpg_, *list, late, day2);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_FALSE(got->accepted);
  EXPECT_EQ(got->refusal, RefusalKind::key_expired);
  EXPECT_EQ(got->reason, "signing key is expired");
  EXPECT_EQ(intake::reply_for(*got).to_string(), "550 5.7.1 signing key is expired");
}

}  // namespace
}  // namespace tlpmail::pipeline
