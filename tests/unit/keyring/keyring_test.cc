// Tests of lib/keyring with real gpg and a real configuration tree: every
// key status and its exact diagnostic, unpinned and impostor keys granting
// nothing, keys left in the home from an earlier load counting as missing,
// garbage and secret key files, and assess_key() on synthetic key facts.
#include "keyring/keyring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "keyring_fixture.h"
#include "openpgp/context.h"
#include "openpgp/gpg_test_keys.h"
#include "openpgp/key_facts_fixture.h"
#include "openpgp/temp_home.h"
#include "util/text.h"

namespace tlpmail::keyring {
namespace {

namespace fs = std::filesystem;
namespace tk = tlpmail::testkeys;
using openpgp::TempHome;

// One directory entry: an e-mail, the key it pins and whether that key's
// file goes into keys_dir.
struct Member {
  std::string email;
  std::string fingerprint;
  bool exported = true;
};

struct Keys {
  std::map<std::string, std::string> fpr;  // e-mail (or role) -> fingerprint
  std::map<std::string, std::string> armored;
  std::string secret_alice;
};

class KeyringTest : public testing::KeyringFixture {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(openpgp::initialize());
    gen_ = tk::new_home();
    ASSERT_TRUE(gen_);
    const std::string h = gen_->path().string();
    Keys k;
    auto good = [&](const std::string& email, const std::string& expire) {
      std::string f = tk::generate(h, "Test", email, "ed25519", "sign,cert", expire);
      tk::add_subkey(h, f, "cv25519", "encr", expire);
      return f;
    };
    k.fpr["alice@csirt-a.example"] = good("alice@csirt-a.example", "never");
    k.fpr["bob@csirt-b.example"] =
        tk::generate(h, "Test", "bob@csirt-b.example", "ed25519", "sign,cert", "1d",
                     {"--faked-system-time", "20200101T000000"});
    k.fpr["carol@csirt-c.example"] = good("carol@csirt-c.example", "never");
    tk::revoke(h, k.fpr["carol@csirt-c.example"]);
    k.fpr["dave@csirt-d.example"] =
        tk::generate(h, "Test", "dave@csirt-d.example", "rsa1024", "sign,cert", "never");
    tk::add_subkey(h, k.fpr["dave@csirt-d.example"], "rsa1024", "encr", "never");
    k.fpr["erin@csirt-e.example"] =
        tk::generate(h, "Test", "erin@csirt-e.example", "ed25519", "sign,cert", "never");
    k.fpr["frank@csirt-f.example"] =
        tk::generate(h, "Test", "frank@csirt-f.example", "ed25519", "cert", "never");
    tk::add_subkey(h, k.fpr["frank@csirt-f.example"], "cv25519", "encr", "never");
    k.fpr["grace@csirt-g.example"] = good("grace@csirt-g.example", "20d");
    // Ivan's real key is not in keys_dir; an impostor's key claims his address.
    k.fpr["ivan@csirt-i.example"] = good("ivan@csirt-i.example", "never");
    k.fpr["impostor"] =
        tk::generate(h, "Ivan", "ivan@csirt-i.example.impostor", "ed25519", "sign,cert", "never");
    tk::gpg(h, {"--quick-add-uid", k.fpr["impostor"], "Ivan Example <ivan@csirt-i.example>"});
    tk::add_subkey(h, k.fpr["impostor"], "cv25519", "encr", "never");
    k.fpr["stranger"] = good("stranger@elsewhere.example", "never");
    for (const auto& [who, f] : k.fpr) k.armored[who] = tk::export_public(h, f);
    k.secret_alice = tk::gpg(h, {"--armor", "--export-secret-keys", k.fpr["alice@csirt-a.example"]});
    keys_ = new Keys(std::move(k));
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
    gen_.reset();
  }

  std::string directory_file() const { return root() + "/directory.toml"; }

  static const std::string& fpr(const std::string& who) { return keys_->fpr.at(who); }

