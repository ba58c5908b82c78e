// Tests of decrypt() with real gpg 2.2: signed-and-encrypted in one pass,
// encrypted only, no MDC (tag 9 packets, AES and CAST5), a flipped bit,
// ciphertext nested as text (left alone) and as packets (refused), a
// message for someone else, a passphrase-only message, inputs that are not
// encrypted, text around the armor, a passphrase-protected list key and a
// missing gpg (temporary). Every refusal is checked to carry no plaintext.
#include "openpgp/decrypt.h"

#include <gpgme.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <string>
#include <vector>

#include "openpgp/crypto_fixture.h"

namespace tlpmail::openpgp {
namespace {

using testing::CryptoTest;
using testing::kTestMaxPlaintext;
namespace tk = tlpmail::testkeys;

const std::string kSecret = "Subject: [TLP:RED] SECRET-MARKER\r\n\r\nonly for the list\r\n";
const std::string kList = "ops@lists.example";

class DecryptTest : public CryptoTest {
 protected:
  void SetUp() override {
    CryptoTest::SetUp();
    list_fpr_ = make_list_key(kList);
    ASSERT_FALSE(list_fpr_.empty());
  }

  std::string encrypt(const std::string& data, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--armor", "--encrypt", "--recipient", list_fpr_};
    args.insert(args.end(), extra.begin(), extra.end());
    return sender_gpg(args, data);
  }

  Decryption run(const std::string& ciphertext) {
    auto d = decrypt(*ctx_, ciphertext, kTestMaxPlaintext);
    EXPECT_TRUE(d) << d.error().message;
    return d ? *d : Decryption{};
  }

  // A refused Decryption must not carry any byte of the plaintext.
  static void expect_no_plaintext(const Decryption& d, const std::string& name) {
    EXPECT_EQ(d.plaintext, "") << name;
    EXPECT_TRUE(d.signatures.empty()) << name;
    EXPECT_EQ(d.detail.find("SECRET-MARKER"), std::string::npos) << name;
    EXPECT_EQ(d.detail.find("INNER-MARKER"), std::string::npos) << name;
    EXPECT_FALSE(d.detail.empty()) << name;
  }

  // The packet tags gpg --list-packets shows (without decrypting: the
  // sender home holds no secret list key).
  std::string packet_listing(const std::string& ciphertext) {
    // gpg exits 2 here because it cannot decrypt; the listing is complete.
    return tk::run({"gpg", "--homedir", sender_home(), "--batch", "--list-packets",
                    sender_file(ciphertext)})
        .out;
  }

