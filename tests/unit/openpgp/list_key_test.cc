// Tests of the list keys with real gpg: creation (algorithms, user ID, no
// expiry, no passphrase), lookup by address (case, ambiguity, unusable
// keys), public export, the import of an existing secret key with each of
// its refusals, and the private mode of the home.
#include "openpgp/list_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "openpgp/crypto_fixture.h"
#include "openpgp/decrypt.h"
#include "util/text.h"

namespace tlpmail::openpgp {
namespace {

using testing::CryptoTest;
namespace tk = tlpmail::testkeys;

// Far above anything these tests decrypt (the limit is tested on its own).
constexpr std::size_t kTestMaxPlaintext = 64 << 20;

const std::string kAddress = "csirt-ops@lists.example";

class ListKeyTest : public CryptoTest {
 protected:
  // A second, empty home with its own context.
  struct OtherHome {
    std::unique_ptr<TempHome> home;
    std::unique_ptr<Context> ctx;
  };
  OtherHome other_home() {
    OtherHome o;
    o.home = tk::new_home();
    if (!o.home) return o;
    auto c = Context::open(o.home->path());
    EXPECT_TRUE(c);
    o.ctx = std::make_unique<Context>(std::move(*c));
    return o;
  }

  std::string file_in_home(const std::string& name, const std::string& text) {
    const std::string path = home_->path().string() + "/" + name;
    tk::write_file(path, text);
    return path;
  }

  std::string secret_export(const std::string& home, const std::string& fpr) {
    return tk::gpg(home, {"--armor", "--export-secret-keys", fpr});
  }
};

TEST_F(ListKeyTest, CreateFindExport) {
  auto fpr = create_list_key(*ctx_, kAddress, "CSIRT Network operational exchange");
  ASSERT_TRUE(fpr) << fpr.error().message;
  EXPECT_EQ(normalize_fingerprint(*fpr), *fpr);

  auto found = find_list_key(*ctx_, kAddress);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  const KeyFacts& k = **found;
  EXPECT_EQ(k.fingerprint, *fpr);
  EXPECT_EQ(k.user_ids,
            std::vector<std::string>{"CSIRT Network operational exchange <" + kAddress + ">"});
  EXPECT_EQ(k.algorithm, "ed25519");
  EXPECT_EQ(k.expires, 0);
  EXPECT_TRUE(k.has_secret);
  ASSERT_EQ(k.subkeys.size(), 2u);
  EXPECT_TRUE(k.subkeys[0].can_sign);
  EXPECT_TRUE(k.subkeys[0].can_certify);
  EXPECT_FALSE(k.subkeys[0].can_encrypt);
  EXPECT_EQ(k.subkeys[1].algorithm, "cv25519");
  EXPECT_TRUE(k.subkeys[1].can_encrypt);
  EXPECT_EQ(k.subkeys[1].expires, 0);
  EXPECT_TRUE(k.has_usable_signing_key);
  EXPECT_TRUE(k.has_usable_encryption_key);

  // Address matching ignores ASCII case.
  auto upper = find_list_key(*ctx_, "CSIRT-OPS@Lists.Example");
  ASSERT_TRUE(upper && upper->has_value());
  EXPECT_EQ((*upper)->fingerprint, *fpr);
  auto other = find_list_key(*ctx_, "other@lists.example");
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_FALSE(other->has_value());

  auto pub = export_public(*ctx_, ascii_lower(*fpr));
  ASSERT_TRUE(pub) << pub.error().message;
  EXPECT_EQ(pub->rfind("-----BEGIN PGP PUBLIC KEY BLOCK-----", 0), 0u);
  EXPECT_EQ(pub->find("PRIVATE"), std::string::npos);
  OtherHome o = other_home();
  auto imported = o.ctx->import_data(*pub);
  ASSERT_TRUE(imported) << imported.error().message;
  EXPECT_EQ(imported->fingerprints, std::vector<std::string>{*fpr});
  EXPECT_EQ(imported->secret_read, 0);
  auto there = o.ctx->find_key(*fpr);
  ASSERT_TRUE(there && there->has_value());
  EXPECT_TRUE((*there)->has_usable_encryption_key);  // the subkey binding came along
  EXPECT_TRUE((*there)->has_usable_signing_key);
  EXPECT_FALSE((*there)->has_secret);
}

TEST_F(ListKeyTest, CreatedKeyDecryptsAndNeedsNoPassphrase) {
  const std::string fpr = make_list_key(kAddress);
  const std::string ct = sender_gpg({"--armor", "--encrypt", "--recipient", fpr}, "for the list\n");
  auto d = decrypt(*ctx_, ct, kTestMaxPlaintext);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->status, DecryptStatus::decrypted) << d->detail;
  EXPECT_EQ(d->plaintext, "for the list\n");
  EXPECT_EQ(d->decryption_primary_fingerprint, fpr);
}

TEST_F(ListKeyTest, NameDefaultsToTheLocalPart) {
  auto fpr = create_list_key(*ctx_, kAddress, "  ");
  ASSERT_TRUE(fpr) << fpr.error().message;
  auto found = find_list_key(*ctx_, kAddress);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->user_ids, std::vector<std::string>{"csirt-ops <" + kAddress + ">"});
}

