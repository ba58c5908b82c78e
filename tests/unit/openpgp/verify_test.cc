// Tests of verify_detached and verify_clearsigned with real gpg 2.2:
// good signatures by a primary key and by a signing subkey (primary
// fingerprint resolved), tampered data, unknown keys, SHA-1 and MD5,
// two signatures, expired and revoked keys, an expired signature,
// garbage and misplaced inputs, a local fault, and the replay digest's
// stability under re-encoding and its change with time and signer.
#include "openpgp/verify.h"

#include <gpgme.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "openpgp/crypto_fixture.h"
#include "support/text.h"

namespace tlpmail::openpgp {
namespace {

using testing::CryptoTest;
using testing::SenderKey;
namespace tk = tlpmail::testkeys;

const std::string kBody =
    "Content-Type: text/plain; charset=utf-8\r\n\r\n[TLP:AMBER] phishing wave\r\n";

class VerifyTest : public CryptoTest {
 protected:
  std::string detached(const std::string& signer, const std::string& data,
                       std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--armor", "--detach-sign", "--local-user", signer};
    args.insert(args.end(), extra.begin(), extra.end());
    return sender_gpg(args, data);
  }

  Verification verify(const std::string& data, const std::string& sig) {
    auto v = verify_detached(*ctx_, data, sig);
    EXPECT_TRUE(v) << v.error().message;
    return v ? *v : Verification{};
  }
};

TEST_F(VerifyTest, GoodSignatureByTheSigningSubkeyResolvesThePrimary) {
  give_list("alice");
  const SenderKey& alice = key("alice");
  ASSERT_FALSE(alice.signing_subkey.empty());
  const Verification v = verify(kBody, detached(alice.fpr, kBody));
  ASSERT_EQ(v.outcome, VerifyOutcome::checked) << v.detail;
  ASSERT_EQ(v.signatures.size(), 1u);
  const SignatureFacts& s = v.signatures[0];
  EXPECT_EQ(s.status, SignatureStatus::good);
  EXPECT_EQ(s.signing_fingerprint, alice.signing_subkey);  // gpg picks the newest signing subkey
  EXPECT_EQ(s.primary_fingerprint, alice.fpr);
  EXPECT_EQ(s.hash_algorithm, "SHA256");
  EXPECT_EQ(s.pubkey_algorithm, "EdDSA");
  EXPECT_EQ(s.signature_class, 0x00);
  EXPECT_NEAR(static_cast<double>(s.created), static_cast<double>(std::time(nullptr)), 120.0);
  EXPECT_EQ(s.expires, 0);
  EXPECT_FALSE(s.key_expired);
  EXPECT_FALSE(s.key_revoked);
  EXPECT_FALSE(s.signature_expired);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.replay_digest.size(), 64u);
  EXPECT_TRUE(v.all_good());
  EXPECT_EQ(v.plaintext, "");
}

TEST_F(VerifyTest, GoodSignatureByThePrimaryKey) {
  give_list("alice");
  const SenderKey& alice = key("alice");
  const Verification v = verify(kBody, detached(alice.fpr + "!", kBody, {"--textmode"}));
  ASSERT_EQ(v.outcome, VerifyOutcome::checked) << v.detail;
  ASSERT_EQ(v.signatures.size(), 1u);
  EXPECT_EQ(v.signatures[0].status, SignatureStatus::good);
  EXPECT_EQ(v.signatures[0].signing_fingerprint, alice.fpr);
  EXPECT_EQ(v.signatures[0].primary_fingerprint, alice.fpr);
  EXPECT_EQ(v.signatures[0].signature_class, 0x01);
}

TEST_F(VerifyTest, BinarySignatureIsAcceptedLikeArmor) {
  give_list("bob");
  const std::string armored = detached(key("bob").fpr, kBody);
  const std::string binary = sender_gpg({"--dearmor"}, armored);
  const Verification a = verify(kBody, armored);
  const Verification b = verify(kBody, binary);
  ASSERT_TRUE(a.all_good());
  ASSERT_TRUE(b.all_good());
  EXPECT_EQ(a.signatures[0].replay_digest, b.signatures[0].replay_digest);
}

TEST_F(VerifyTest, StatusTable) {
  give_list("alice");
  give_list("bob");
  const std::string& alice = key("alice").fpr;
  struct Case {
    std::string name;
    std::string data;
    std::string sig;
    SignatureStatus want;
    std::string want_hash;
    std::string want_error;
  };
  const std::string sig = detached(alice, kBody);
  const std::string tampered = kBody.substr(0, kBody.size() - 3) + "X\r\n";
  const Case cases[] = {
      {"good", kBody, sig, SignatureStatus::good, "SHA256", ""},
      // GPGME reports no hash algorithm for a bad signature.
      {"tampered data", tampered, sig, SignatureStatus::bad, "", ""},
      {"one byte more", kBody + "\r\n", sig, SignatureStatus::bad, "", ""},
      {"unknown key", kBody, detached(key("stranger").fpr, kBody), SignatureStatus::no_public_key,
       "SHA256", ""},
      {"sha1", kBody, detached(alice, kBody, {"--digest-algo", "SHA1"}), SignatureStatus::good,
       "SHA1", ""},
      {"sha512", kBody, detached(alice, kBody, {"--digest-algo", "SHA512"}), SignatureStatus::good,
       "SHA512", ""},
      // gpg 2.2.40 refuses MD5: ERRSIG with code 5, "Invalid digest algorithm".
      {"md5", kBody, detached(alice, kBody, {"--digest-algo", "MD5"}),
       SignatureStatus::weak_hash_refused, "MD5", "Invalid digest algorithm"},
  };
  for (const Case& c : cases) {
    const Verification v = verify(c.data, c.sig);
    ASSERT_EQ(v.outcome, VerifyOutcome::checked) << c.name << ": " << v.detail;
    ASSERT_EQ(v.signatures.size(), 1u) << c.name;
    const SignatureFacts& got = v.signatures[0];
    EXPECT_EQ(got.status, c.want) << c.name << " got " << to_string(got.status);
    EXPECT_EQ(got.hash_algorithm, c.want_hash) << c.name;
    EXPECT_EQ(got.error, c.want_error) << c.name;
    EXPECT_EQ(got.primary_fingerprint.empty(), c.want != SignatureStatus::good) << c.name;
    EXPECT_EQ(got.replay_digest.empty(), c.want != SignatureStatus::good) << c.name;
    EXPECT_EQ(v.all_good(), c.want == SignatureStatus::good) << c.name;
  }
}

TEST_F(VerifyTest, UnknownKeyNamesItsFingerprint) {
  const std::string& stranger = key("stranger").fpr;
  const Verification v = verify(kBody, detached(stranger, kBody));
  ASSERT_EQ(v.signatures.size(), 1u);
  EXPECT_EQ(v.signatures[0].status, SignatureStatus::no_public_key);
  // gpg 2.2 writes the issuer fingerprint subpacket; ERRSIG carries it.
  EXPECT_EQ(v.signatures[0].signing_fingerprint, stranger);
  EXPECT_EQ(v.signatures[0].primary_fingerprint, "");
}

TEST_F(VerifyTest, TwoSignatures) {
  give_list("alice");
  give_list("bob");
  const std::string sig = detached(key("alice").fpr, kBody, {"--local-user", key("bob").fpr});
  const Verification v = verify(kBody, sig);
  ASSERT_EQ(v.outcome, VerifyOutcome::checked) << v.detail;
  ASSERT_EQ(v.signatures.size(), 2u);
  std::vector<std::string> primaries = {v.signatures[0].primary_fingerprint,
                                        v.signatures[1].primary_fingerprint};
  std::sort(primaries.begin(), primaries.end());
  std::vector<std::string> want = {key("alice").fpr, key("bob").fpr};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(primaries, want);
  EXPECT_TRUE(v.all_good());
  EXPECT_NE(v.signatures[0].replay_digest, v.signatures[1].replay_digest);
}

TEST_F(VerifyTest, OneGoodOneUnknownIsNotAllGood) {
  give_list("alice");
  const Verification v =
      verify(kBody, detached(key("alice").fpr, kBody, {"--local-user", key("stranger").fpr}));
  ASSERT_EQ(v.signatures.size(), 2u);
  EXPECT_FALSE(v.all_good());
}

TEST_F(VerifyTest, ExpiredKeyStillVerifiesWithTheFlagSet) {
  give_list("expired");
  // Signed while the key was valid (2020-01-01 12:00), verified now.
  const std::string sig =
      detached(key("expired").fpr, kBody, {"--faked-system-time", "20200101T120000"});
  const Verification v = verify(kBody, sig);
  ASSERT_EQ(v.signatures.size(), 1u);
  const SignatureFacts& s = v.signatures[0];
  EXPECT_EQ(s.status, SignatureStatus::good);  // gpg: EXPKEYSIG + VALIDSIG
  EXPECT_TRUE(s.key_expired);
  EXPECT_FALSE(s.key_revoked);
  EXPECT_EQ(s.primary_fingerprint, key("expired").fpr);
  EXPECT_EQ(s.created, 1577880000);
}

TEST_F(VerifyTest, ExpiredSignature) {
  give_list("carol");
  const std::string sig =
      detached(key("carol").fpr, kBody,
               {"--faked-system-time", "20200101T120000", "--default-sig-expire", "1d"});
  const Verification v = verify(kBody, sig);
  ASSERT_EQ(v.signatures.size(), 1u);
  EXPECT_EQ(v.signatures[0].status, SignatureStatus::good);  // gpg: EXPSIG + VALIDSIG
  EXPECT_TRUE(v.signatures[0].signature_expired);
  EXPECT_EQ(v.signatures[0].expires, 1577880000 + 86400);
}

TEST_F(VerifyTest, RevokedKeyStillVerifiesWithTheFlagSet) {
  auto gen = tk::new_home();
  ASSERT_TRUE(gen);
  const std::string h = gen->path().string();
  const std::string fpr =
      tk::generate(h, "Revoked", "revoked@members.example", "ed25519", "sign,cert", "never");
  tk::write_file(h + "/body", kBody);
  const std::string sig =
      tk::gpg(h, {"--armor", "--detach-sign", "--output", "-", "-u", fpr, h + "/body"});
  tk::revoke(h, fpr);
  ASSERT_TRUE(ctx_->import_data(tk::export_public(h, fpr)));
  const Verification v = verify(kBody, sig);
  ASSERT_EQ(v.signatures.size(), 1u);
  const SignatureFacts& s = v.signatures[0];
  EXPECT_EQ(s.status, SignatureStatus::good);  // gpg: REVKEYSIG + VALIDSIG
  EXPECT_TRUE(s.key_revoked);
  EXPECT_FALSE(s.key_expired);
  EXPECT_EQ(s.primary_fingerprint, fpr);
}

TEST_F(VerifyTest, InputsThatAreNoDetachedSignature) {
  give_list("alice");
  const std::string& alice = key("alice").fpr;
  struct Case {
    std::string name;
    std::string sig;
    VerifyOutcome want;
  };
  const Case cases[] = {
      {"empty", "", VerifyOutcome::no_signature},
      {"text", "this is no signature\n", VerifyOutcome::no_signature},
      // A complete signed message carries its own data: gpg says "not a
      // detached signature" and GPGME returns no signature at all.
      {"signed message", sender_gpg({"--armor", "--sign", "-u", alice}, "other content\n"),
       VerifyOutcome::no_signature},
      {"clearsigned", sender_gpg({"--clearsign", "-u", alice}, "other content\n"),
       VerifyOutcome::no_signature},
      {"damaged armor",
       "-----BEGIN PGP SIGNATURE-----\n\niHUEABYKAB0WIQ\n-----END PGP SIGNATURE-----\n",
       VerifyOutcome::no_signature},
  };
  for (const Case& c : cases) {
    auto v = verify_detached(*ctx_, kBody, c.sig);
    ASSERT_TRUE(v) << c.name << ": " << v.error().message;
    EXPECT_EQ(v->outcome, c.want) << c.name << ": " << v->detail;
    EXPECT_TRUE(v->signatures.empty()) << c.name;
    EXPECT_FALSE(v->all_good()) << c.name;
    EXPECT_FALSE(v->detail.empty()) << c.name;
  }
}

TEST_F(VerifyTest, CiphertextAsSignatureIsNotDecrypted) {
  const std::string list = make_list_key();
  const std::string ct = sender_gpg({"--armor", "--encrypt", "-r", list}, "SECRET-MARKER\n");
  // gpg --verify refuses an encrypted message ("Unexpected error").
  auto v = verify_detached(*ctx_, kBody, ct);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->outcome, VerifyOutcome::malformed) << v->detail;
  EXPECT_EQ(v->detail, "unexpected OpenPGP packets where a signature was expected");
  EXPECT_TRUE(v->signatures.empty());
}