  std::string list_fpr_;
};

TEST_F(DecryptTest, SignedAndEncryptedInOnePass) {
  give_list("alice");
  const std::string ct = encrypt(kSecret, {"--sign", "--local-user", key("alice").fpr});
  const Decryption d = run(ct);
  ASSERT_EQ(d.status, DecryptStatus::decrypted) << d.detail;
  EXPECT_EQ(d.plaintext, kSecret);
  EXPECT_EQ(d.detail, "");
  EXPECT_EQ(d.integrity, "mdc");
  EXPECT_EQ(d.cipher, "AES256.CFB");
  EXPECT_EQ(d.decryption_primary_fingerprint, list_fpr_);
  EXPECT_NE(d.decryption_fingerprint, list_fpr_);  // the cv25519 subkey
  ASSERT_EQ(d.recipients.size(), 1u);
  EXPECT_EQ(d.recipients[0], d.decryption_fingerprint.substr(24));
  ASSERT_EQ(d.signatures.size(), 1u);
  const SignatureFacts& s = d.signatures[0];
  EXPECT_EQ(s.status, SignatureStatus::good);
  EXPECT_EQ(s.primary_fingerprint, key("alice").fpr);
  EXPECT_EQ(s.signing_fingerprint, key("alice").signing_subkey);
  EXPECT_FALSE(s.hash_algorithm.empty());  // gpg follows the list key's preferences
  EXPECT_EQ(s.replay_digest.size(), 64u);

  // The same message delivered again gives the same replay digest.
  const Decryption again = run(ct);
  ASSERT_EQ(again.signatures.size(), 1u);
  EXPECT_EQ(again.signatures[0].replay_digest, s.replay_digest);
  // The same content signed and encrypted again, a second later, does not.
  const Decryption later =
      run(encrypt(kSecret, {"--sign", "--local-user", key("alice").fpr, "--faked-system-time",
                            std::to_string(s.created + 1) + "!"}));
  ASSERT_EQ(later.signatures.size(), 1u);
  EXPECT_EQ(later.signatures[0].status, SignatureStatus::good);
  EXPECT_NE(later.signatures[0].replay_digest, s.replay_digest);
}

TEST_F(DecryptTest, SignedByAnUnknownKey) {
  const Decryption d = run(encrypt(kSecret, {"--sign", "--local-user", key("stranger").fpr}));
  ASSERT_EQ(d.status, DecryptStatus::decrypted) << d.detail;
  ASSERT_EQ(d.signatures.size(), 1u);
  EXPECT_EQ(d.signatures[0].status, SignatureStatus::no_public_key);
  EXPECT_EQ(d.signatures[0].signing_fingerprint, key("stranger").fpr);
}

TEST_F(DecryptTest, EncryptedOnly) {
  const Decryption d = run(encrypt(kSecret));
  ASSERT_EQ(d.status, DecryptStatus::decrypted) << d.detail;
  EXPECT_EQ(d.plaintext, kSecret);
  EXPECT_TRUE(d.signatures.empty());
}

TEST_F(DecryptTest, BinaryCiphertext) {
  const std::string binary = sender_gpg({"--dearmor"}, encrypt(kSecret));
  const Decryption d = run(binary);
  ASSERT_EQ(d.status, DecryptStatus::decrypted) << d.detail;
  EXPECT_EQ(d.plaintext, kSecret);
}

TEST_F(DecryptTest, NoIntegrityProtectionIsRefusedWithoutPlaintext) {
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string cipher;
  };
  // gpg 2.2.40 ignores --disable-mdc for these keys; --rfc2440 writes a
  // tag 9 (SED) packet. It fails such data itself, but only after writing
  // the plaintext to its output.
  const Case cases[] = {
      {"aes256", {"--rfc2440"}, "AES256.PGPCFB"},
      {"cast5", {"--rfc2440", "--cipher-algo", "CAST5"}, "CAST5.PGPCFB"},
  };
  for (const Case& c : cases) {
    const std::string ct = encrypt(kSecret, c.args);
    const std::string packets = packet_listing(ct);
    EXPECT_NE(packets.find("tag=9 "), std::string::npos) << c.name << "\n" << packets;
    EXPECT_EQ(packets.find("tag=18 "), std::string::npos) << c.name << "\n" << packets;
    const Decryption d = run(ct);
    EXPECT_EQ(d.status, DecryptStatus::no_integrity_protection) << c.name << ": " << d.detail;
    EXPECT_EQ(d.integrity, "none") << c.name;
    EXPECT_EQ(d.cipher, c.cipher) << c.name;
    expect_no_plaintext(d, c.name);
  }
}

TEST_F(DecryptTest, FlippedBitIsAnIntegrityFailureWithoutPlaintext) {
  const std::string binary =
      sender_gpg({"--dearmor"}, encrypt(kSecret, {"--compress-algo", "none"}));
  struct Case {
    std::string name;
    size_t from_end;  // which byte, counted from the end
  };
  // The last 22 bytes are the MDC packet: gpg writes the plaintext, then
  // reports BADMDC. Further in, the damage breaks the literal packet.
  const Case cases[] = {{"in the MDC", 1}, {"in the literal data", 30}};
  for (const Case& c : cases) {
    std::string bad = binary;
    bad[bad.size() - c.from_end] ^= 0x01;
    const Decryption d = run(bad);
    EXPECT_EQ(d.status, DecryptStatus::integrity_failed) << c.name << ": " << d.detail;
    EXPECT_EQ(d.integrity, "mdc") << c.name;
    expect_no_plaintext(d, c.name);
  }
}

TEST_F(DecryptTest, CiphertextInsideThePlaintextIsLeftAlone) {
  const std::string inner = encrypt("INNER-MARKER\n");
  const Decryption d = run(encrypt(inner));
  ASSERT_EQ(d.status, DecryptStatus::decrypted) << d.detail;
  EXPECT_EQ(d.plaintext, inner);
  EXPECT_NE(d.plaintext.find("-----BEGIN PGP MESSAGE-----"), std::string::npos);
  EXPECT_EQ(d.plaintext.find("INNER-MARKER"), std::string::npos);
}

// ---- Nested encryption as packets ----------------------------------------

// The first OpenPGP packet of `data` (header included).
std::string first_packet(const std::string& data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t header = 0;
  size_t len = 0;
  if (p[0] & 0x40) {  // new format
    if (p[1] < 192) {
      header = 2;
      len = p[1];
    } else if (p[1] < 224) {
      header = 3;
      len = ((p[1] - 192) << 8) + p[2] + 192;
    } else {
      header = 6;
      len = (size_t{p[2]} << 24) | (size_t{p[3]} << 16) | (size_t{p[4]} << 8) | p[5];
    }
  } else {
    switch (p[0] & 0x03) {
      case 0:
        header = 2;
        len = p[1];
        break;
      case 1:
        header = 3;
        len = (size_t{p[1]} << 8) | p[2];
        break;
      default:
        header = 5;
        len = (size_t{p[1]} << 24) | (size_t{p[2]} << 16) | (size_t{p[3]} << 8) | p[4];
        break;
    }
  }
  return data.substr(0, header + len);
}

std::string new_packet(int tag, const std::string& body) {
  std::string out(1, static_cast<char>(0xC0 | tag));
  out += static_cast<char>(0xFF);
  const uint32_t n = static_cast<uint32_t>(body.size());
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  return out + body;
}

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

// An SEIPD (tag 18, with MDC) packet holding `payload` packets, AES-256.
std::string seipd(const std::string& key, const std::string& payload) {
  unsigned char prefix[18];
  RAND_bytes(prefix, 16);
  prefix[16] = prefix[14];
  prefix[17] = prefix[15];
  std::string plain(reinterpret_cast<char*>(prefix), 18);
  plain += payload;
  plain += "\xD3\x14";
  unsigned char mdc[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), mdc);
  plain.append(reinterpret_cast<char*>(mdc), sizeof mdc);
  std::string cipher(plain.size(), '\0');
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  const unsigned char iv[16] = {0};
  int n = 0;
  EVP_EncryptInit_ex(c, EVP_aes_256_cfb128(), nullptr,
                     reinterpret_cast<const unsigned char*>(key.data()), iv);
  EVP_EncryptUpdate(c, reinterpret_cast<unsigned char*>(cipher.data()), &n,
                    reinterpret_cast<const unsigned char*>(plain.data()),
                    static_cast<int>(plain.size()));
  EVP_CIPHER_CTX_free(c);
  return new_packet(18, std::string(1, '\x01') + cipher);
}

