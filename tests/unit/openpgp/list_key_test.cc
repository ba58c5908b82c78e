// Tests of the list keys with real gpg: creation (algorithms, user IDs,
// expiry, no passphrase), lookup by address (case, ambiguity, unusable
// keys), public export, the import of an existing secret key with each of
// its refusals, the private mode of the home, and the lifecycle: rotation
// (the certified successor is current, the old key in grace, then past
// it), extension, the -request user ID for old keys, retirement.
#include "openpgp/list_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "openpgp/crypto_fixture.h"
#include "openpgp/decrypt.h"
#include "openpgp/home_cache.h"
#include "openpgp/publish.h"
#include "util/text.h"

namespace tlpmail::openpgp {
namespace {

using testing::CryptoTest;
using testing::kTestMaxPlaintext;
namespace tk = tlpmail::testkeys;

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
            (std::vector<std::string>{
                "CSIRT Network operational exchange <" + kAddress + ">",
                "CSIRT Network operational exchange <csirt-ops-request@lists.example>"}));
  EXPECT_EQ(k.algorithm, "ed25519");
  // Three years from now (gpg counts from its own clock, a moment ago).
  const std::time_t three_years = std::time(nullptr) + kListKeyLifetimeDays * 86400L;
  EXPECT_LE(std::abs(static_cast<long>(k.expires - three_years)), 120L) << k.expires;
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
  EXPECT_EQ((*found)->user_ids, (std::vector<std::string>{"csirt-ops <" + kAddress + ">",
                                                          "csirt-ops <csirt-ops-request@lists.example>"}));
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
           kAddress + ">, Ops <csirt-ops-request@lists.example>)"},
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

// ---- lifecycle ---------------------------------------------------------------

// The user IDs of `fpr` in `home` as gpg lists them, with the primary one
// first, and the key ids that certified the user ID for `address`.
struct UidListing {
  std::vector<std::string> uids;
  std::string primary;
  std::vector<std::string> certifiers;
};
UidListing uid_listing(const std::string& home, const std::string& fpr,
                       const std::string& address) {
  UidListing out;
  const std::string colons = tk::gpg(home, {"--with-colons", "--check-sigs", fpr});
  bool in_address_uid = false;
  for (const std::vector<std::string>& f : tk::colon_records(colons)) {
    if (f[0] == "uid") {
      out.uids.push_back(f[9]);
      if (out.primary.empty()) out.primary = f[9];
      in_address_uid = f[9].find("<" + address + ">") != std::string::npos;
    } else if (f[0] == "sig" && in_address_uid && f.size() > 4 && f[1] == "!") {
      out.certifiers.push_back(f[4]);
    } else if (f[0] == "sub") {
      in_address_uid = false;
    }
  }
  return out;
}

std::string key_id(const std::string& fpr) { return fpr.substr(24); }

TEST_F(ListKeyTest, RotationMakesTheCertifiedSuccessorCurrent) {
  const std::string h = home_->path().string();
  auto old = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(old) << old.error().message;
  auto fresh = create_successor_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_NE(*fresh, *old);

  auto keys = find_list_keys(*ctx_, kAddress);
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_TRUE(keys->has_value());
  EXPECT_EQ((*keys)->current.fingerprint, *fresh);
  ASSERT_EQ((*keys)->previous.size(), 1u);
  EXPECT_EQ((*keys)->previous[0].facts.fingerprint, *old);
  EXPECT_TRUE((*keys)->previous[0].in_grace);
  auto current = find_list_key(*ctx_, kAddress);
  ASSERT_TRUE(current && current->has_value());
  EXPECT_EQ((*current)->fingerprint, *fresh);

  // The old key certified both user IDs of the new one; the list's user ID
  // stays the primary one.
  const UidListing l = uid_listing(h, *fresh, kAddress);
  EXPECT_EQ(l.primary, "Ops <" + kAddress + ">");
  EXPECT_NE(std::find(l.certifiers.begin(), l.certifiers.end(), key_id(*old)), l.certifiers.end())
      << tk::gpg(h, {"--check-sigs", *fresh});
  // The full export carries the certification, the minimal one does not.
  auto full = export_key(*ctx_, *fresh, KeyExport::public_full, false);
  auto minimal = export_key(*ctx_, *fresh, KeyExport::public_minimal, false);
  ASSERT_TRUE(full && minimal);
  EXPECT_GT(full->size(), minimal->size());

  // A third key while the first is still in grace: certified by both.
  auto third = create_successor_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(third) << third.error().message;
  auto three = find_list_keys(*ctx_, kAddress);
  ASSERT_TRUE(three && three->has_value()) << (three ? "" : three.error().message);
  EXPECT_EQ((*three)->current.fingerprint, *third);
  ASSERT_EQ((*three)->previous.size(), 2u);

  // Both old keys still decrypt; mail for either is meant for a key of the list.
  for (const std::string& f : {*old, *fresh}) {
    tk::write_file(sender_home() + "/k.asc", *export_public(*ctx_, f));
    tk::gpg(sender_home(), {"--import", sender_home() + "/k.asc"});
    auto d = decrypt(*ctx_, sender_gpg({"--armor", "--encrypt", "-r", f}, "to an old key\n"),
                     kTestMaxPlaintext);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->status, DecryptStatus::decrypted) << d->detail;
    EXPECT_FALSE(is_meant_for(*d, (*three)->current));
    const bool for_previous = is_meant_for(*d, (*three)->previous[0].facts) ||
                              is_meant_for(*d, (*three)->previous[1].facts);
    EXPECT_TRUE(for_previous);
  }
}

