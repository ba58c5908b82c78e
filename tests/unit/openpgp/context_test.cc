// Tests of the GPGME adapter with real gpg: key import (counts, primary
// fingerprints, garbage), key facts of several algorithms and states
// (expired, revoked, signing-only, weak), lookups by fingerprint, homes
// kept apart per context, the home length limit and TempHome clean-up.
#include "openpgp/context.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "openpgp/deadline.h"
#include "openpgp/gpg_test_keys.h"
#include "openpgp/temp_home.h"
#include "util/text.h"

namespace tlpmail::openpgp {
namespace {

namespace tk = tlpmail::testkeys;

struct Generated {
  std::string good;       // ed25519 sign,cert + cv25519 encr, 1y
  std::string signonly;   // ed25519 sign,cert, no subkey
  std::string rsa1024;    // rsa1024 sign,cert + rsa1024 encr
  std::string dsa1024;    // dsa1024 sign,cert
  std::string rsa2048;    // rsa2048 sign,cert,encr in the primary key alone
  std::string expired;    // made in 2020, expired a day later
  std::string revoked;    // ed25519, revoked
  std::string armored;    // every key above, exported (public)
};

class OpenpgpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(initialize());
    gen_home_ = tk::new_home();
    ASSERT_TRUE(gen_home_);
    const std::string h = gen_home_->path().string();
    Generated g;
    g.good = tk::generate(h, "Good Key", "good@x.example", "ed25519", "sign,cert", "1y");
    tk::add_subkey(h, g.good, "cv25519", "encr", "1y");
    g.signonly = tk::generate(h, "Sign Only", "signonly@x.example", "ed25519", "sign,cert", "never");
    g.rsa1024 = tk::generate(h, "Weak Rsa", "rsa1024@x.example", "rsa1024", "sign,cert", "never");
    tk::add_subkey(h, g.rsa1024, "rsa1024", "encr", "never");
    g.dsa1024 = tk::generate(h, "Weak Dsa", "dsa1024@x.example", "dsa1024", "sign,cert", "never");
    g.rsa2048 = tk::generate(h, "Rsa 2048", "rsa2048@x.example", "rsa2048", "sign,cert,encr",
                             "never");
    g.expired = tk::generate(h, "Expired", "expired@x.example", "ed25519", "sign,cert", "1d",
                             {"--faked-system-time", "20200101T000000"});
    g.revoked = tk::generate(h, "Revoked", "revoked@x.example", "ed25519", "sign,cert", "never");
    tk::add_subkey(h, g.revoked, "cv25519", "encr", "never");
    tk::revoke(h, g.revoked);
    g.armored = tk::gpg(h, {"--armor", "--export"});
    keys_ = new Generated(g);
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
    gen_home_.reset();
  }

  void SetUp() override {
    home_ = tk::new_home();
    ASSERT_TRUE(home_);
  }

  Context open_context() {
    auto ctx = Context::open(home_->path());
    EXPECT_TRUE(ctx) << ctx.error().message;
    return std::move(ctx).value();
  }

  static inline std::unique_ptr<TempHome> gen_home_;
  static inline Generated* keys_ = nullptr;
  std::unique_ptr<TempHome> home_;
};

TEST_F(OpenpgpTest, ImportReportsPrimaryFingerprintsAndCounts) {
  Context ctx = open_context();
  auto first = ctx.import_data(tk::export_public(gen_home_->path(), keys_->good));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->fingerprints, std::vector<std::string>{keys_->good});
  EXPECT_EQ(first->considered, 1);
  EXPECT_EQ(first->imported, 1);
  EXPECT_EQ(first->unchanged, 0);
  EXPECT_EQ(first->secret_read, 0);

  auto again = ctx.import_data(tk::export_public(gen_home_->path(), keys_->good));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->fingerprints, std::vector<std::string>{keys_->good});
  EXPECT_EQ(again->imported, 0);
  EXPECT_EQ(again->unchanged, 1);
}

TEST_F(OpenpgpTest, ImportOfManyKeysListsEachOnce) {
  Context ctx = open_context();
  auto r = ctx.import_data(keys_->armored);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->considered, 7);
  EXPECT_EQ(r->fingerprints.size(), 7u);
  auto listed = ctx.list_keys();
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->size(), 7u);
}