TEST_F(VerifyTest, LocalFaultIsTemporary) {
  ASSERT_EQ(gpgme_ctx_set_engine_info(ctx_->native(), GPGME_PROTOCOL_OpenPGP, "/nonexistent/gpg",
                                      home_->path().c_str()),
            0u);
  auto v = verify_detached(*ctx_, kBody, "-----BEGIN PGP SIGNATURE-----\n");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().kind, ErrorClass::temporary) << v.error().message;
  auto c =
      verify_clearsigned(*ctx_,
                         "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nx\n"
                         "-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorClass::temporary) << c.error().message;
}

// ---- Cleartext signatures -------------------------------------------------

class ClearsignTest : public VerifyTest {
 protected:
  std::string clearsign(const std::string& signer, const std::string& text,
                        std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--clearsign", "--local-user", signer};
    args.insert(args.end(), extra.begin(), extra.end());
    return sender_gpg(args, text);
  }
};

const std::string kText =
    "[TLP:GREEN] indicators\n"
    "- a line that starts with a dash\n"
    "-----BEGIN PGP MESSAGE----- (not armor: dash-escaped)\n"
    "last line\n";

TEST_F(ClearsignTest, GoodReturnsTheUnescapedText) {
  give_list("alice");
  const std::string block = clearsign(key("alice").fpr, kText);
  ASSERT_NE(block.find("- -----BEGIN PGP MESSAGE-----"), std::string::npos);  // escaped
  auto v = verify_clearsigned(*ctx_, block);
  ASSERT_TRUE(v) << v.error().message;
  ASSERT_EQ(v->outcome, VerifyOutcome::checked) << v->detail;
  EXPECT_EQ(v->plaintext, kText);
  ASSERT_EQ(v->signatures.size(), 1u);
  const SignatureFacts& s = v->signatures[0];
  EXPECT_EQ(s.status, SignatureStatus::good);
  EXPECT_EQ(s.signing_fingerprint, key("alice").signing_subkey);
  EXPECT_EQ(s.primary_fingerprint, key("alice").fpr);
  EXPECT_EQ(s.signature_class, 0x01);
}

