// Key files are imported safely (issue 10): extract_public_keys() on every
// shape of secret key material and on what is not a public key, then
// load_keys() with real gpg: no secret packet reaches any home, third-party
// certifications are dropped, oversized files are refused, two pinned keys
// sharing a subkey are an error, and a load with errors leaves the home
// as it was. Keys are made at test time in a short temporary home.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "keyring/keyring.h"
#include "keyring_fixture.h"
#include "openpgp/context.h"
#include "openpgp/gpg_test_keys.h"
#include "openpgp/key_material.h"
#include "openpgp/packets.h"
#include "openpgp/temp_home.h"
#include "support/text.h"

namespace tlpmail::keyring {
namespace {

namespace fs = std::filesystem;
namespace tk = tlpmail::testkeys;
using ::tlpmail::testing::crlf;
using openpgp::KeyFileFault;
using openpgp::TempHome;

// How many keys certify the flooded key. Enough to make the key twenty
// times its size; bounded for test time (one gpg run each way).
constexpr int kCertifiers = 200;

std::string base64(std::string_view bin) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bin.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bin[i]) << 16) |
                       (static_cast<unsigned char>(bin[i + 1]) << 8) |
                       static_cast<unsigned char>(bin[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(abc[(v >> s) & 63]);
  }
  if (i < bin.size()) {
    unsigned v = static_cast<unsigned char>(bin[i]) << 16;
    if (i + 1 < bin.size()) v |= static_cast<unsigned char>(bin[i + 1]) << 8;
    out.push_back(abc[(v >> 18) & 63]);
    out.push_back(abc[(v >> 12) & 63]);
    out.push_back(i + 1 < bin.size() ? abc[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string lines_of(const std::string& b64) {
  std::string out;
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out;
}

// `bin` armored under any label, with its CRC-24.
std::string armor(std::string_view bin, const std::string& label = "PUBLIC KEY BLOCK") {
  const std::uint32_t crc = openpgp::crc24(bin);
  std::string sum;
  sum.push_back(static_cast<char>((crc >> 16) & 0xff));
  sum.push_back(static_cast<char>((crc >> 8) & 0xff));
  sum.push_back(static_cast<char>(crc & 0xff));
  return "-----BEGIN PGP " + label + "-----\n\n" + lines_of(base64(bin)) + "=" + base64(sum) +
         "\n-----END PGP " + label + "-----\n";
}

// A new-format packet.
std::string packet(std::uint8_t tag, std::string_view body) {
  std::string out(1, static_cast<char>(0xC0 | tag));
  if (body.size() < 192) {
    out.push_back(static_cast<char>(body.size()));
  } else {
    const std::size_t v = body.size() - 192;
    out.push_back(static_cast<char>((v >> 8) + 192));
    out.push_back(static_cast<char>(v & 0xff));
  }
  return out + std::string(body);
}

// The fields of the first colon line of `kind` ("sub", "fpr", ...) at or
// after line `from` of gpg --with-colons output; sets *at to its index.
std::vector<std::string> colon_line(const std::vector<std::vector<std::string>>& rows,
                                    const std::string& kind, std::size_t from, std::size_t* at) {
  for (std::size_t i = from; i < rows.size(); ++i) {
    if (!rows[i].empty() && rows[i][0] == kind) {
      *at = i;
      return rows[i];
    }
  }
  ADD_FAILURE() << "no " << kind << " line";
  return std::vector<std::string>(21);
}

std::vector<std::vector<std::string>> colons(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::string cell;
    std::istringstream cells(line);
    while (std::getline(cells, cell, ':')) f.push_back(cell);
    f.resize(std::max<std::size_t>(f.size(), 21));
    rows.push_back(std::move(f));
  }
  return rows;
}

struct Fixture {
  std::string alice, bob, flood;      // primary fingerprints
  std::string alice_subkey;           // alice's encryption subkey
  std::string alice_pub, alice_sec;   // binary exports
  std::string alice_asc, bob_asc;     // armored exports
  std::string bob_with_alice_subkey;  // bob's key, armored, binding alice's subkey too
  std::string flood_asc;              // certified by kCertifiers other keys
};

class KeyImportSafetyTest : public testing::KeyringFixture {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(openpgp::initialize());
    auto home = TempHome::create("/tmp/tlpt-XXXXXX");
    ASSERT_TRUE(home) << home.error().message;
    gen_ = std::make_unique<TempHome>(std::move(*home));
    const std::string h = gen_->path().string();
    auto f = std::make_unique<Fixture>();
    // Bob's primary key first: gpg binds no subkey older than the primary.
    f->bob = tk::generate(h, "Bob", "bob@csirt-b.example", "ed25519", "sign,cert", "never");
    tk::add_subkey(h, f->bob, "cv25519", "encr", "never");
    f->alice = tk::generate(h, "Alice", "alice@csirt-a.example", "ed25519", "sign,cert", "never");
    tk::add_subkey(h, f->alice, "cv25519", "encr", "never");
    f->alice_pub = tk::gpg(h, {"--export", f->alice});
    f->alice_sec = tk::gpg(h, {"--export-secret-keys", f->alice});
    f->alice_asc = tk::export_public(h, f->alice);
    f->bob_asc = tk::export_public(h, f->bob);

    // Bob binds alice's encryption subkey under his own primary key: gpg's
    // "addkey" from an existing keygrip, at the subkey's creation time so
    // that the fingerprint is the same. No secret of alice's is needed for
    // this in real life (a binding signature is made by bob's primary key);
    // here the generating home simply has both.
    const auto rows =
        colons(tk::gpg(h, {"--with-colons", "--with-keygrip", "--list-keys", f->alice}));
    std::size_t at = 0;
    const auto sub = colon_line(rows, "sub", 0, &at);
    f->alice_subkey = colon_line(rows, "fpr", at, &at)[9];
    const std::string keygrip = colon_line(rows, "grp", at, &at)[9];
    const std::string commands = h + "/addkey.txt";
    tk::write_file(commands, "addkey\n13\n" + keygrip + "\nQ\n0\nsave\n");
    tk::gpg(h, {"--expert", "--faked-system-time", sub[5] + "!", "--command-file", commands,
                "--edit-key", f->bob});
    f->bob_with_alice_subkey = tk::export_public(h, f->bob);
    ASSERT_NE(tk::gpg(h, {"--with-colons", "--list-keys", f->bob}).find(f->alice_subkey),
              std::string::npos)
        << "bob's key does not bind alice's subkey";

    // A key flooded with certifications by other keys.
    f->flood = tk::generate(h, "Flood", "flood@csirt-f.example", "ed25519", "sign,cert", "never");
    tk::add_subkey(h, f->flood, "cv25519", "encr", "never");
    std::string params;
    for (int i = 0; i < kCertifiers; ++i) {
      params += "Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: cert\nName-Email: certifier" +
                std::to_string(i) + "@elsewhere.example\nExpire-Date: 0\n%no-protection\n%commit\n";
    }
    tk::write_file(h + "/certifiers.txt", params);
    tk::gpg(h, {"--gen-key", h + "/certifiers.txt"});
    std::vector<std::string> sign = {"--quick-sign-key", f->flood};
    const auto all = colons(tk::gpg(h, {"--with-colons", "--list-keys"}));
    for (std::size_t i = 0; i + 1 < all.size(); ++i) {
      const std::string& fpr = all[i + 1][9];
      if (all[i][0] == "pub" && all[i + 1][0] == "fpr" && fpr != f->flood && fpr != f->alice &&
          fpr != f->bob) {
        sign.insert(sign.begin(), {"-u", fpr + "!"});
      }
    }
    tk::gpg(h, sign);
    f->flood_asc = tk::export_public(h, f->flood);
    fixture_ = f.release();
  }
  static void TearDownTestSuite() {
    delete fixture_;
    fixture_ = nullptr;
    gen_.reset();
  }

  void SetUp() override {
    ASSERT_NE(fixture_, nullptr) << "the keys could not be made";
    KeyringFixture::SetUp();
    if (HasFatalFailure()) return;
    fs::create_directories(keys_dir());
  }

  static const Fixture& k() { return *fixture_; }

  // Writes tlpmail.toml, directory.toml (one person per pinned e-mail ->
  // fingerprint, in this order) and lists.d/x.toml, and loads them.
  std::shared_ptr<const config::Config> write_config(
      const std::vector<std::pair<std::string, std::string>>& pinned) {
    fs::create_directories(root() + "/lists.d");
    tk::write_file(root() + "/tlpmail.toml",
                   "[server]\nhostname = \"lists.example.org\"\nlisten = [\"127.0.0.1:10030\"]\n"
                   "[paths]\nstate_dir = \"state\"\n");
    std::string dir;
    std::string members;
    int line = 0;
    for (const auto& [email, fpr] : pinned) {
      dir += "[[person]]\nemail = \"" + email +
             "\"\nname = \"Test\"\norganization = \"CSIRT\"\n"
             "country = \"AT\"\nfingerprint = \"" +
             fpr + "\"\nclearance = \"AMBER\"\n\n";
      line_[email] = line + 6;
      line += 8;
      members += (members.empty() ? "\"" : ", \"") + email + "\"";
    }
    tk::write_file(root() + "/directory.toml", dir);
    tk::write_file(root() + "/lists.d/x.toml",
                   "address = \"x@lists.example.org\"\ntlp_ceiling = \"AMBER\"\nmembers = [" +
                       members + "]\nadmins = [\"" + pinned.front().first + "\"]\n");
    auto loaded = config::load_config(root() + "/tlpmail.toml");
    for (const auto& d : loaded.diagnostics) ADD_FAILURE() << d.to_string();
    return loaded.config;
  }

  void key_file(const std::string& name, const std::string& content) {
    tk::write_file(keys_dir() + "/" + name, content);
  }

  std::string at(const std::string& email) const {
    return root() + "/directory.toml:" + std::to_string(line_.at(email));
  }

  // Primary fingerprints of the secret ("sec") or public ("pub") keys in
  // the test's home, as gpg itself lists them.
  std::vector<std::string> home_keys(bool secret) const {
    std::vector<std::string> out;
    const auto rows =
        colons(tk::gpg(home(), {"--with-colons", secret ? "--list-secret-keys" : "--list-keys"}));
    for (std::size_t i = 0; i + 1 < rows.size(); ++i) {
      if (rows[i][0] == (secret ? "sec" : "pub") && rows[i + 1][0] == "fpr") {
        out.push_back(rows[i + 1][9]);
      }
    }
    return out;
  }

  static inline Fixture* fixture_ = nullptr;
  std::map<std::string, int> line_;
};

const std::string kSecret = "the file holds a secret key; keys_dir is for public keys only";

// ---- extract_public_keys(): no gpg ----

TEST_F(KeyImportSafetyTest, ExtractPublicKeysTable) {
  const Fixture& f = k();
  const std::string pub = f.alice_pub;
  const std::string sec = f.alice_sec;
  auto packets = openpgp::split_packets(pub);
  ASSERT_TRUE(packets);
  const openpgp::Packet& first = packets->front();
  const std::string key_packet = pub.substr(first.offset, first.size);
  const std::string uid_first = pub.substr(packets->at(1).offset);
  std::string signature_only;
  for (const auto& p : *packets) {
    if (p.tag == 2) {
      signature_only = pub.substr(p.offset, p.size);
      break;
    }
  }
  std::string with_trust =
      key_packet + packet(12, std::string("\x00\x03", 2)) + pub.substr(first.offset + first.size);
  const std::string uncompressed = packet(8, std::string(1, '\0') + pub);  // algorithm 0
  const std::string comment = "Comment: this line is text outside the armor\n";
  std::string padded_to_limit = f.alice_asc;
  while (padded_to_limit.size() + comment.size() <= openpgp::kMaxPublicKeyFileSize) {
    padded_to_limit += comment;
  }
  padded_to_limit += std::string(openpgp::kMaxPublicKeyFileSize - padded_to_limit.size(), '#');
  std::string bad_crc = armor(pub);
  bad_crc[bad_crc.find("\n=") + 2] ^= 1;  // one bit of the checksum
  std::string no_end = armor(pub);
  no_end.resize(no_end.find("-----END"));
  const std::string secret_b64 = lines_of(base64(sec));

  struct Case {
    std::string name;
    std::string file;
    bool ok;
    KeyFileFault fault;
    std::string message;  // "" when not compared
    int keys = 0;         // public_keys when ok
  };
  const std::string not_public =
      ", which is not part of a public key; keys_dir takes exported public keys only (gpg "
      "--export)";
  const Case cases[] = {
      {"armored public key", f.alice_asc, true, {}, "", 1},
      {"binary public key", pub, true, {}, "", 1},
      {"two keys in two blocks", f.alice_asc + "\n" + f.bob_asc, true, {}, "", 2},
      {"byte order mark and CRLF", "\xEF\xBB\xBF" + crlf(armor(pub)), true, {}, "", 1},
      {"armored secret key", armor(sec, "PRIVATE KEY BLOCK"), false, KeyFileFault::secret_key,
       kSecret},
      {"binary secret key", sec, false, KeyFileFault::secret_key, kSecret},
      {"binary: secret packets after the public key", pub + sec, false, KeyFileFault::secret_key,
       kSecret},
      {"secret key in a second block labelled PUBLIC KEY BLOCK", armor(pub) + armor(sec), false,
       KeyFileFault::secret_key, kSecret},
      {"secret packets after the public ones in one PUBLIC KEY BLOCK", armor(pub + sec), false,
       KeyFileFault::secret_key, kSecret},
      {"secret key in a MESSAGE block", armor(sec, "MESSAGE"), false, KeyFileFault::secret_key,
       kSecret},
      {"secret key in a SIGNATURE block after text and a public block",
       "Alice's key:\n" + armor(pub) + "and more:\n" + armor(sec, "SIGNATURE"), false,
       KeyFileFault::secret_key, kSecret},
      {"base64 of a secret key outside armor", armor(pub) + "\n" + secret_b64, false,
       KeyFileFault::secret_key, kSecret},
      {"binary public key, then an armored secret key labelled PUBLIC", pub + armor(sec), false,
       KeyFileFault::secret_key, kSecret},
      {"a secret key's armor without its BEGIN line, after a public block",
       armor(pub) + armor(sec).substr(armor(sec).find('\n') + 1), false, KeyFileFault::secret_key,
       kSecret},
      {"truncated secret key header after the public key", pub + sec.substr(0, 6), false,
       KeyFileFault::secret_key, kSecret},
      {"PRIVATE KEY BLOCK label on public packets", armor(pub, "PRIVATE KEY BLOCK"), false,
       KeyFileFault::secret_key, kSecret},
      {"public key inside a compressed packet", uncompressed, false, KeyFileFault::not_public_key,
       "the file holds a compressed data packet (tag 8)" + not_public},
      {"secret key inside a compressed packet", packet(8, std::string(1, '\0') + sec), false,
       KeyFileFault::not_public_key,
       "the file holds a compressed data packet (tag 8)" + not_public},
      {"literal data after the key", armor(pub + packet(11, std::string("b\0x\0\0\0\0hi", 10))),
       false, KeyFileFault::not_public_key,
       "armor block 1 (line 1): the file holds a literal data packet (tag 11)" + not_public},
      {"a detached signature block", armor(signature_only, "SIGNATURE"), false,
       KeyFileFault::not_public_key,
       "armor block 1 (line 1) is a PGP SIGNATURE, not a PGP PUBLIC KEY BLOCK; keys_dir takes "
       "exported public keys only (gpg --armor --export)"},
      {"trust packet dropped", with_trust, true, {}, "", 1},
      {"signatures only (a revocation certificate)", armor(signature_only), true, {}, "", 0},
      {"user ID before any key", armor(uid_first), false, KeyFileFault::malformed,
       "armor block 1 (line 1): starts with a user ID packet, not with a public key"},
      {"CRC-24 mismatch", bad_crc, false, KeyFileFault::malformed,
       "armor block 1 (line 1): CRC-24 mismatch"},
      {"no END line", no_end, false, KeyFileFault::malformed,
       "armor block 1 (line 1): no END line"},
      {"truncated binary key", pub.substr(0, pub.size() - 3), false, KeyFileFault::malformed, ""},
      {"text without armor", "this is not a key\n", false, KeyFileFault::no_key,
       "no OpenPGP key found"},
      {"empty file", "", false, KeyFileFault::no_key, "no OpenPGP key found"},
      {"exactly at the size limit", padded_to_limit, true, {}, "", 1},
      {"one byte over the size limit", padded_to_limit + "#", false, KeyFileFault::too_large,
       "the file is 1048577 bytes; a key file may have 1048576 bytes at most (export the key "
       "without third-party signatures: gpg --export --export-options export-minimal)"},
  };
  for (const Case& c : cases) {
    auto got = openpgp::extract_public_keys(c.file);
    ASSERT_EQ(static_cast<bool>(got), c.ok)
        << c.name << ": " << (got ? std::string("accepted") : got.error().message);
    if (!c.ok) {
      EXPECT_EQ(got.error().fault, c.fault) << c.name << ": " << got.error().message;
      if (!c.message.empty()) {
        EXPECT_EQ(got.error().message, c.message) << c.name;
      }
      EXPECT_EQ(c.fault == KeyFileFault::secret_key, openpgp::holds_secret_key_material(c.file))
          << c.name;
      continue;
    }
    EXPECT_EQ(got->public_keys, c.keys) << c.name;
    EXPECT_FALSE(openpgp::holds_secret_key_material(c.file)) << c.name;
    // What goes to gpg is whole packets, none of them secret.
    auto kept = openpgp::split_packets(got->binary);
    ASSERT_TRUE(kept) << c.name;
    for (const auto& p : *kept) {
      EXPECT_TRUE(p.tag == 2 || p.tag == 6 || p.tag == 13 || p.tag == 14 || p.tag == 17)
          << c.name << ": tag " << int(p.tag);
    }
  }
  auto trust = openpgp::extract_public_keys(with_trust);
  ASSERT_TRUE(trust);
  EXPECT_EQ(trust->dropped, 1);
  auto plain = openpgp::extract_public_keys(pub);
  ASSERT_TRUE(plain);
  EXPECT_EQ(trust->binary, plain->binary);
  // The primary fingerprints are gpg's, computed without gpg (what lets
  // load_keys import keys_dir in one run), in file order.
  EXPECT_EQ(plain->primary_fingerprints, std::vector<std::string>{f.alice});
  auto two = openpgp::extract_public_keys(f.bob_asc + f.alice_asc);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->primary_fingerprints, (std::vector<std::string>{f.bob, f.alice}));
  // Another key version: unknown, so load_keys falls back to file by file.
  std::string v5 = key_packet;
  v5[first.header_size] = 5;
  auto other = openpgp::extract_public_keys(v5 + pub.substr(first.offset + first.size));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->primary_fingerprints, std::vector<std::string>{""});
}