// A gpg stopped before it has read its input: GPGME (1.18) would poll the
// input pipe of the killed gpg for ever; the deadline's watchdog kills gpg
// and points that pipe at /dev/null, and the import returns its error.
TEST_F(OpenpgpTest, ImportFromAStoppedGpgReturnsAfterTheDeadline) {
  Context ctx = open_context();
  // More than a pipe holds (64 KiB), so that gpg must read while GPGME
  // writes; the same key again and again (gpg would take it as unchanged).
  const std::string one = keys_->armored;
  std::string data;
  while (data.size() < 96 * 1024) data += one;
  set_operation_deadline(std::chrono::milliseconds(300));
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    for (int i = 0; i < 5000 && !stopped; ++i) {
      for (int pid : home_processes(home_->path(), false)) {
        if (::kill(pid, SIGSTOP) == 0) stopped = true;
      }
      if (!stopped) std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
  auto import = std::async(std::launch::async, [&] { return ctx.import_data(data); });
  const auto status = import.wait_for(std::chrono::seconds(60));
  stopper.join();
  set_operation_deadline(kDefaultOperationDeadline);
  if (status != std::future_status::ready) {
    ADD_FAILURE() << "the import did not return within 60 s (deadline 300 ms + 6 s + 5 s)";
    std::_Exit(1);  // the GPGME call cannot be abandoned
  }
  ASSERT_TRUE(stopped) << "gpg was never seen running";
  auto r = import.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorClass::temporary);
  EXPECT_NE(r.error().message.find("gpg did not answer"), std::string::npos) << r.error().message;
}

TEST_F(OpenpgpTest, ImportErrors) {
  Context ctx = open_context();
  struct Case {
    std::string name;
    std::string data;
  };
  const Case cases[] = {
      {"empty", ""},
      {"text", "this is not a key\n"},
      {"armor without key",
       "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"},
  };
  for (const Case& c : cases) {
    auto r = ctx.import_data(c.data);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().kind, ErrorClass::permanent) << c.name;
    EXPECT_EQ(r.error().message, "no OpenPGP key found") << c.name;
  }
  auto missing = ctx.import_file(home_->path() / "nope.asc");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorClass::permanent);
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos)
      << missing.error().message;
}

TEST_F(OpenpgpTest, ImportFileReadsTheFile) {
  Context ctx = open_context();
  const std::string file = (home_->path() / "k.asc").string();
  tk::write_file(file, tk::export_public(gen_home_->path(), keys_->signonly));
  auto r = ctx.import_file(file);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->fingerprints, std::vector<std::string>{keys_->signonly});
}

TEST_F(OpenpgpTest, KeyFactsOfAlgorithmsAndStates) {
  Context ctx = open_context();
  ASSERT_TRUE(ctx.import_data(keys_->armored));
  auto listed = ctx.list_keys();
  ASSERT_TRUE(listed) << listed.error().message;
  struct Want {
    std::string name;
    std::string fpr;
    std::string algorithm;
    AlgoFamily family;
    unsigned bits;
    bool weak, revoked, expired, sign, encr;
    size_t subkeys;
  };
  const Want wants[] = {
      {"good", keys_->good, "ed25519", AlgoFamily::eddsa, 255, false, false, false, true, true, 1},
      {"signonly", keys_->signonly, "ed25519", AlgoFamily::eddsa, 255, false, false, false, true,
       false, 0},
      {"rsa1024", keys_->rsa1024, "rsa1024", AlgoFamily::rsa, 1024, true, false, false, true, true,
       1},
      {"dsa1024", keys_->dsa1024, "dsa1024", AlgoFamily::dsa, 1024, true, false, false, true,
       false, 0},
      {"rsa2048", keys_->rsa2048, "rsa2048", AlgoFamily::rsa, 2048, false, false, false, true,
       true, 0},
      {"expired", keys_->expired, "ed25519", AlgoFamily::eddsa, 255, false, false, true, false,
       false, 0},
      {"revoked", keys_->revoked, "ed25519", AlgoFamily::eddsa, 255, false, true, false, false,
       false, 1},
  };
  const std::time_t now = std::time(nullptr);
  for (const Want& w : wants) {
    const KeyFacts* got = nullptr;
    for (const KeyFacts& k : *listed) {
      if (k.fingerprint == w.fpr) got = &k;
    }
    ASSERT_NE(got, nullptr) << w.name;
    EXPECT_EQ(got->algorithm, w.algorithm) << w.name;
    EXPECT_EQ(got->family, w.family) << w.name;
    EXPECT_EQ(got->bits, w.bits) << w.name;
    EXPECT_EQ(is_weak_algorithm(got->family, got->bits), w.weak) << w.name;
    EXPECT_EQ(got->revoked, w.revoked) << w.name;
    EXPECT_EQ(got->expired, w.expired) << w.name;
    EXPECT_EQ(got->has_usable_signing_key, w.sign) << w.name;
    EXPECT_EQ(got->has_usable_encryption_key, w.encr) << w.name;
    EXPECT_EQ(got->has_signing_key_at(now), w.sign) << w.name;
    EXPECT_EQ(got->has_encryption_key_at(now), w.encr) << w.name;
    EXPECT_EQ(got->subkey_fingerprints.size(), w.subkeys) << w.name;
    EXPECT_EQ(got->subkeys.size(), w.subkeys + 1) << w.name;
    EXPECT_FALSE(got->has_secret) << w.name;
    EXPECT_FALSE(got->disabled) << w.name;
    EXPECT_FALSE(got->invalid) << w.name;
    ASSERT_EQ(got->user_ids.size(), 1u) << w.name;
  }
}