TEST_F(ListKeyTest, CreateRefusals) {
  struct Case {
    std::string name, address, display, want;
  };
  const Case cases[] = {
      {"no at", "csirt-ops", "x", "not a list address: \"csirt-ops\""},
      {"two ats", "a@b@c", "x", "not a list address: \"a@b@c\""},
      {"angle bracket", "a<b@c", "x", "not a list address: \"a<b@c\""},
      {"space", "a b@c", "x", "not a list address: \"a b@c\""},
      {"empty", "", "x", "not a list address: \"\""},
      {"name with brackets", kAddress, "Evil <x@y>",
       "unusable name for the list key's user ID: \"Evil <x@y>\""},
      {"name with newline", kAddress, "a\nb",
       "unusable name for the list key's user ID: \"a\\nb\""},
  };
  for (const Case& c : cases) {
    auto r = create_list_key(*ctx_, c.address, c.display);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().kind, ErrorClass::permanent) << c.name;
    EXPECT_EQ(r.error().message, c.want) << c.name;
  }
  auto first = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(first) << first.error().message;
  auto second = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, ErrorClass::permanent);
  EXPECT_EQ(second.error().message, "a list key for " + kAddress + " already exists: " + *first);
}

TEST_F(ListKeyTest, FindRefusesAmbiguityAndUnusableKeys) {
  const std::string h = home_->path().string();
  auto first = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(first) << first.error().message;
  // A second usable key with the same address, made behind our back.
  tk::gpg(h, {"--quick-gen-key", "Ops again <" + kAddress + ">", "ed25519", "sign,cert", "never"});
  auto listed = ctx_->list_keys();
  ASSERT_TRUE(listed) << listed.error().message;
  std::string fpr2;
  for (const KeyFacts& k : *listed) {
    if (k.fingerprint != *first) fpr2 = k.fingerprint;
  }
  ASSERT_FALSE(fpr2.empty());
  tk::add_subkey(h, fpr2, "cv25519", "encr", "never");
  auto ambiguous = find_list_key(*ctx_, kAddress);
  ASSERT_FALSE(ambiguous);
  EXPECT_EQ(ambiguous.error().kind, ErrorClass::permanent);
  EXPECT_EQ(
      ambiguous.error().message.rfind("2 usable list keys for " + kAddress + " in " + h + ": ", 0),
      0u)
      << ambiguous.error().message;
  EXPECT_NE(ambiguous.error().message.find(*first), std::string::npos);
  EXPECT_NE(ambiguous.error().message.find(fpr2), std::string::npos);

  // Revoke the first: the second is the list key again.
  tk::revoke(h, *first);
  auto after = find_list_key(*ctx_, kAddress);
  ASSERT_TRUE(after) << after.error().message;
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ((*after)->fingerprint, fpr2);

  // Revoke the second too: keys exist for the address, none usable.
  tk::revoke(h, fpr2);
  auto none = find_list_key(*ctx_, kAddress);
  ASSERT_FALSE(none) << (none->has_value() ? (*none)->fingerprint : "nullopt");
  EXPECT_EQ(none.error().kind, ErrorClass::permanent);
  EXPECT_NE(none.error().message.find("(revoked)"), std::string::npos) << none.error().message;
  EXPECT_NE(none.error().message.find(" are not usable"), std::string::npos)
      << none.error().message;

  // A new key may still be created (the revoked ones carry the same user ID).
  auto fresh = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(fresh) << fresh.error().message;
  auto now = find_list_key(*ctx_, kAddress);
  ASSERT_TRUE(now && now->has_value());
  EXPECT_EQ((*now)->fingerprint, *fresh);
}