// ---- load_keys() with real gpg ----

TEST_F(KeyImportSafetyTest, SecretKeyMaterialReachesNoHome) {
  const Fixture& f = k();
  auto cfg = write_config({{"alice@csirt-a.example", f.alice}});
  ASSERT_TRUE(cfg);
  key_file("alice.asc", f.alice_asc);
  // Shapes gpg --import takes the secret key from (checked by hand: each
  // imports "secret keys read: 1"), and the old header check did not see.
  key_file("b-after-public.gpg", f.alice_pub + f.alice_sec);
  key_file("c-second-block.asc", armor(f.alice_pub) + armor(f.alice_sec));
  key_file("d-one-block.asc", armor(f.alice_pub + f.alice_sec));
  key_file("e-compressed.gpg", packet(8, std::string(1, '\0') + f.alice_sec));
  const KeyReport r = load(*cfg);
  const std::vector<std::string> want = {
      keys_dir() + "/b-after-public.gpg: cannot import: " + kSecret,
      keys_dir() + "/c-second-block.asc: cannot import: " + kSecret,
      keys_dir() + "/d-one-block.asc: cannot import: " + kSecret,
      keys_dir() +
          "/e-compressed.gpg: cannot import: the file holds a compressed data packet "
          "(tag 8), which is not part of a public key; keys_dir takes exported public "
          "keys only (gpg --export)",
  };
  EXPECT_EQ(texts(r), want);
  EXPECT_TRUE(r.has_errors());
  EXPECT_TRUE(r.is_usable("alice@csirt-a.example"));  // judged in the staging home
  // With errors nothing at all went into the caller's home.
  EXPECT_EQ(home_keys(true), std::vector<std::string>{});
  EXPECT_EQ(home_keys(false), std::vector<std::string>{});
}