TEST_F(OpenpgpTest, GoodKeyDetails) {
  Context ctx = open_context();
  ASSERT_TRUE(ctx.import_data(tk::export_public(gen_home_->path(), keys_->good)));
  auto found = ctx.find_key(keys_->good);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  const KeyFacts& k = **found;
  EXPECT_EQ(k.user_ids, std::vector<std::string>{"Good Key <good@x.example>"});
  EXPECT_GT(k.expires, k.created);
  EXPECT_NEAR(static_cast<double>(k.expires - k.created), 365.0 * 86400, 2 * 86400.0);
  ASSERT_EQ(k.subkeys.size(), 2u);
  EXPECT_TRUE(k.subkeys[0].is_primary);
  EXPECT_TRUE(k.subkeys[0].can_sign);
  EXPECT_TRUE(k.subkeys[0].can_certify);
  EXPECT_FALSE(k.subkeys[0].can_encrypt);
  EXPECT_FALSE(k.subkeys[1].is_primary);
  EXPECT_EQ(k.subkeys[1].algorithm, "cv25519");
  EXPECT_EQ(k.subkeys[1].family, AlgoFamily::ecdh);
  EXPECT_TRUE(k.subkeys[1].can_encrypt);
  EXPECT_EQ(k.subkeys[1].fingerprint, k.subkey_fingerprints[0]);
  EXPECT_EQ(k.find_subkey(ascii_lower(k.subkey_fingerprints[0])), &k.subkeys[1]);
  // At a time after the expiry, nothing is usable any more.
  EXPECT_FALSE(k.has_signing_key_at(k.expires + 1));
  EXPECT_FALSE(k.has_encryption_key_at(k.expires + 1));
  EXPECT_TRUE(k.has_encryption_key_at(k.expires - 1));
}

TEST_F(OpenpgpTest, LookupsMatchPrimaryFingerprintsOnly) {
  Context ctx = open_context();
  ASSERT_TRUE(ctx.import_data(keys_->armored));
  auto lower = ctx.find_key(ascii_lower(keys_->good));
  ASSERT_TRUE(lower) << lower.error().message;
  ASSERT_TRUE(lower->has_value());
  EXPECT_EQ((*lower)->fingerprint, keys_->good);

  auto by_subkey = ctx.find_key((*lower)->subkey_fingerprints.at(0));
  ASSERT_TRUE(by_subkey) << by_subkey.error().message;
  EXPECT_FALSE(by_subkey->has_value());

  auto unknown = ctx.find_key("0123456789ABCDEF0123456789ABCDEF01234567");
  ASSERT_TRUE(unknown) << unknown.error().message;
  EXPECT_FALSE(unknown->has_value());

  auto malformed = ctx.find_key("not a fingerprint");
  ASSERT_TRUE(malformed);
  EXPECT_FALSE(malformed->has_value());

  auto some = ctx.list_keys({keys_->rsa1024, "0123456789ABCDEF0123456789ABCDEF01234567",
                             keys_->revoked});
  ASSERT_TRUE(some) << some.error().message;
  ASSERT_EQ(some->size(), 2u);
  std::vector<std::string> got = {(*some)[0].fingerprint, (*some)[1].fingerprint};
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = {keys_->rsa1024, keys_->revoked};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

TEST_F(OpenpgpTest, ContextsKeepTheirHomesApart) {
  auto other_home = tk::new_home();
  ASSERT_TRUE(other_home);
  Context a = open_context();
  auto b = Context::open(other_home->path());
  ASSERT_TRUE(b) << b.error().message;
  ASSERT_TRUE(a.import_data(tk::export_public(gen_home_->path(), keys_->good)));
  auto in_b = b->list_keys();
  ASSERT_TRUE(in_b) << in_b.error().message;
  EXPECT_TRUE(in_b->empty());
  auto in_a = a.list_keys();
  ASSERT_TRUE(in_a);
  EXPECT_EQ(in_a->size(), 1u);
  EXPECT_EQ(a.home(), home_->path());
}

TEST_F(OpenpgpTest, SecretKeysAreSeen) {
  Context ctx = open_context();
  const std::string secret =
      tk::gpg(gen_home_->path(), {"--armor", "--export-secret-keys", keys_->good});
  auto r = ctx.import_data(secret);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->secret_read, 1);
  EXPECT_EQ(r->fingerprints, std::vector<std::string>{keys_->good});
  auto k = ctx.find_key(keys_->good);
  ASSERT_TRUE(k && k->has_value());
  EXPECT_TRUE((*k)->has_secret);
}