TEST_F(ClearsignTest, TamperedTextIsBad) {
  give_list("alice");
  std::string block = clearsign(key("alice").fpr, kText);
  const auto pos = block.find("indicators");
  ASSERT_NE(pos, std::string::npos);
  block.replace(pos, 10, "INDICATORS");
  auto v = verify_clearsigned(*ctx_, block);
  ASSERT_TRUE(v) << v.error().message;
  ASSERT_EQ(v->outcome, VerifyOutcome::checked) << v->detail;
  ASSERT_EQ(v->signatures.size(), 1u);
  EXPECT_EQ(v->signatures[0].status, SignatureStatus::bad);
  EXPECT_FALSE(v->all_good());
}

TEST_F(ClearsignTest, FramingRefusals) {
  give_list("alice");
  const std::string block = clearsign(key("alice").fpr, kText);
  const std::string second = clearsign(key("alice").fpr, "another text\n");
  struct Case {
    std::string name;
    std::string input;
    VerifyOutcome want;
  };
  const Case cases[] = {
      {"text before", "Hello list,\n" + block, VerifyOutcome::text_outside_signature},
      {"text after", block + "-- \nsent from my phone\n", VerifyOutcome::text_outside_signature},
      {"two blocks", block + second, VerifyOutcome::text_outside_signature},
      {"no block", "just text\n", VerifyOutcome::no_signature},
      {"no end line", block.substr(0, block.find("-----END")), VerifyOutcome::malformed},
  };
  for (const Case& c : cases) {
    auto v = verify_clearsigned(*ctx_, c.input);
    ASSERT_TRUE(v) << c.name << ": " << v.error().message;
    EXPECT_EQ(v->outcome, c.want) << c.name << ": " << v->detail;
    EXPECT_TRUE(v->signatures.empty()) << c.name;
    EXPECT_EQ(v->plaintext, "") << c.name;
  }
  // Blank lines and CRLF around the block are fine.
  auto v = verify_clearsigned(*ctx_, "\r\n  \r\n" + ::tlpmail::testing::crlf(block) + "\r\n\r\n");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->outcome, VerifyOutcome::checked) << v->detail;
  EXPECT_TRUE(v->all_good());
}