  // The usual cast: one member per status, plus the stranger's and the
  // impostor's keys in keys_dir, pinned for nobody.
  static std::vector<Member> cast() {
    std::vector<Member> m;
    for (const char* e : {"alice@csirt-a.example", "bob@csirt-b.example",
                          "carol@csirt-c.example", "dave@csirt-d.example",
                          "erin@csirt-e.example", "frank@csirt-f.example",
                          "grace@csirt-g.example"}) {
      m.push_back({e, fpr(e)});
    }
    m.push_back({"heidi@csirt-h.example", "0123456789ABCDEF0123456789ABCDEF01234567", false});
    m.push_back({"ivan@csirt-i.example", fpr("ivan@csirt-i.example"), false});
    return m;
  }

  // Writes tlpmail.toml, directory.toml, lists.d/x.toml and keys/ for
  // `members` (plus the files `extra_keys` names: who -> file name) and
  // loads it. Records the directory.toml line of each fingerprint.
  std::shared_ptr<const config::Config> write_config(
      const std::vector<Member>& members, const std::map<std::string, std::string>& extra_keys) {
    fs::create_directories(keys_dir());
    fs::create_directories(root() + "/lists.d");
    tk::write_file(root() + "/tlpmail.toml",
                   "[server]\nhostname = \"lists.example.org\"\nlisten = [\"127.0.0.1:10030\"]\n"
                   "[paths]\nstate_dir = \"state\"\n");
    std::string dir;
    int line = 0;
    auto add = [&](const std::string& s) {
      dir += s + "\n";
      ++line;
    };
    for (const Member& m : members) {
      add("[[person]]");
      add("email = \"" + m.email + "\"");
      add("name = \"Test Person\"");
      add("organization = \"CSIRT\"");
      add("country = \"AT\"");
      add("fingerprint = \"" + m.fingerprint + "\"");
      fingerprint_line_[m.email] = line;
      add("clearance = \"AMBER\"");
      add("");
      if (m.exported) {
        tk::write_file(keys_dir() + "/" + m.email + ".asc", keys_->armored.at(m.email));
      }
    }
    tk::write_file(directory_file(), dir);
    tk::write_file(root() + "/lists.d/x.toml",
                   "address = \"x@lists.example.org\"\ntlp_ceiling = \"AMBER\"\n"
                   "members = [\"" + members.front().email + "\"]\n"
                   "admins = [\"" + members.front().email + "\"]\n");
    for (const auto& [who, name] : extra_keys) {
      tk::write_file(keys_dir() + "/" + name, keys_->armored.at(who));
    }
    auto loaded = config::load_config(root() + "/tlpmail.toml");
    for (const auto& d : loaded.diagnostics) {
      if (d.severity == config::Severity::error) ADD_FAILURE() << d.to_string();
    }
    return loaded.config;
  }

  std::string at(const std::string& email) {
    return directory_file() + ":" + std::to_string(fingerprint_line_.at(email)) + ": ";
  }