TEST(OpenpgpHome, LengthLimit) {
  const std::string short_home = "/tmp/tlpg-abcdef";
  auto ok = check_home_path(short_home);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->string(), short_home);

  const std::string long_home = "/tmp/" + std::string(76, 'a');  // 81 bytes
  auto bad = check_home_path(long_home);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorClass::permanent);
  EXPECT_EQ(bad.error().message,
            "GnuPG home " + long_home +
                " is 81 bytes long; at most 80 are supported (gpg-agent's socket paths)");
  auto ctx = Context::open(long_home);
  ASSERT_FALSE(ctx);
  EXPECT_EQ(ctx.error().message, bad.error().message);

  auto bad_pattern = TempHome::create("/tmp/tlpg-");
  ASSERT_FALSE(bad_pattern);
}

TEST(OpenpgpHome, OpenCreatesAMissingHomeAndTempHomeCleansUp) {
  std::filesystem::path path;
  {
    auto home = TempHome::create("/tmp/tlpt-XXXXXX");
    ASSERT_TRUE(home) << home.error().message;
    path = home->path();
    EXPECT_EQ(path.string().size(), 16u);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);

    const auto sub = path / "g";
    auto ctx = Context::open(sub);
    ASSERT_TRUE(ctx) << ctx.error().message;
    ASSERT_EQ(::stat(sub.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    auto keys = ctx->list_keys();  // starts gpg in that home
    ASSERT_TRUE(keys) << keys.error().message;
    EXPECT_TRUE(keys->empty());

    TempHome moved = std::move(*home);
    EXPECT_EQ(moved.path(), path);
    EXPECT_TRUE(home->path().empty());
  }
  EXPECT_FALSE(std::filesystem::exists(path));

  auto not_dir = Context::open("/etc/hostname");
  ASSERT_FALSE(not_dir);
  EXPECT_EQ(not_dir.error().message, "GnuPG home /etc/hostname is not a folder");
}

TEST(OpenpgpFingerprint, Normalize) {
  struct Case {
    std::string in, want;
  };
  const Case cases[] = {
      {"0123456789abcdef0123456789ABCDEF01234567", "0123456789ABCDEF0123456789ABCDEF01234567"},
      {"0123 4567 89AB CDEF 0123  4567 89AB CDEF 0123 4567",
       "0123456789ABCDEF0123456789ABCDEF01234567"},
      {"0123456789ABCDEF", ""},
      {"0x0123456789ABCDEF0123456789ABCDEF01234567", ""},
      {"G123456789ABCDEF0123456789ABCDEF01234567", ""},
      {"", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(normalize_fingerprint(c.in), c.want) << c.in;
}

TEST(OpenpgpAlgorithms, Weakness) {
  struct Case {
    AlgoFamily family;
    unsigned bits;
    bool want;
  };
  const Case cases[] = {
      {AlgoFamily::rsa, 1024, true},      {AlgoFamily::rsa, 2047, true},
      {AlgoFamily::rsa, 2048, false},     {AlgoFamily::dsa, 1024, true},
      {AlgoFamily::elgamal, 1024, true},  {AlgoFamily::elgamal, 3072, false},
      {AlgoFamily::eddsa, 255, false},    {AlgoFamily::ecdh, 255, false},
      {AlgoFamily::ecdsa, 256, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(is_weak_algorithm(c.family, c.bits), c.want) << to_string(c.family) << c.bits;
  }
}

}  // namespace
}  // namespace tlpmail::openpgp
