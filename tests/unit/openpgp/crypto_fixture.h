// Test fixture for the verify, decrypt and list-key tests: a "sender"
// GnuPG home with members' secret keys (generated lazily at test time with
// the gpg command line, shared by the tests of one process) that signs and
// encrypts with real gpg, and a fresh "list" home per test on which the
// code under test opens its Context. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "openpgp/context.h"
#include "openpgp/decrypt.h"
#include "openpgp/gpg_test_keys.h"
#include "openpgp/list_key.h"
#include "openpgp/temp_home.h"
#include "openpgp/verify.h"

namespace tlpmail::openpgp {

// Readable names in GoogleTest's failure messages.
inline void PrintTo(SignatureStatus s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(VerifyOutcome o, std::ostream* os) { *os << to_string(o); }
inline void PrintTo(DecryptStatus s, std::ostream* os) { *os << to_string(s); }

}  // namespace tlpmail::openpgp

namespace tlpmail::openpgp::testing {

namespace tk = tlpmail::testkeys;

// A plaintext limit far above anything the decrypt and list-key tests
// decrypt (the limit is tested on its own).
inline constexpr std::size_t kTestMaxPlaintext = 64 << 20;

// A key of the sender home: primary fingerprint and, when made, the
// fingerprint of its signing subkey.
struct SenderKey {
  std::string fpr;
  std::string signing_subkey;  // "" when the primary signs
};

class CryptoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(initialize()); }

  void SetUp() override {
    home_ = tk::new_home();
    ASSERT_TRUE(home_);
    auto ctx = Context::open(home_->path());
    ASSERT_TRUE(ctx) << ctx.error().message;
    ctx_ = std::make_unique<Context>(std::move(*ctx));
  }

  // The shared sender home (created on first use, removed at exit).
  static const std::string& sender_home() {
    static std::unique_ptr<TempHome> home = tk::new_home("/tmp/tlps-XXXXXX");
    static const std::string path = home->path().string();
    return path;
  }

  // Sender keys by name, generated on first use:
  //   alice:    ed25519 sign,cert + ed25519 signing subkey + cv25519 encr
  //   bob:      ed25519 sign,cert
  //   stranger: ed25519 sign,cert + cv25519 encr (never given to the list)
  //   expired:  ed25519 sign,cert made on 2020-01-01, expired a day later
  //   carol, dave: ed25519 sign,cert made on 2020-01-01, never expiring
  //             (for signatures at chosen past times, --faked-system-time)
  static const SenderKey& key(const std::string& name) {
    static std::map<std::string, SenderKey> keys;
    auto it = keys.find(name);
    if (it != keys.end()) return it->second;
    const std::string& h = sender_home();
    const std::string email = name + "@members.example";
    SenderKey k;
    if (name == "alice") {
      k.fpr = tk::generate(h, "Alice", email, "ed25519", "sign,cert", "never");
      tk::add_subkey(h, k.fpr, "ed25519", "sign", "never");
      tk::add_subkey(h, k.fpr, "cv25519", "encr", "never");
      k.signing_subkey = subkey_with(h, k.fpr, "s");
    } else if (name == "bob") {
      k.fpr = tk::generate(h, "Bob", email, "ed25519", "sign,cert", "never");
    } else if (name == "stranger") {
      k.fpr = tk::generate(h, "Stranger", email, "ed25519", "sign,cert", "never");
      tk::add_subkey(h, k.fpr, "cv25519", "encr", "never");
    } else if (name == "expired") {
      k.fpr = tk::generate(h, "Expired", email, "ed25519", "sign,cert", "1d",
                           {"--faked-system-time", "20200101T000000"});
    } else if (name == "carol" || name == "dave") {
      k.fpr = tk::generate(h, name, email, "ed25519", "sign,cert", "never",
                           {"--faked-system-time", "20200101T000000"});
    } else {
      ADD_FAILURE() << "unknown test key " << name;
    }
    return keys.emplace(name, k).first->second;
  }