  static inline Keys* keys_ = nullptr;
  std::map<std::string, int> fingerprint_line_;
};

TEST_F(KeyringTest, EveryStatus) {
  auto cfg = write_config(cast(), {{"stranger", "stranger.asc"}, {"impostor", "ivan-new.asc"}});
  ASSERT_TRUE(cfg);
  const KeyReport r = load(*cfg);
  struct Want {
    std::string email;
    KeyStatus status;
    std::string word;
    bool usable;
  };
  const Want wants[] = {
      {"alice@csirt-a.example", KeyStatus::ok, "ok", true},
      {"bob@csirt-b.example", KeyStatus::expired, "expired", false},
      {"carol@csirt-c.example", KeyStatus::revoked, "revoked", false},
      {"dave@csirt-d.example", KeyStatus::weak, "weak", false},
      {"erin@csirt-e.example", KeyStatus::no_encryption_key, "no encryption key", false},
      {"frank@csirt-f.example", KeyStatus::no_signing_key, "no signing key", false},
      {"grace@csirt-g.example", KeyStatus::expires_soon, "expires in 20 days", true},
      {"heidi@csirt-h.example", KeyStatus::missing, "missing", false},
      {"ivan@csirt-i.example", KeyStatus::missing, "missing", false},
  };
  ASSERT_EQ(r.people.size(), std::size(wants));
  for (size_t i = 0; i < std::size(wants); ++i) {
    const Want& w = wants[i];
    const PersonKey& got = r.people[i];
    EXPECT_EQ(got.email, w.email);
    EXPECT_EQ(got.status, w.status) << w.email;
    EXPECT_EQ(got.status_word, w.word) << w.email;
    EXPECT_EQ(got.usable, w.usable) << w.email;
    EXPECT_EQ(r.is_usable(w.email), w.usable) << w.email;
    EXPECT_EQ(r.find(w.email), &got) << w.email;
    if (w.status == KeyStatus::missing) {
      EXPECT_FALSE(got.facts) << w.email;
      EXPECT_TRUE(got.file.empty()) << w.email;
    } else {
      ASSERT_TRUE(got.facts) << w.email;
      EXPECT_EQ(got.facts->fingerprint, got.fingerprint) << w.email;
      EXPECT_EQ(got.file, fs::path(keys_dir() + "/" + w.email + ".asc")) << w.email;
    }
  }
  EXPECT_EQ(r.find("ALICE@CSIRT-A.EXAMPLE"), &r.people[0]);
  EXPECT_EQ(r.find("nobody@x.example"), nullptr);
  EXPECT_FALSE(r.is_usable("nobody@x.example"));
  EXPECT_TRUE(r.has_errors());
  EXPECT_EQ(r.files.size(), 9u);
}

TEST_F(KeyringTest, ExactDiagnostics) {
  auto cfg = write_config(cast(), {{"stranger", "stranger.asc"}, {"impostor", "ivan-new.asc"}});
  ASSERT_TRUE(cfg);
  const KeyReport r = load(*cfg);
  const PersonKey* bob = r.find("bob@csirt-b.example");
  const PersonKey* grace = r.find("grace@csirt-g.example");
  ASSERT_TRUE(bob && bob->facts && grace && grace->facts);
  // The warning for a key that leaves its member without mail.
  const auto unusable = [this](const std::string& who, const std::string& why) {
    return at(who) + "warning: key " + fpr(who) + " of " + who + " " + why + "; " + who +
           " gets no mail and cannot post";
  };
  const std::vector<std::string> want = {
      unusable("bob@csirt-b.example", "expired on 2020-01-02"),
      unusable("carol@csirt-c.example", "is revoked"),
      unusable("dave@csirt-d.example", "is weak (primary key rsa1024, below 2048 bits)"),
      unusable("erin@csirt-e.example", "has no usable encryption subkey"),
      unusable("frank@csirt-f.example", "has no usable signing key"),
      at("grace@csirt-g.example") + "warning: key " + fpr("grace@csirt-g.example") +
          " of grace@csirt-g.example expires on " + iso_date(grace->facts->expires) +
          " (in 20 days); replace it before then",
      at("heidi@csirt-h.example") +
          "no key with fingerprint 0123456789ABCDEF0123456789ABCDEF01234567 for "
          "heidi@csirt-h.example in " +
          keys_dir(),
      at("ivan@csirt-i.example") + "no key with fingerprint " + fpr("ivan@csirt-i.example") +
          " for ivan@csirt-i.example in " + keys_dir(),
  };
  EXPECT_EQ(texts(r), want);
  EXPECT_EQ(bob->detail, "expired on 2020-01-02");
  EXPECT_EQ(grace->usable_until, grace->facts->expires);
}

TEST_F(KeyringTest, UnpinnedAndImpostorKeysGrantNothing) {
  auto cfg = write_config(cast(), {{"stranger", "stranger.asc"}, {"impostor", "ivan-new.asc"}});
  ASSERT_TRUE(cfg);
  const KeyReport r = load(*cfg);
  ASSERT_EQ(r.unpinned.size(), 2u);
  // File order: ivan-new.asc sorts before stranger.asc.
  EXPECT_EQ(r.unpinned[0].fingerprint, fpr("impostor"));
  EXPECT_EQ(r.unpinned[0].file, fs::path(keys_dir() + "/ivan-new.asc"));
  EXPECT_NE(std::find(r.unpinned[0].user_ids.begin(), r.unpinned[0].user_ids.end(),
                      "Ivan Example <ivan@csirt-i.example>"),
            r.unpinned[0].user_ids.end());
  EXPECT_EQ(r.unpinned[1].fingerprint, fpr("stranger"));
  EXPECT_EQ(r.unpinned[1].file, fs::path(keys_dir() + "/stranger.asc"));

  EXPECT_FALSE(r.is_usable("ivan@csirt-i.example"));
  EXPECT_FALSE(r.is_usable("stranger@elsewhere.example"));
  EXPECT_EQ(r.find("stranger@elsewhere.example"), nullptr);
  EXPECT_EQ(r.find_by_key(fpr("impostor")), nullptr);
  EXPECT_EQ(r.find_by_key(fpr("stranger")), nullptr);

  const PersonKey* alice = r.find("alice@csirt-a.example");
  ASSERT_TRUE(alice && alice->facts);
  EXPECT_EQ(r.find_by_key(alice->fingerprint), alice);
  ASSERT_EQ(alice->facts->subkey_fingerprints.size(), 1u);
  EXPECT_EQ(r.find_by_key(ascii_lower(alice->facts->subkey_fingerprints[0])), alice);
}

TEST_F(KeyringTest, KeyLeftInTheHomeButRemovedFromKeysDirIsMissing) {
  std::vector<Member> members = {{"alice@csirt-a.example", fpr("alice@csirt-a.example")},
                                 {"grace@csirt-g.example", fpr("grace@csirt-g.example")}};
  auto cfg = write_config(members, {});
  ASSERT_TRUE(cfg);
  const KeyReport first = load(*cfg);
  EXPECT_TRUE(first.is_usable("alice@csirt-a.example"));
  EXPECT_FALSE(first.has_errors());

  fs::remove(keys_dir() + "/alice@csirt-a.example.asc");
  const KeyReport second = load(*cfg);  // same GnuPG home, which still holds alice's key
  const PersonKey* alice = second.find("alice@csirt-a.example");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->status, KeyStatus::missing);
  EXPECT_FALSE(second.is_usable("alice@csirt-a.example"));
  EXPECT_TRUE(second.is_usable("grace@csirt-g.example"));
  EXPECT_EQ(texts(second).at(0), at("alice@csirt-a.example") + "no key with fingerprint " +
                                     fpr("alice@csirt-a.example") +
                                     " for alice@csirt-a.example in " + keys_dir());
}

