// Every client shape made with the real gpg at test time and taken apart
// again: PGP/MIME signed-and-encrypted in one step, sign-then-encrypt
// (multipart/signed inside), inline clearsigned and inline encrypted. Checks
// that what lib/mime hands out decrypts or verifies with gpg and that the
// decrypted content is classified as the pipeline needs it.
#include <string>

#include <gtest/gtest.h>

#include "mime/mime.h"
#include "mime/mime_test_util.h"

namespace tlpmail::mime {
namespace {

using testing::crlf;
using testing::lf_only;

class GpgShapesTest : public testing::GpgSuite<GpgShapesTest> {
 protected:
  static void SetUpTestSuite() {
    GpgSuite::SetUpTestSuite();
    ASSERT_TRUE(home_->generate_key("Alice <alice@a.example>", "ed25519", "sign"));
    auto r = home_->gpg({"--with-colons", "--list-keys", "alice@a.example"});
    const std::size_t fpr = r.out.find("\nfpr:");
    ASSERT_NE(fpr, std::string::npos);
    const std::size_t begin = r.out.find_first_not_of(':', fpr + 5);
    fpr_ = r.out.substr(begin, 40);
    r = home_->gpg({"--quick-add-key", fpr_, "cv25519", "encr", "never"});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  static std::string gpg_out(std::vector<std::string> args, const std::string& input) {
    const auto r = home_->gpg(std::move(args), input);
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  }
  static std::string encrypt_and_sign(const std::string& plaintext) {
    return gpg_out({"--armor", "--trust-model", "always", "--sign", "--encrypt", "-r", fpr_, "-o", "-"},
                   plaintext);
  }
  static std::string encrypt(const std::string& plaintext) {
    return gpg_out({"--armor", "--trust-model", "always", "--encrypt", "-r", fpr_, "-o", "-"}, plaintext);
  }
  static std::string decrypt(const std::string& ciphertext) {
    return gpg_out({"--decrypt", "-o", "-"}, ciphertext);
  }

  static inline std::string fpr_;
};

std::string encrypted_message(const std::string& armored) {
  return crlf("From: Alice <alice@a.example>\nTo: list@lists.example\nSubject: ...\n"
              "MIME-Version: 1.0\nContent-Type: multipart/encrypted;\n"
              " protocol=\"application/pgp-encrypted\";\n boundary=\"------------enc\"\n\n"
              "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n"
              "--------------enc\nContent-Type: application/pgp-encrypted\n"
              "Content-Description: PGP/MIME version identification\n\nVersion: 1\n\n"
              "--------------enc\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n"
              "Content-Description: OpenPGP encrypted message\n"
              "Content-Disposition: inline; filename=\"encrypted.asc\"\n\n") +
         crlf(lf_only(armored)) + crlf("\n--------------enc--\n");
}

TEST_F(GpgShapesTest, PgpMimeSignedAndEncryptedInOneStep) {
  const std::string plaintext = crlf(
      "Content-Type: multipart/mixed; boundary=\"------------x\";\n protected-headers=\"v1\"\n"
      "Subject: [TLP:AMBER] Phishing wave\nFrom: Alice <alice@a.example>\n\n"
      "--------------x\nContent-Type: text/plain; charset=UTF-8\n\nTLP:AMBER\nDetails.\n"
      "--------------x--\n");
  const Message m = *parse_message(encrypted_message(encrypt_and_sign(plaintext)));
  ASSERT_EQ(m.content.kind(), ShapeKind::pgpmime_encrypted);
  EXPECT_FALSE(m.content.has_nested_ciphertext());
  const std::string decrypted = decrypt(std::get<PgpMimeEncrypted>(m.content.shape).ciphertext);
  ASSERT_EQ(decrypted, plaintext);
  auto e = parse_entity(decrypted);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ShapeKind::plain);  // the signature came with the decryption
  ASSERT_TRUE(e->protected_subject);
  EXPECT_EQ(*e->protected_subject, "[TLP:AMBER] Phishing wave");
  EXPECT_EQ(e->body_head, "TLP:AMBER\r\nDetails.");
  EXPECT_FALSE(e->has_nested_ciphertext());
}

TEST_F(GpgShapesTest, SignThenEncrypt) {
  const std::string part = crlf("Content-Type: text/plain; charset=utf-8\n\n[TLP:RED] nested\n");
  const std::string sig = gpg_out({"--armor", "--detach-sign", "-o", "-"}, part);
  const std::string signed_entity =
      crlf("Content-Type: multipart/signed; micalg=pgp-sha512;\n"
           " protocol=\"application/pgp-signature\"; boundary=\"s\"\n\n--s\n") +
      part + crlf("\n--s\nContent-Type: application/pgp-signature\n\n") + crlf(lf_only(sig)) +
      crlf("\n--s--\n");
  const Message m = *parse_message(encrypted_message(encrypt(signed_entity)));
  ASSERT_EQ(m.content.kind(), ShapeKind::pgpmime_encrypted);
  const std::string decrypted = decrypt(std::get<PgpMimeEncrypted>(m.content.shape).ciphertext);
  auto e = parse_entity(decrypted);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind(), ShapeKind::pgpmime_signed);
  const auto& s = std::get<PgpMimeSigned>(e->shape);
  EXPECT_EQ(s.signed_bytes, part);
  EXPECT_TRUE(home_->verifies(s.signature, s.signed_bytes));
  auto inner = parse_entity(s.signed_bytes);
  ASSERT_TRUE(inner);
  EXPECT_EQ(inner->body_head, "[TLP:RED] nested\r\n");
}

TEST_F(GpgShapesTest, NestedCiphertextInsideDecryptedContent) {
  const std::string inner = encrypt("secret for someone else\n");
  const std::string plaintext =
      crlf("Content-Type: text/plain; charset=utf-8\n\nForwarding this:\n") + crlf(lf_only(inner));
  const Message m = *parse_message(encrypted_message(encrypt_and_sign(plaintext)));
  ASSERT_EQ(m.content.kind(), ShapeKind::pgpmime_encrypted);
  auto e = parse_entity(decrypt(std::get<PgpMimeEncrypted>(m.content.shape).ciphertext));
  ASSERT_TRUE(e);
  ASSERT_EQ(e->nested_ciphertext.size(), 1u);
  EXPECT_EQ(e->nested_ciphertext[0].kind, CiphertextKind::armored_message);
}

TEST_F(GpgShapesTest, InlineClearsigned) {
  const std::string text = "[TLP:GREEN] Inline note\n- a dash line\n-----BEGIN PGP MESSAGE----- quoted?\n";
  const std::string block = gpg_out({"--clearsign", "-o", "-"}, text);
  for (bool lf : {false, true}) {
    std::string raw = crlf("From: Alice <alice@a.example>\nSubject: x\n"
                           "Content-Type: text/plain; charset=utf-8\n\n") +
                      crlf(lf_only(block));
    if (lf) raw = lf_only(raw);
    const Message m = *parse_message(raw);
    ASSERT_EQ(m.content.kind(), ShapeKind::inline_clearsigned);
    const std::string& got = std::get<InlineClearsigned>(m.content.shape).block;
    const auto r = home_->gpg({"--verify", "-"}, got);
    EXPECT_EQ(r.status, 0) << r.err;
    auto signed_text = clearsigned_text(got);
    ASSERT_TRUE(signed_text);
    EXPECT_EQ(*signed_text + "\n", text);
    // gpg's own output of the signed text agrees.
    EXPECT_EQ(lf_only(gpg_out({"--decrypt", "-o", "-"}, got)), text);
  }
}

TEST_F(GpgShapesTest, InlineEncryptedAndSigned) {
  const std::string text = "[TLP:AMBER] inline secret\n";
  const std::string block = encrypt_and_sign(text);
  const Message m = *parse_message(crlf("From: Alice <alice@a.example>\nSubject: x\n\n") +
                                   crlf(lf_only(block)));
  ASSERT_EQ(m.content.kind(), ShapeKind::inline_encrypted);
  EXPECT_FALSE(m.content.has_nested_ciphertext());
  const std::string plain = decrypt(std::get<InlineEncrypted>(m.content.shape).block);
  EXPECT_EQ(plain, text);
  const Entity e = parse_text(plain);
  EXPECT_EQ(e.kind(), ShapeKind::plain);
  EXPECT_EQ(e.body_head, text);
}

}  // namespace
}  // namespace tlpmail::mime