TEST_F(DecryptTest, CiphertextNestedAsPacketsIsRefused) {
  // An encrypted message for the list, and an outer one whose session key
  // we learn (gpg --show-session-key in the list home) so that we can put
  // the inner message's packets inside it: what an attacker who captured
  // someone's ciphertext would send to make the list decrypt it for him.
  const std::string inner = sender_gpg({"--dearmor"}, encrypt("INNER-MARKER\n"));
  const std::string outer =
      sender_gpg({"--dearmor"}, encrypt("outer\n", {"--cipher-algo", "AES256"}));
  const std::string outer_file = home_->path().string() + "/outer.gpg";
  tk::write_file(outer_file, outer);
  const std::string status = tk::gpg(
      home_->path().string(),
      {"--status-fd", "1", "--show-session-key", "--output", "/dev/null", "--decrypt", outer_file});
  const auto at = status.find("SESSION_KEY 9:");
  ASSERT_NE(at, std::string::npos) << status;
  const std::string key = from_hex(status.substr(at + 14, 64));
  ASSERT_EQ(key.size(), 32u);
  const std::string pkesk = first_packet(outer);

  struct Case {
    std::string name;
    std::string payload;
  };
  const Case cases[] = {
      {"directly", inner},
      {"in a compressed packet", new_packet(8, std::string(1, '\0') + inner)},
  };
  for (const Case& c : cases) {
    const Decryption d = run(pkesk + seipd(key, c.payload));
    EXPECT_EQ(d.status, DecryptStatus::nested_encryption) << c.name << ": " << d.detail;
    expect_no_plaintext(d, c.name);
  }
  // The crafting itself is sound: a literal packet in the same frame decrypts.
  const std::string literal = new_packet(11, std::string("b\0\0\0\0\0", 6) + "crafted\n");
  const Decryption ok = run(pkesk + seipd(key, literal));
  ASSERT_EQ(ok.status, DecryptStatus::decrypted) << ok.detail;
  EXPECT_EQ(ok.plaintext, "crafted\n");
}