TEST_F(KeyringTest, BadKeyFiles) {
  std::vector<Member> members = {{"alice@csirt-a.example", fpr("alice@csirt-a.example")}};
  auto cfg = write_config(members, {});
  ASSERT_TRUE(cfg);
  tk::write_file(keys_dir() + "/a-junk.asc", "this is not a key\n");
  tk::write_file(keys_dir() + "/b-secret.asc", keys_->secret_alice);
  tk::write_file(keys_dir() + "/README.md", "not a key file, ignored\n");
  tk::write_file(keys_dir() + "/.hidden.asc", "ignored\n");
  fs::create_directories(keys_dir() + "/sub.gpg");  // a folder: ignored
  const KeyReport r = load(*cfg);
  const std::vector<std::string> want = {
      keys_dir() + "/a-junk.asc: cannot import: no OpenPGP key found",
      keys_dir() + "/b-secret.asc: cannot import: the file holds a secret key; keys_dir is for "
                   "public keys only",
  };
  EXPECT_EQ(texts(r), want);
  EXPECT_TRUE(r.has_errors());
  EXPECT_TRUE(r.is_usable("alice@csirt-a.example"));
  EXPECT_EQ(r.files.size(), 3u);
  // The secret key never reached the home; with errors, nothing did
  // (key_import_safety_test.cc has the shapes of secret files).
  auto ctx = openpgp::Context::open(home_->path());
  ASSERT_TRUE(ctx);
  auto k = ctx->find_key(fpr("alice@csirt-a.example"));
  ASSERT_TRUE(k);
  EXPECT_FALSE(k->has_value());
}