TEST_F(KeyImportSafetyTest, ThirdPartyCertificationsAreNotImported) {
  const Fixture& f = k();
  auto cfg = write_config({{"flood@csirt-f.example", f.flood}});
  ASSERT_TRUE(cfg);
  key_file("flood.asc", f.flood_asc);
  const KeyReport r = load(*cfg);
  EXPECT_EQ(texts(r), std::vector<std::string>{});
  EXPECT_TRUE(r.is_usable("flood@csirt-f.example"));

  const std::string key_id = f.flood.substr(24);
  int self = 0, others = 0;
  for (const auto& row : colons(tk::gpg(home(), {"--with-colons", "--list-sigs", f.flood}))) {
    if (row[0] == "sig") (row[4] == key_id ? self : others) += 1;
  }
  EXPECT_GE(self, 2);  // the user ID's and the subkey binding
  EXPECT_EQ(others, 0);
  const std::string stored = tk::gpg(home(), {"--armor", "--export", f.flood});
  EXPECT_LT(stored.size() * 10, f.flood_asc.size())
      << "stored " << stored.size() << " bytes of a " << f.flood_asc.size() << "-byte file";
}

TEST_F(KeyImportSafetyTest, OversizedKeyFileIsRefusedUnread) {
  const Fixture& f = k();
  auto cfg = write_config({{"alice@csirt-a.example", f.alice}});
  ASSERT_TRUE(cfg);
  key_file("alice.asc", f.alice_asc + std::string(openpgp::kMaxPublicKeyFileSize, '\n'));
  const KeyReport r = load(*cfg);
  const std::string size = std::to_string(f.alice_asc.size() + openpgp::kMaxPublicKeyFileSize);
  const std::vector<std::string> want = {
      keys_dir() + "/alice.asc: cannot import: the file is " + size +
          " bytes; a key file may have 1048576 bytes at most (export the key without "
          "third-party signatures: gpg --export --export-options export-minimal)",
      at("alice@csirt-a.example") + ": no key with fingerprint " + f.alice +
          " for alice@csirt-a.example in " + keys_dir(),
  };
  EXPECT_EQ(texts(r), want);
}