TEST_F(ListKeyTest, GraceEndsWithTheOldKeysExpiry) {
  auto old = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(old) << old.error().message;
  auto fresh = create_successor_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(fresh) << fresh.error().message;
  ASSERT_TRUE(end_grace_in(*ctx_, *old, 2));
  auto during = find_list_keys(*ctx_, kAddress);
  ASSERT_TRUE(during && during->has_value());
  ASSERT_EQ((*during)->previous.size(), 1u);
  EXPECT_TRUE((*during)->previous[0].in_grace);
  EXPECT_GT((*during)->previous[0].facts.expires, 0);
  tk::write_file(sender_home() + "/k.asc", *export_public(*ctx_, *old));
  tk::gpg(sender_home(), {"--import", sender_home() + "/k.asc"});
  const std::string to_old = sender_gpg({"--armor", "--encrypt", "-r", *old}, "late\n");

  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto after = find_list_keys(*ctx_, kAddress);
  ASSERT_TRUE(after && after->has_value()) << (after ? "" : after.error().message);
  EXPECT_EQ((*after)->current.fingerprint, *fresh);
  ASSERT_EQ((*after)->previous.size(), 1u);
  EXPECT_FALSE((*after)->previous[0].in_grace);
  EXPECT_TRUE((*after)->previous[0].facts.expired);
  // gpg still decrypts with the expired key: the list can tell the sender
  // which key to use instead.
  auto d = decrypt(*ctx_, to_old, kTestMaxPlaintext);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->status, DecryptStatus::decrypted) << d->detail;
  EXPECT_TRUE(is_meant_for(*d, (*after)->previous[0].facts));

  // An earlier end is kept: a later call does not lengthen the grace.
  ASSERT_TRUE(end_grace_in(*ctx_, *old, 86400));
  auto still = find_list_keys(*ctx_, kAddress);
  ASSERT_TRUE(still && still->has_value());
  EXPECT_FALSE((*still)->previous[0].in_grace);
}

TEST_F(ListKeyTest, ExtendMovesTheExpiryAndRevivesAnExpiredKey) {
  auto fpr = create_list_key(*ctx_, kAddress, "Ops", 1);
  ASSERT_TRUE(fpr) << fpr.error().message;
  auto extended = extend_list_key(*ctx_, kAddress, 400);
  ASSERT_TRUE(extended) << extended.error().message;
  EXPECT_EQ(*extended, *fpr);
  auto found = find_list_key(*ctx_, kAddress);
  ASSERT_TRUE(found && found->has_value());
  const std::time_t want = std::time(nullptr) + 400L * 86400;
  EXPECT_LE(std::abs(static_cast<long>((*found)->expires - want)), 120L);

  // Expired: the list has no usable key, but extend brings it back.
  ASSERT_TRUE(end_grace_in(*ctx_, *fpr, 1));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto dead = find_list_key(*ctx_, kAddress);
  ASSERT_FALSE(dead);
  EXPECT_NE(dead.error().message.find("(expired)"), std::string::npos) << dead.error().message;
  auto revived = extend_list_key(*ctx_, kAddress, 30);
  ASSERT_TRUE(revived) << revived.error().message;
  auto back = find_list_key(*ctx_, kAddress);
  ASSERT_TRUE(back && back->has_value()) << (back ? "" : back.error().message);
  EXPECT_EQ((*back)->fingerprint, *fpr);

  auto none = extend_list_key(*ctx_, "other@lists.example", 30);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "no list key for other@lists.example in " +
                                      home_->path().string() + " that could be extended");
  auto zero = extend_list_key(*ctx_, kAddress, 0);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "a list key must be valid for at least 1 day");
}