TEST_F(KeyringTest, BinaryKeyFilesAndAllUsable) {
  std::vector<Member> members = {{"alice@csirt-a.example", fpr("alice@csirt-a.example"), false}};
  auto cfg = write_config(members, {});
  ASSERT_TRUE(cfg);
  tk::write_file(keys_dir() + "/alice.gpg",
                 tk::gpg(gen_->path(), {"--export", fpr("alice@csirt-a.example")}));
  tk::write_file(keys_dir() + "/alice-secret.gpg",
                 tk::gpg(gen_->path(), {"--export-secret-keys", fpr("alice@csirt-a.example")}));
  const KeyReport r = load(*cfg);
  const std::vector<std::string> want = {
      keys_dir() + "/alice-secret.gpg: cannot import: the file holds a secret key; keys_dir is "
                   "for public keys only"};
  EXPECT_EQ(texts(r), want);
  EXPECT_TRUE(r.is_usable("alice@csirt-a.example"));
  EXPECT_EQ(r.find("alice@csirt-a.example")->file, fs::path(keys_dir() + "/alice.gpg"));
}

TEST_F(KeyringTest, UnreadableKeysDirAndLongHome) {
  std::vector<Member> members = {{"alice@csirt-a.example", fpr("alice@csirt-a.example")}};
  auto cfg = write_config(members, {});
  ASSERT_TRUE(cfg);
  fs::remove_all(keys_dir());
  const KeyReport r = load(*cfg);
  const std::vector<std::string> want = {
      keys_dir() + ": cannot read the key folder: No such file or directory",
      at("alice@csirt-a.example") + "no key with fingerprint " + fpr("alice@csirt-a.example") +
          " for alice@csirt-a.example in " + keys_dir(),
  };
  EXPECT_EQ(texts(r), want);

  auto bad = load_keys(*cfg, "/tmp/" + std::string(90, 'x'), std::time(nullptr));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorClass::permanent);
}

TEST_F(KeyringTest, NowDecidesExpiry) {
  std::vector<Member> members = {{"grace@csirt-g.example", fpr("grace@csirt-g.example")}};
  auto cfg = write_config(members, {});
  ASSERT_TRUE(cfg);
  const KeyReport today = load(*cfg);
  const PersonKey* g = today.find("grace@csirt-g.example");
  ASSERT_TRUE(g && g->facts);
  const std::time_t expires = g->facts->expires;
  struct Case {
    std::string name;
    std::time_t now;
    std::string want;
  };
  const Case cases[] = {
      {"60 days before", expires - 60 * 86400, "ok"},
      {"30 days before", expires - 30 * 86400, "ok"},
      {"just under 30 days", expires - 30 * 86400 + 1, "expires in 30 days"},
      {"a day and a second", expires - 86400 - 1, "expires in 2 days"},
      {"one day before", expires - 86400, "expires in 1 day"},
      {"one second before", expires - 1, "expires in 1 day"},
      {"at expiry", expires, "expired"},
  };
  for (const Case& c : cases) {
    const KeyReport r = load(*cfg, c.now);
    EXPECT_EQ(r.find("grace@csirt-g.example")->status_word, c.want) << c.name;
  }
}

// assess_key() on synthetic facts: cases real gpg makes hard to produce.
using tk::subkey_facts;

openpgp::KeyFacts key(std::vector<openpgp::SubkeyFacts> subs) {
  openpgp::KeyFacts k;
  subs.front().is_primary = true;
  k.fingerprint = subs.front().fingerprint;
  k.expires = subs.front().expires;
  k.subkeys = std::move(subs);
  return k;
}

