// The texts of lib/keylife and lib/digest without gpg: the expiry notice
// (what expires, how to extend it, where to send it), the members' keys
// section of the admins' digest for every kind of key problem on
// hand-made key facts and a real SQLite file with audit rows (the messages
// a member was withheld from since the previous digest), and the digest's
// text. The jobs themselves run in tests/e2e/member_keys_test.py.
#include "keylife/key_check.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "audit/audit_log.h"
#include "digest/digest.h"
#include "openpgp/key_facts_fixture.h"
#include "policy/decision.h"
#include "support/temp_dir.h"
#include "test_clock.h"

namespace tlpmail::keylife {
namespace {

constexpr const char* kList = "ops@lists.example.org";

std::string fpr_of(char c) { return std::string(40, c); }

// Each person's pinned fingerprint is 40 times one hex digit.
const std::pair<const char*, char> kPeople[] = {{"alice", 'A'}, {"bob", 'B'},  {"carol", 'C'},
                                                {"dave", 'D'},  {"erin", 'E'}, {"frank", 'F'},
                                                {"gina", '9'},  {"hank", '8'}};

openpgp::SubkeyFacts sub(std::string fpr, std::string algo, openpgp::AlgoFamily family,
                         unsigned bits, bool sign, bool encrypt, std::time_t expires,
                         bool primary) {
  openpgp::SubkeyFacts s =
      testkeys::subkey_facts(std::move(fpr), std::move(algo), family, bits, sign, encrypt, expires);
  s.created = kNow - 400 * kDay;
  s.is_primary = primary;
  s.can_certify = primary;
  return s;
}

// An ed25519 primary key (sign) with a cv25519 encryption subkey.
openpgp::KeyFacts key(char c, std::time_t expires = 0, std::time_t enc_expires = 0) {
  openpgp::KeyFacts k;
  k.fingerprint = fpr_of(c);
  k.algorithm = "ed25519";
  k.family = openpgp::AlgoFamily::eddsa;
  k.created = kNow - 400 * kDay;
  k.expires = expires;
  k.subkeys.push_back(
      sub(k.fingerprint, "ed25519", openpgp::AlgoFamily::eddsa, 255, true, false, expires, true));
  k.subkeys.push_back(sub(std::string(39, c) + "E", "cv25519", openpgp::AlgoFamily::ecdh, 255,
                          false, true, enc_expires, false));
  return k;
}

class KeyCheckTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = dir_.path();
    std::filesystem::create_directories(root + "/lists.d");
    std::filesystem::create_directories(root + "/keys");
    write(root + "/tlpmail.toml",
          "[server]\nhostname = \"lists.example.org\"\nlisten = [\"127.0.0.1:10030\"]\n"
          "[paths]\nstate_dir = \"state\"\n");
    std::string people;
    for (const auto& [who, c] : kPeople) {
      people += std::string("[[person]]\nemail = \"") + who + "@x.example\"\nname = \"" + who +
                "\"\norganization = \"CSIRT\"\ncountry = \"AT\"\nfingerprint = \"" + fpr_of(c) +
                "\"\nclearance = \"AMBER\"\n\n";
    }
    write(root + "/directory.toml", people);
    write(root + "/lists.d/ops.toml",
          std::string("address = \"") + kList +
              "\"\ntlp_ceiling = \"AMBER\"\nmembers = [\"alice@x.example\", \"bob@x.example\", "
              "\"carol@x.example\", \"dave@x.example\", \"erin@x.example\", "
              "\"frank@x.example\", \"gina@x.example\", \"hank@x.example\"]\nadmins = "
              "[\"alice@x.example\", "
              "\"hank@x.example\"]\n");
    auto loaded = config::load_config(root + "/tlpmail.toml");
    for (const auto& d : loaded.diagnostics) {
      if (d.severity == config::Severity::error) ADD_FAILURE() << d.to_string();
    }
    ASSERT_TRUE(loaded.config);
    config_ = loaded.config;
    auto db = store::Database::open(dir_.file("tlpmail.db"));
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
  }

  static void write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }

  void add(const std::string& email, std::optional<openpgp::KeyFacts> facts,
           keyring::KeySource source = keyring::KeySource::keys_dir) {
    keyring::PersonKey pk;
    pk.email = email;
    pk.fingerprint = facts ? facts->fingerprint : fpr_of('9');
    pk.facts = std::move(facts);
    pk.source = source;
    if (pk.facts) {
      const auto a = keyring::assess_key(*pk.facts, kNow);
      pk.status = a.status;
      pk.status_word = a.word;
      pk.usable = a.usable;
      pk.usable_until = a.usable_until;
    }
    keys_.people.push_back(std::move(pk));
  }

  // One accepted posting at `at` that left `email` out for its key.
  void withheld(const std::string& email, std::time_t at) {
    audit::Row row;
    row.at = at;
    row.list = kList;
    row.queue_id = "q" + std::to_string(at);
    row.verdict = "accepted";
    row.label = "AMBER";
    row.recipients = {{"alice@x.example", true, ""},
                      {email, false,
                       policy::describe(policy::Exclusion::key_unusable, policy::Tlp::clear,
                                        policy::Tlp::clear)}};
    auto r = db_->transaction([&](store::Transaction& tx) -> store::DbResult<void> {
      auto id = audit::append(tx, row);
      if (!id) return Unexpected(id.error());
      return {};
    });
    ASSERT_TRUE(r) << r.error().message;
  }

  const directory::MailingList& list() const { return *config_->directory.find_list(kList); }

  testing::TempDir dir_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<store::Database> db_;
  keyring::KeyReport keys_;
};