TEST_F(ClearsignTest, EncryptedMessageInTheSignatureArmorIsNeverDecrypted) {
  const std::string list = make_list_key();
  give_list("alice");
  const std::string block = clearsign(key("alice").fpr, "cover text\n");
  std::string ct = sender_gpg({"--armor", "--encrypt", "-r", list}, "SECRET-MARKER\n");
  // Make the ciphertext look like the block's signature.
  for (std::string label : {"BEGIN", "END"}) {
    const std::string from = "-----" + label + " PGP MESSAGE-----";
    ct.replace(ct.find(from), from.size(), "-----" + label + " PGP SIGNATURE-----");
  }
  const std::string evil = block.substr(0, block.find("-----BEGIN PGP SIGNATURE-----")) + ct;
  auto v = verify_clearsigned(*ctx_, evil);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->outcome, VerifyOutcome::malformed) << v->detail;
  EXPECT_EQ(v->plaintext, "");
  EXPECT_TRUE(v->signatures.empty());
  EXPECT_EQ(v->detail.find("SECRET-MARKER"), std::string::npos);
}

// ---- Replay digest --------------------------------------------------------

// Re-encodes a binary signature packet as gpg would never write it but
// any OpenPGP implementation accepts: a new-format packet header, and an
// extra issuer subpacket in the unhashed area (which no signature covers).
std::string reencode_signature(const std::string& packet) {
  // gpg 2.2 writes an old-format header: tag 2 with a 1-byte (0x88) or
  // 2-byte (0x89) length.
  const unsigned char ctb = static_cast<unsigned char>(packet[0]);
  EXPECT_TRUE(ctb == 0x88 || ctb == 0x89) << int{ctb};
  std::string body = packet.substr(ctb == 0x88 ? 2 : 3);
  // v4: version, class, pk algo, hash algo, hashed len (2), hashed, unhashed len (2), ...
  const size_t hashed_len =
      (static_cast<unsigned char>(body[4]) << 8) | static_cast<unsigned char>(body[5]);
  const size_t u = 6 + hashed_len;
  const size_t unhashed_len =
      (static_cast<unsigned char>(body[u]) << 8) | static_cast<unsigned char>(body[u + 1]);
  const std::string extra = std::string("\x09\x10", 2) + std::string(8, '\x42');  // issuer
  const size_t new_len = unhashed_len + extra.size();
  body.insert(u + 2 + unhashed_len, extra);
  body[u] = static_cast<char>(new_len >> 8);
  body[u + 1] = static_cast<char>(new_len & 0xff);
  // New format, five-octet length (0xFF + 4 bytes), whatever the size.
  const uint32_t n = static_cast<uint32_t>(body.size());
  std::string header = {static_cast<char>(0xC2),
                        static_cast<char>(0xFF),
                        static_cast<char>(n >> 24),
                        static_cast<char>((n >> 16) & 0xff),
                        static_cast<char>((n >> 8) & 0xff),
                        static_cast<char>(n & 0xff)};
  return header + body;
}