TEST_F(KeyImportSafetyTest, TwoPinnedKeysSharingASubkeyAreAnError) {
  const Fixture& f = k();
  auto cfg = write_config({{"alice@csirt-a.example", f.alice}, {"bob@csirt-b.example", f.bob}});
  ASSERT_TRUE(cfg);
  key_file("alice.asc", f.alice_asc);
  key_file("bob.asc", f.bob_with_alice_subkey);
  const KeyReport r = load(*cfg);
  const std::vector<std::string> want = {
      at("bob@csirt-b.example") + ": key " + f.bob + " of bob@csirt-b.example shares the subkey " +
      f.alice_subkey + " with key " + f.alice + " of alice@csirt-a.example (" +
      at("alice@csirt-a.example") +
      "); a subkey belongs to one person's key only, so mail to both could not be encrypted: "
      "replace the key that should not hold it"};
  EXPECT_EQ(texts(r), want);
  EXPECT_TRUE(r.has_errors());
  EXPECT_EQ(home_keys(false), std::vector<std::string>{});

  // The same key in keys_dir, pinned for nobody: it grants nothing, and
  // is no error.
  auto alone = write_config({{"alice@csirt-a.example", f.alice}});
  ASSERT_TRUE(alone);
  const KeyReport unpinned = load(*alone);
  EXPECT_EQ(texts(unpinned), std::vector<std::string>{});
  ASSERT_EQ(unpinned.unpinned.size(), 1u);
  EXPECT_EQ(unpinned.unpinned[0].fingerprint, f.bob);
}