TEST_F(ListKeyTest, OldKeysGetTheRequestUserId) {
  const std::string h = home_->path().string();
  // A key as tlpmail made them before: one user ID, no expiry.
  const std::string fpr = tk::generate(h, "Old Ops", kAddress, "ed25519", "sign,cert", "never");
  tk::add_subkey(h, fpr, "cv25519", "encr", "never");
  auto added = add_request_user_id(*ctx_, fpr, kAddress);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_TRUE(*added);
  const UidListing l = uid_listing(h, fpr, kAddress);
  EXPECT_EQ(l.uids, (std::vector<std::string>{"Old Ops <" + kAddress + ">",
                                              "Old Ops <csirt-ops-request@lists.example>"}));
  EXPECT_EQ(l.primary, "Old Ops <" + kAddress + ">");
  auto again = add_request_user_id(*ctx_, fpr, kAddress);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(*again);
  // Still the list key, still without expiry.
  auto found = find_list_key(*ctx_, kAddress);
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->fingerprint, fpr);
  EXPECT_EQ((*found)->expires, 0);
  auto wrong = add_request_user_id(*ctx_, fpr, "other@lists.example");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message,
            "key " + fpr + " has no user ID with the address other@lists.example");
}

// The per-message lookups (home_cache.h): a second lookup is answered
// without gpg; a change of the home's keys (here a rotation) and the
// expiry of a key it holds (the end of the grace) make it ask gpg again.
TEST_F(ListKeyTest, CachedListKeysFollowTheHomeAndTheClock) {
  auto old = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(old) << old.error().message;
  const HomeCache& cache = ctx_->cache();
  auto first = find_list_keys_cached(*ctx_, kAddress);
  ASSERT_TRUE(first && first->has_value()) << (first ? "" : first.error().message);
  auto second = find_list_keys_cached(*ctx_, "CSIRT-Ops@lists.example");
  ASSERT_TRUE(second && second->has_value());
  EXPECT_EQ((*second)->current.fingerprint, *old);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 1u);

  auto ac1 = autocrypt_key_cached(*ctx_, (*first)->current, kAddress);
  auto ac2 = autocrypt_key_cached(*ctx_, (*first)->current, kAddress);
  ASSERT_TRUE(ac1 && ac2);
  EXPECT_EQ(*ac1, *ac2);
  EXPECT_EQ(*ac1, *autocrypt_key_of(*ctx_, (*first)->current, kAddress));
  EXPECT_EQ(cache.misses(), 2u);
  EXPECT_EQ(cache.hits(), 2u);

  // A rotation writes the home: the next lookup lists again.
  auto fresh = create_successor_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(fresh) << fresh.error().message;
  ASSERT_TRUE(end_grace_in(*ctx_, *old, 2));
  auto during = find_list_keys_cached(*ctx_, kAddress);
  ASSERT_TRUE(during && during->has_value());
  EXPECT_EQ((*during)->current.fingerprint, *fresh);
  ASSERT_EQ((*during)->previous.size(), 1u);
  EXPECT_TRUE((*during)->previous[0].in_grace);
  EXPECT_EQ(cache.misses(), 3u);
  ASSERT_TRUE(find_list_keys_cached(*ctx_, kAddress));
  EXPECT_EQ(cache.misses(), 3u);

  // Nothing written since, but the old key's grace ends: listed again.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto after = find_list_keys_cached(*ctx_, kAddress);
  ASSERT_TRUE(after && after->has_value());
  EXPECT_EQ(cache.misses(), 4u);
  ASSERT_EQ((*after)->previous.size(), 1u);
  EXPECT_FALSE((*after)->previous[0].in_grace);

  // A key gone from the home (deleted by gpg itself, not through this
  // context) is not answered from the cache.
  tk::gpg(home_->path().string(), {"--batch", "--yes", "--delete-secret-and-public-keys", *fresh});
  auto gone = find_list_keys_cached(*ctx_, kAddress);
  EXPECT_EQ(cache.misses(), 5u);
  EXPECT_FALSE(gone && gone->has_value() && (*gone)->current.fingerprint == *fresh);
}