TEST_F(VerifyTest, ReplayDigestIgnoresTheSignatureEncoding) {
  give_list("bob");
  const std::string armored = detached(key("bob").fpr, kBody);
  const std::string binary = sender_gpg({"--dearmor"}, armored);
  const std::string reencoded = reencode_signature(binary);
  ASSERT_NE(reencoded, binary);
  const Verification a = verify(kBody, armored);
  const Verification again = verify(kBody, armored);
  const Verification b = verify(kBody, reencoded);
  ASSERT_TRUE(a.all_good());
  ASSERT_TRUE(b.all_good()) << "gpg should accept the re-encoded packet";
  EXPECT_EQ(a.signatures[0].replay_digest, again.signatures[0].replay_digest);
  EXPECT_EQ(a.signatures[0].replay_digest, b.signatures[0].replay_digest);
}

TEST_F(VerifyTest, ReplayDigestDiffersByTimeAndSigner) {
  give_list("carol");
  give_list("dave");
  auto digest = [&](const std::string& signer, const std::string& when, const std::string& data) {
    // "!" freezes gpg's clock at `when`; without it the clock runs on from
    // there, and a slow run (ASan) signs a second later (seen in CI).
    const Verification v =
        verify(data, detached(signer, data, {"--faked-system-time", when + "!"}));
    EXPECT_TRUE(v.all_good()) << signer << " " << when;
    return v.signatures.empty() ? std::string() : v.signatures[0].replay_digest;
  };
  const std::string& carol = key("carol").fpr;
  const std::string& dave = key("dave").fpr;
  const std::string t1 = "20250301T100000";
  const std::string t2 = "20250301T100001";
  const std::string c1 = digest(carol, t1, kBody);
  ASSERT_EQ(c1.size(), 64u);
  EXPECT_EQ(digest(carol, t1, kBody), c1) << "same signer, time and content";
  EXPECT_NE(digest(carol, t2, kBody), c1) << "one second later";
  EXPECT_NE(digest(dave, t1, kBody), c1) << "another signer";
  EXPECT_NE(digest(carol, t1, kBody + "more\r\n"), c1) << "other content";
}