TEST(AssessKey, Table) {
  using openpgp::AlgoFamily;
  const std::time_t now = 1'800'000'000;
  const std::time_t day = 86400;
  const auto ed = [&](std::time_t exp = 0) {
    return subkey_facts("P", "ed25519", AlgoFamily::eddsa, 255, true, false, exp);
  };
  const auto cv = [&](std::time_t exp = 0) {
    return subkey_facts("E", "cv25519", AlgoFamily::ecdh, 255, false, true, exp);
  };
  struct Case {
    std::string name;
    openpgp::KeyFacts facts;
    KeyStatus status;
    std::string word;
    std::time_t until;
  };
  auto revoked_sub = cv();
  revoked_sub.revoked = true;
  auto weak_expired =
      subkey_facts("W", "elg1024", AlgoFamily::elgamal, 1024, false, true, now - day);
  auto invalid = key({ed(), cv()});
  invalid.invalid = true;
  auto revoked = key({ed(now - day), cv()});
  revoked.revoked = true;
  const Case cases[] = {
      {"ok", key({ed(), cv()}), KeyStatus::ok, "ok", 0},
      {"encryption subkey expires soon", key({ed(), cv(now + 10 * day)}), KeyStatus::expires_soon,
       "expires in 10 days", now + 10 * day},
      {"newer encryption subkey covers an expiring one",
       key({ed(), cv(now + 10 * day), cv(now + 400 * day)}), KeyStatus::ok, "ok", now + 400 * day},
      {"encryption subkey expired", key({ed(), cv(now - 1)}), KeyStatus::no_encryption_key,
       "no encryption key", 0},
      {"encryption subkey revoked", key({ed(), revoked_sub}), KeyStatus::no_encryption_key,
       "no encryption key", 0},
      {"weak live subkey",
       key({ed(), subkey_facts("W", "elg1024", AlgoFamily::elgamal, 1024, false, true)}),
       KeyStatus::weak, "weak", 0},
      {"weak expired subkey does not count", key({ed(), weak_expired, cv()}), KeyStatus::ok, "ok",
       0},
      {"rsa2048 is fine", key({subkey_facts("P", "rsa2048", AlgoFamily::rsa, 2048, true, true)}),
       KeyStatus::ok, "ok", 0},
      {"invalid", invalid, KeyStatus::invalid, "invalid", 0},
      {"revoked beats expired", revoked, KeyStatus::revoked, "revoked", 0},
      {"expired beats weak",
       key({subkey_facts("P", "rsa1024", AlgoFamily::rsa, 1024, true, true, now)}),
       KeyStatus::expired, "expired", 0},
      {"no subkeys at all", openpgp::KeyFacts{}, KeyStatus::invalid, "invalid", 0},
  };
  for (const Case& c : cases) {
    const KeyAssessment got = assess_key(c.facts, now);
    EXPECT_EQ(got.status, c.status) << c.name;
    EXPECT_EQ(got.word, c.word) << c.name;
    EXPECT_EQ(got.usable, c.status == KeyStatus::ok || c.status == KeyStatus::expires_soon)
        << c.name;
    if (got.usable) {
      EXPECT_EQ(got.usable_until, c.until) << c.name;
    }
  }
  EXPECT_EQ(
      assess_key(key({ed(), subkey_facts("W", "elg1024", AlgoFamily::elgamal, 1024, false, true)}),
                 now)
          .detail,
      "subkey W elg1024, below 2048 bits");
}

TEST(KeyStatusWords, Fixed) {
  EXPECT_EQ(to_string(KeyStatus::no_encryption_key), "no encryption key");
  EXPECT_EQ(to_string(KeyStatus::missing), "missing");
}

}  // namespace
}  // namespace tlpmail::keyring

namespace tlpmail::keyring {
namespace {

// The shipped example configuration (config/) and its test-only keys stay
// consistent: no errors or warnings, every person's key usable.
TEST(ExampleConfiguration, LoadsCleanlyWithEveryKeyUsable) {
  ASSERT_TRUE(openpgp::initialize());
  const std::string main_file = std::string(TLPMAIL_SOURCE_DIR) + "/config/tlpmail.toml";
  auto loaded = config::load_config(main_file);
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << d.to_string();
  ASSERT_TRUE(loaded.ok());
  auto home = tk::new_home();
  ASSERT_TRUE(home);
  auto report = load_keys(*loaded.config, home->path(), std::time(nullptr));
  ASSERT_TRUE(report) << report.error().message;
  for (const auto& d : report->diagnostics) ADD_FAILURE() << d.to_string();
  EXPECT_TRUE(report->unpinned.empty());
  ASSERT_GE(report->people.size(), 8u);
  for (const PersonKey& p : report->people) {
    EXPECT_EQ(p.status_word, "ok") << p.email;
    ASSERT_TRUE(p.facts) << p.email;
    EXPECT_EQ(p.facts->algorithm, "ed25519") << p.email;
    EXPECT_EQ(p.facts->expires, 0) << p.email;
    ASSERT_FALSE(p.facts->user_ids.empty()) << p.email;
    EXPECT_NE(p.facts->user_ids[0].find("TEST ONLY"), std::string::npos) << p.email;
    EXPECT_EQ(p.file.filename().string(), p.email + ".TEST-ONLY.asc");
  }
}

}  // namespace
}  // namespace tlpmail::keyring