TEST_F(ListKeyTest, KeyWithoutEncryptionSubkeyIsNotAListKey) {
  const std::string h = home_->path().string();
  const std::string fpr = tk::generate(h, "Sign only", kAddress, "ed25519", "sign,cert", "never");
  auto r = find_list_key(*ctx_, kAddress);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "the list key " + fpr + " (no secret encryption subkey) for " +
                                   kAddress + " is not usable");
}

TEST_F(ListKeyTest, HomeIsMadePrivate) {
  ASSERT_EQ(::chmod(home_->path().c_str(), 0755), 0);
  auto r = find_list_key(*ctx_, kAddress);
  ASSERT_TRUE(r) << r.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(home_->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::chmod(home_->path().c_str(), 0750), 0);
  ASSERT_TRUE(create_list_key(*ctx_, kAddress, "Ops"));
  ASSERT_EQ(::stat(home_->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto missing = make_home_private(home_->path() / "missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorClass::permanent);
}

TEST_F(ListKeyTest, ExportErrors) {
  auto bad = export_public(*ctx_, "nope");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "not a fingerprint: \"nope\"");
  auto unknown = export_public(*ctx_, "0123456789ABCDEF0123456789ABCDEF01234567");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorClass::permanent);
  EXPECT_EQ(unknown.error().message,
            "no key 0123456789ABCDEF0123456789ABCDEF01234567 in " + home_->path().string());
}

// ---- import-list-key --------------------------------------------------------

TEST_F(ListKeyTest, ImportMovesAListKeyToAnotherHost) {
  auto fpr = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(fpr) << fpr.error().message;
  const std::string file = file_in_home("list.sec.asc", secret_export(home_->path(), *fpr));

  OtherHome o = other_home();
  ASSERT_EQ(::chmod(o.home->path().c_str(), 0755), 0);
  auto got = import_secret_key_file(*o.ctx, file, kAddress);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, *fpr);
  struct stat st {};
  ASSERT_EQ(::stat(o.home->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto found = find_list_key(*o.ctx, kAddress);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->fingerprint, *fpr);
  // The imported key decrypts there.
  tk::write_file(sender_home() + "/list.asc", *export_public(*ctx_, *fpr));
  tk::gpg(sender_home(), {"--import", sender_home() + "/list.asc"});
  auto d = decrypt(*o.ctx, sender_gpg({"--armor", "--encrypt", "-r", *fpr}, "moved\n"),
                   kTestMaxPlaintext);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->status, DecryptStatus::decrypted) << d->detail;
  // Importing the same key again is fine.
  auto again = import_secret_key_file(*o.ctx, file, kAddress);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, *fpr);
}