TEST_F(ClearsignTest, ReplayDigestSurvivesTrailingWhitespaceChanges) {
  give_list("alice");
  const std::string block = clearsign(key("alice").fpr, "line one\nline two\n");
  // The cleartext framework ignores trailing whitespace: gpg still says
  // good, and it is the same signature, so the digest must not change.
  std::string padded = block;
  const auto pos = padded.find("line one");
  padded.insert(pos + 8, "  \t");
  auto a = verify_clearsigned(*ctx_, block);
  auto b = verify_clearsigned(*ctx_, padded);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->all_good());
  ASSERT_TRUE(b->all_good());
  EXPECT_EQ(a->signatures[0].replay_digest, b->signatures[0].replay_digest);
}

// ---- Pure functions --------------------------------------------------------

TEST(ReplayDigest, CanonicalText) {
  struct Case {
    std::string in, want;
  };
  const Case cases[] = {
      {"", ""},
      {"a", "a"},
      {"a\r\nb\r\n", "a\nb"},
      {"a\nb\n", "a\nb"},
      {"a\rb\r", "a\nb"},
      {"a \t\r\n\r\nb  \n\n\n", "a\n\nb"},
      {"  lead\n", "  lead"},
      {"\n\nx", "\n\nx"},
      {" \n\t\n", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(canonical_text(c.in), c.want) << c.in;
}

TEST(ReplayDigest, DefinitionAndInputs) {
  const std::string fpr = "0123456789ABCDEF0123456789ABCDEF01234567";
  const std::string d = replay_digest(fpr, 1700000000, "SHA256", 0, "hello\r\n");
  // The documented definition, computed with the shell:
  //   C=$(printf hello | sha256sum | cut -c1-64)
  //   printf 'tlpmail-replay-v1\nFPR\n1700000000\nSHA256\n00\n%s\n' "$C" | sha256sum
  // with FPR the fingerprint above.
  EXPECT_EQ(d, "f8c6d88919de48315f3154230aa0be97cbdd866a52536b3b225636b50ca07b02");
  EXPECT_EQ(replay_digest(std::string("0123456789abcdef0123456789abcdef01234567"), 1700000000,
                          "SHA256", 0, "hello\n"),
            d);
  EXPECT_NE(replay_digest(fpr, 1700000001, "SHA256", 0, "hello"), d);
  EXPECT_NE(replay_digest(fpr, 1700000000, "SHA512", 0, "hello"), d);
  EXPECT_NE(replay_digest(fpr, 1700000000, "SHA256", 1, "hello"), d);
  EXPECT_NE(replay_digest(fpr, 1700000000, "SHA256", 0, "hello!"), d);
  EXPECT_NE(
      replay_digest("1123456789ABCDEF0123456789ABCDEF01234567", 1700000000, "SHA256", 0, "hello"),
      d);
}

}  // namespace
}  // namespace tlpmail::openpgp