  // The fingerprint of the first subkey of `fpr` whose capabilities
  // (colon listing field 12) contain `cap`.
  static std::string subkey_with(const std::string& home, const std::string& fpr,
                                 const std::string& cap) {
    std::string out = tk::gpg(home, {"--with-colons", "--list-keys", fpr});
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < out.size()) {
      size_t nl = out.find('\n', start);
      if (nl == std::string::npos) nl = out.size();
      lines.push_back(out.substr(start, nl - start));
      start = nl + 1;
    }
    for (size_t i = 0; i + 1 < lines.size(); ++i) {
      if (lines[i].rfind("sub:", 0) != 0) continue;
      std::vector<std::string> f;
      size_t p = 0;
      for (;;) {
        size_t q = lines[i].find(':', p);
        f.push_back(lines[i].substr(p, q == std::string::npos ? std::string::npos : q - p));
        if (q == std::string::npos) break;
        p = q + 1;
      }
      if (f.size() > 11 && f[11].find(cap) != std::string::npos &&
          lines[i + 1].rfind("fpr:", 0) == 0) {
        std::string l = lines[i + 1].substr(0, lines[i + 1].size() - 1);
        return l.substr(l.rfind(':') + 1);
      }
    }
    ADD_FAILURE() << "no subkey with " << cap << " in " << fpr;
    return {};
  }

  // A passphrase-protected key (ed25519 sign,cert + cv25519 encr, passphrase
  // "pw") made in a scratch home of its own. The agent there uses a small
  // s2k count: the default calibration costs seconds per key operation.
  struct ProtectedKey {
    std::unique_ptr<TempHome> home;
    std::string fpr;
    std::string secret;  // armored secret key export
  };
  static ProtectedKey protected_key(const std::string& email) {
    ProtectedKey k;
    k.home = tk::new_home();
    if (!k.home) return k;
    const std::string g = k.home->path().string();
    tk::write_file(g + "/gpg-agent.conf", "s2k-count 65536\n");
    tk::gpg(g, {"--passphrase", "pw", "--quick-gen-key", "P <" + email + ">", "ed25519",
                "sign,cert", "never"});
    k.fpr = tk::fingerprint_of(g, email);
    tk::gpg(g, {"--passphrase", "pw", "--quick-add-key", k.fpr, "cv25519", "encr", "never"});
    k.secret = tk::gpg(g, {"--passphrase", "pw", "--armor", "--export-secret-keys", k.fpr});
    return k;
  }

  // Writes `data` into a new file of the sender home and returns its path.
  static std::string sender_file(const std::string& data) {
    static int n = 0;
    const std::string path = sender_home() + "/in" + std::to_string(++n);
    tk::write_file(path, data);
    return path;
  }

  // Runs gpg on the sender home with `args` and `data` as the last file
  // argument; returns standard output.
  static std::string sender_gpg(std::vector<std::string> args, const std::string& data) {
    args.insert(args.begin(), {"--trust-model", "always", "--output", "-"});
    args.push_back(sender_file(data));
    return tk::gpg(sender_home(), args);
  }

  // Imports the public key of `name` (sender home) into the list home.
  void give_list(const std::string& name) {
    auto r = ctx_->import_data(tk::export_public(sender_home(), key(name).fpr));
    ASSERT_TRUE(r) << r.error().message;
  }

  // Creates the list key in the list home and gives its public key to
  // the sender home; returns its fingerprint.
  std::string make_list_key(const std::string& address = "ops@lists.example") {
    auto fpr = create_list_key(*ctx_, address, "Ops List");
    EXPECT_TRUE(fpr) << fpr.error().message;
    if (!fpr) return {};
    auto pub = export_public(*ctx_, *fpr);
    EXPECT_TRUE(pub) << pub.error().message;
    if (pub) tk::write_file(sender_home() + "/list.asc", *pub);
    tk::gpg(sender_home(), {"--import", sender_home() + "/list.asc"});
    return *fpr;
  }

  std::unique_ptr<TempHome> home_;
  std::unique_ptr<Context> ctx_;
};

}  // namespace tlpmail::openpgp::testing