TEST_F(ListKeyTest, ImportRefusals) {
  const std::string h = home_->path().string();
  auto fpr = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(fpr) << fpr.error().message;
  auto other = create_list_key(*ctx_, "other@lists.example", "Other");
  ASSERT_TRUE(other) << other.error().message;
  const std::string secret = secret_export(h, *fpr);

  // Passphrase-protected and encryption-less keys, made in a scratch home.
  const ProtectedKey p = protected_key(kAddress);
  const std::string& prot = p.fpr;
  const std::string& prot_secret = p.secret;
  auto gen2 = tk::new_home();
  ASSERT_TRUE(gen2);
  const std::string g2 = gen2->path().string();
  const std::string signonly = tk::generate(g2, "S", kAddress, "ed25519", "sign,cert", "never");
  const std::string signonly_secret = secret_export(g2, signonly);

  struct Case {
    std::string name;
    std::string content;  // "" with missing = true: no file at all
    std::string address;
    std::string want;  // after "FILE: "
    bool missing = false;
  };
  const std::vector<Case> cases = {
      {"missing file", "", kAddress, "No such file or directory", true},
      {"garbage", "hello\n", kAddress, "no OpenPGP key found"},
      {"public only", tk::export_public(h, *fpr), kAddress,
       "holds only the public key " + *fpr +
           "; export the secret key with gpg --armor --export-secret-keys " + *fpr},
      {"two keys", secret + secret_export(h, *other), kAddress,
       "holds 2 keys; a list key file must hold exactly one"},
      {"wrong address", secret, "third@lists.example",
       "key " + *fpr + " has no user ID with the address third@lists.example (it has: Ops <" +
           kAddress + ">)"},
      {"no encryption subkey", signonly_secret, kAddress,
       "key " + signonly + " cannot serve as list key: no secret encryption subkey"},
      {"passphrase", prot_secret, kAddress,
       "the secret key " + prot +
           " is protected by a passphrase, which tlpmaild cannot enter; remove the passphrase "
           "(gpg --edit-key " +
           prot +
           ", then passwd, then an empty passphrase) and export it "
           "again"},
  };
  OtherHome o = other_home();
  for (const Case& c : cases) {
    const std::string file = h + "/import-" + std::to_string(&c - cases.data());
    if (!c.missing) tk::write_file(file, c.content);
    auto r = import_secret_key_file(*o.ctx, file, c.address);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().kind, ErrorClass::permanent) << c.name;
    EXPECT_EQ(r.error().message, file + ": " + c.want) << c.name;
  }
  // Nothing was imported into the target home by any of them.
  auto keys = o.ctx->list_keys();
  ASSERT_TRUE(keys);
  EXPECT_TRUE(keys->empty());

  // A different usable list key for the address is already there.
  auto existing = create_list_key(*o.ctx, kAddress, "Ops here");
  ASSERT_TRUE(existing) << existing.error().message;
  const std::string file = h + "/import-good";
  tk::write_file(file, secret);
  auto r = import_secret_key_file(*o.ctx, file, kAddress);
  ASSERT_FALSE(r);
  const std::string oh = o.home->path().string();
  EXPECT_EQ(r.error().message, "a different list key " + *existing + " for " + kAddress +
                                   " is already in " + oh + "; delete it first (gpg --homedir " +
                                   oh + " --delete-secret-and-public-keys " + *existing + ")");
}

TEST(ListKeyAddress, Plausible) {
  struct Case {
    std::string in;
    bool want;
  };
  const Case cases[] = {
      {"ops@lists.example", true},
      {"a@b", true},
      {"", false},
      {"ops", false},
      {"@lists", false},
      {"ops@", false},
      {"a@b@c", false},
      {"a b@c", false},
      {"a<b@c", false},
      {"a\"b@c", false},
      {"a,b@c", false},
      {std::string("a\0b@c", 5), false},
      {"a\tb@c", false},
      {std::string(250, 'a') + "@b.cd", false},
  };
  for (const Case& c : cases) EXPECT_EQ(is_plausible_address(c.in), c.want) << c.in;
}

}  // namespace
}  // namespace tlpmail::openpgp