// One cache per home, shared by its contexts (every thread has its own):
// what one context listed answers another, on another thread too; and a
// listing made before the home changed is not kept after another context
// has seen the change.
TEST_F(ListKeyTest, CachedFactsAreSharedByTheContextsOfAHome) {
  auto fpr = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(fpr) << fpr.error().message;
  auto first = find_list_keys_cached(*ctx_, kAddress);
  ASSERT_TRUE(first && first->has_value());
  const std::size_t misses = ctx_->cache().misses();

  std::size_t hits_seen = 0;
  std::string found_there;
  std::thread other([&] {
    auto c = Context::open(home_->path());
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(&c->cache(), &ctx_->cache());
    const std::size_t hits = c->cache().hits();
    auto again = find_list_keys_cached(*c, kAddress);
    ASSERT_TRUE(again && again->has_value());
    found_there = (*again)->current.fingerprint;
    hits_seen = c->cache().hits() - hits;
  });
  other.join();
  EXPECT_EQ(found_there, *fpr);
  EXPECT_EQ(hits_seen, 1u);
  EXPECT_EQ(ctx_->cache().misses(), misses);

  // Another home has a cache of its own.
  OtherHome o = other_home();
  ASSERT_TRUE(o.ctx);
  EXPECT_NE(&o.ctx->cache(), &ctx_->cache());

  // Listed under the old stamp, kept after the home changed: dropped.
  HomeCache& cache = ctx_->cache();
  const HomeStamp before = cache.check(home_->path());
  auto listed = find_list_keys(*ctx_, kAddress);
  ASSERT_TRUE(listed && listed->has_value());
  auto successor = create_successor_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(successor) << successor.error().message;
  const HomeStamp after = cache.check(home_->path());
  ASSERT_NE(before, after);
  cache.keep_list_keys(kAddress, **listed, std::time(nullptr), before);
  EXPECT_FALSE(cache.list_keys(kAddress, std::time(nullptr)).has_value());
  cache.keep_list_keys(kAddress, **listed, std::time(nullptr), after);
  EXPECT_TRUE(cache.list_keys(kAddress, std::time(nullptr)).has_value());
}

TEST_F(ListKeyTest, RetireDeletesOnlyAReplacedKey) {
  auto old = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(old) << old.error().message;
  auto other = create_list_key(*ctx_, "other@lists.example", "Other");
  ASSERT_TRUE(other) << other.error().message;
  auto current = retire_list_key(*ctx_, kAddress, *old);
  ASSERT_FALSE(current);
  EXPECT_EQ(current.error().message,
            *old + " is the current key of " + kAddress +
                ": rotate first (tlpmailctl rotate-list-key " + kAddress + ")");
  auto fresh = create_successor_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(fresh) << fresh.error().message;
  auto foreign = retire_list_key(*ctx_, kAddress, *other);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().message,
            *other + " is not a key of " + kAddress + " (its keys: " + *fresh + ", " + *old + ")");
  ASSERT_TRUE(retire_list_key(*ctx_, kAddress, ascii_lower(*old)));
  auto gone = ctx_->find_key(*old);
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  auto keys = find_list_keys(*ctx_, kAddress);
  ASSERT_TRUE(keys && keys->has_value());
  EXPECT_EQ((*keys)->current.fingerprint, *fresh);
  EXPECT_TRUE((*keys)->previous.empty());
}

TEST_F(ListKeyTest, SecretExportMovesTheSuccessorWhole) {
  auto old = create_list_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(old) << old.error().message;
  // The real home gets only the old key; the successor is made elsewhere.
  OtherHome real = other_home();
  ASSERT_TRUE(real.ctx->import_data(*export_key(*ctx_, *old, KeyExport::secret, false)));
  auto fresh = create_successor_key(*ctx_, kAddress, "Ops");
  ASSERT_TRUE(fresh) << fresh.error().message;
  auto secret = export_key(*ctx_, *fresh, KeyExport::secret, false);
  ASSERT_TRUE(secret) << secret.error().message;
  auto imported = real.ctx->import_data(*secret);
  ASSERT_TRUE(imported) << imported.error().message;
  EXPECT_EQ(imported->secret_imported, 1);
  auto there = find_list_keys(*real.ctx, kAddress);
  ASSERT_TRUE(there && there->has_value()) << (there ? "" : there.error().message);
  EXPECT_EQ((*there)->current.fingerprint, *fresh);
  ASSERT_EQ((*there)->previous.size(), 1u);
  EXPECT_TRUE((*there)->previous[0].in_grace);
}

TEST_F(ListKeyTest, LockIsExclusive) {
  auto first = ListKeyLock::acquire(home_->path());
  ASSERT_TRUE(first) << first.error().message;
  std::atomic<bool> got{false};
  std::thread t([&] {
    auto second = ListKeyLock::acquire(home_->path());
    got = static_cast<bool>(second);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(got.load());
  { auto released = std::move(*first); }
  t.join();
  EXPECT_TRUE(got.load());
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