TEST_F(KeyCheckTextTest, NoticeSaysWhatExpiresAndHowToExtendIt) {
  keyring::PersonKey k;
  k.email = "bob@x.example";
  k.fingerprint = fpr_of('B');
  k.facts = key('B', 0, kNow + 7 * kDay);  // only the encryption subkey expires
  const std::string text = expiry_notice_text(list(), "Bob", k, kNow + 7 * kDay, kNow);
  EXPECT_EQ(text.substr(0, 12), "Hello Bob,\n\n");
  EXPECT_NE(text.find("The encryption subkey " + std::string(39, 'B') +
                      "E of your key expires on 2026-09-28 (in 7 days):\n"
                      "  fingerprint  BBBB BBBB BBBB BBBB BBBB BBBB BBBB BBBB BBBB BBBB\n"),
            std::string::npos)
      << text;
  for (const std::string& want :
       {"gpg --quick-set-expire " + fpr_of('B') + " 2y\n",
        "gpg --quick-set-expire " + fpr_of('B') + " 2y '*'\n",
        "gpg --armor --export --export-options export-minimal " + fpr_of('B') + " > mykey.asc",
        std::string("3. Send it as an attachment to ops-request@lists.example.org"),
        std::string("     update-key\n"),
        std::string("30, 7 and 1 days before the date, once each")}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  // The primary key itself: "Your key", on the last day "in 1 day".
  k.facts = key('B', kNow + 3600, kNow + 3600);
  const std::string last = expiry_notice_text(list(), "Bob", k, kNow + 3600, kNow);
  EXPECT_NE(last.find("Your key expires on 2026-09-21 (in 1 day):"), std::string::npos) << last;
}

TEST_F(KeyCheckTextTest, DigestSectionListsEveryKeyProblem) {
  add("alice@x.example", key('A'));                                    // ok: not listed
  add("bob@x.example", key('B', kNow + 10 * kDay, kNow + 10 * kDay));  // expiring
  add("carol@x.example", key('C', kNow - 2 * kDay));                   // expired
  openpgp::KeyFacts revoked = key('D');
  revoked.revoked = true;
  add("dave@x.example", revoked, keyring::KeySource::mail);  // revoked by update-key
  openpgp::KeyFacts weak = key('E');
  weak.subkeys[1] = sub(std::string(39, 'E') + "1", "rsa1024", openpgp::AlgoFamily::rsa, 1024,
                        false, true, 0, false);
  add("erin@x.example", weak);
  openpgp::KeyFacts no_enc = key('F');
  no_enc.subkeys.pop_back();
  add("frank@x.example", no_enc);
  add("gina@x.example", std::nullopt);           // missing
  add("hank@x.example", key('8', kNow - kDay));  // an admin, expired

  const std::time_t since = kNow - kDay;
  withheld("carol@x.example", since - 60);  // before the previous digest: not counted
  withheld("carol@x.example", since + 60);
  withheld("carol@x.example", since + 120);
  withheld("dave@x.example", since + 60);

  digest::SectionContext ctx{*config_, keys_, *db_, list(), kNow, since};
  auto s = key_problems_section(ctx);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->title, "Members' keys");
  const std::string tail = "; gets no mail and cannot post";
  const std::vector<std::string> want = {
      "carol@x.example: key " + fpr_of('C') + " expired (expired on 2026-09-19)" + tail +
          "; withheld from 2 messages since 2026-09-20",
      "dave@x.example: key " + fpr_of('D') + " revoked" + tail +
          "; withheld from 1 message since 2026-09-20; updated by mail",
      "erin@x.example: key " + fpr_of('E') + " weak (subkey " + std::string(39, 'E') +
          "1 rsa1024, below 2048 bits)" + tail,
      "frank@x.example: key " + fpr_of('F') + " no encryption key (no usable encryption subkey)" +
          tail,
      "gina@x.example: key " + fpr_of('9') + " missing" + tail,
      "hank@x.example: key " + fpr_of('8') + " expired (expired on 2026-09-20)" + tail,
      "bob@x.example: key " + fpr_of('B') +
          " expires on 2026-10-01 (in 10 days); the member is told 30, 7 and 1 days before",
  };
  EXPECT_EQ(s->lines, want);
  EXPECT_NE(s->advice.find("update-key to ops-request@lists.example.org"), std::string::npos)
      << s->advice;

  // Nothing to report: no lines, no advice.
  keys_.people.clear();
  add("alice@x.example", key('A'));
  auto empty = key_problems_section(ctx);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->lines.empty());
  EXPECT_EQ(empty->advice, "");
}

TEST_F(KeyCheckTextTest, DigestTextHasOnlySectionsWithLines) {
  std::vector<digest::Section> sections = {
      {"Members' keys", {"bob@x.example: key B expires"}, "Advice line.\n"},
      {"Bounces", {}, "never shown"},
  };
  EXPECT_EQ(digest::digest_text(list(), sections, kNow),
            "This is the daily digest of ops@lists.example.org for its admins (2026-09-21).\n"
            "\n== Members' keys (1) ==\n"
            "  bob@x.example: key B expires\n"
            "\nAdvice line.\n"
            "\nThis digest comes once a day while there is something to report. It\n"
            "never contains a message. tlpmailctl keys and tlpmailctl audit show more.\n"
            "-- \nops-request@lists.example.org (an automatic notice; signed by the list's "
            "key)\n");
}

}  // namespace
}  // namespace tlpmail::keylife