TEST_F(KeyImportSafetyTest, RefusedLoadLeavesTheHomeAsItWas) {
  const Fixture& f = k();
  auto cfg = write_config({{"alice@csirt-a.example", f.alice}, {"bob@csirt-b.example", f.bob}});
  ASSERT_TRUE(cfg);
  key_file("alice.asc", f.alice_asc);
  key_file("bob.asc", f.bob_asc);
  const KeyReport first = load(*cfg);
  ASSERT_FALSE(first.has_errors()) << ::testing::PrintToString(texts(first));

  // Bob's new key binds alice's subkey: the load is refused, and bob's key
  // in the home (which a running daemon keeps using) did not take it.
  key_file("bob.asc", f.bob_with_alice_subkey);
  const KeyReport second = load(*cfg);
  EXPECT_TRUE(second.has_errors());
  auto ctx = openpgp::Context::open(home_->path());
  ASSERT_TRUE(ctx);
  auto bob = ctx->find_key(f.bob);
  ASSERT_TRUE(bob && bob->has_value());
  EXPECT_EQ((*bob)->find_subkey(f.alice_subkey), nullptr);
  EXPECT_EQ((*bob)->subkeys.size(), 2u);
}

TEST_F(KeyImportSafetyTest, SharedSubkeyLeftInTheHomeByAnEarlierImportIsFound) {
  const Fixture& f = k();
  auto cfg = write_config({{"alice@csirt-a.example", f.alice}, {"bob@csirt-b.example", f.bob}});
  ASSERT_TRUE(cfg);
  // An earlier tlpmail imported bob's key with alice's subkey; keys_dir
  // now has clean keys, but gpg merges, so the home still binds it.
  tk::write_file(root() + "/old-bob.asc", f.bob_with_alice_subkey);
  tk::gpg(home(), {"--import", root() + "/old-bob.asc"});
  key_file("alice.asc", f.alice_asc);
  key_file("bob.asc", f.bob_asc);
  const KeyReport r = load(*cfg);
  const std::vector<std::string> want = {
      at("bob@csirt-b.example") + ": key " + f.bob + " of bob@csirt-b.example shares the subkey " +
      f.alice_subkey + " with key " + f.alice + " of alice@csirt-a.example (" +
      at("alice@csirt-a.example") + ") in the GnuPG home " + home() +
      " (left there by an earlier import: delete the key from that home and reload); a subkey "
      "belongs to one person's key only, so mail to both could not be encrypted: replace the "
      "key that should not hold it"};
  EXPECT_EQ(texts(r), want);
}

}  // namespace
}  // namespace tlpmail::keyring