// ---- Messages we cannot or must not decrypt -----------------------------

TEST_F(DecryptTest, Refusals) {
  const std::string for_stranger =
      sender_gpg({"--armor", "--encrypt", "--recipient", key("stranger").fpr}, kSecret);
  const std::string ct = encrypt(kSecret);
  const std::string symmetric =
      sender_gpg({"--armor", "--symmetric", "--passphrase", "pw", "--s2k-count", "1024"}, kSecret);
  const std::string clearsigned = sender_gpg({"--clearsign", "-u", key("bob").fpr}, kSecret);
  const std::string signed_only = sender_gpg({"--armor", "--sign", "-u", key("bob").fpr}, kSecret);
  struct Case {
    std::string name;
    std::string input;
    DecryptStatus want;
  };
  const Case cases[] = {
      {"for someone else", for_stranger, DecryptStatus::no_secret_key},
      {"passphrase only", symmetric, DecryptStatus::no_secret_key},
      {"clearsigned", clearsigned, DecryptStatus::not_encrypted},
      {"signed, not encrypted", signed_only, DecryptStatus::not_encrypted},
      {"signed, not encrypted, binary", sender_gpg({"--dearmor"}, signed_only),
       DecryptStatus::not_encrypted},
      {"empty", "", DecryptStatus::not_encrypted},
      {"text", "hello\n", DecryptStatus::not_encrypted},
      {"text before", "Hi,\n" + ct, DecryptStatus::text_outside_message},
      {"text after", ct + "--\nfooter\n", DecryptStatus::text_outside_message},
      {"two messages", ct + ct, DecryptStatus::text_outside_message},
      {"cut short", ct.substr(0, ct.size() / 2), DecryptStatus::malformed},
      {"binary garbage", std::string("\x85\x01\x0c\x03garbage", 11), DecryptStatus::malformed},
  };
  for (const Case& c : cases) {
    const Decryption d = run(c.input);
    EXPECT_EQ(d.status, c.want) << c.name << ": got " << to_string(d.status) << ": " << d.detail;
    expect_no_plaintext(d, c.name);
  }
}

TEST_F(DecryptTest, ForSomeoneElseNamesTheRecipient) {
  const std::string ct =
      sender_gpg({"--armor", "--encrypt", "--recipient", key("stranger").fpr}, kSecret);
  const Decryption d = run(ct);
  ASSERT_EQ(d.status, DecryptStatus::no_secret_key) << d.detail;
  ASSERT_EQ(d.recipients.size(), 1u);
  const std::string sub = subkey_with(sender_home(), key("stranger").fpr, "e");
  EXPECT_EQ(d.recipients[0], sub.substr(24));
  EXPECT_EQ(d.detail, "not encrypted to a key of this list (encrypted to " + sub.substr(24) + ")");
}

TEST_F(DecryptTest, ProtectedSecretKeyIsALocalFault) {
  // A secret key that is present but needs a passphrase: not the sender's
  // fault, so not a refusal.
  const ProtectedKey p = protected_key("p@lists.example");
  ASSERT_TRUE(ctx_->import_data(p.secret));
  const std::string g = p.home->path().string();
  const std::string& fpr = p.fpr;
  tk::write_file(g + "/m", kSecret);
  const std::string ct = tk::gpg(
      g, {"--armor", "--encrypt", "--trust-model", "always", "-r", fpr, "--output", "-", g + "/m"});
  auto d = decrypt(*ctx_, ct, kTestMaxPlaintext);
  ASSERT_FALSE(d) << to_string(d->status) << ": " << d->detail;
  EXPECT_EQ(d.error().kind, ErrorClass::temporary);
  const std::string keyid = subkey_with(g, fpr, "e").substr(24);
  EXPECT_EQ(d.error().message, "decrypt: the secret key for " + keyid +
                                   " is protected by a passphrase, which tlpmaild cannot enter");
}

TEST_F(DecryptTest, LocalFaultIsTemporary) {
  const std::string ct = encrypt(kSecret);
  ASSERT_EQ(gpgme_ctx_set_engine_info(ctx_->native(), GPGME_PROTOCOL_OpenPGP, "/nonexistent/gpg",
                                      home_->path().c_str()),
            0u);
  auto d = decrypt(*ctx_, ct, kTestMaxPlaintext);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind, ErrorClass::temporary) << d.error().message;
}

}  // namespace
}  // namespace tlpmail::openpgp
