// Tests with the real gpg (keys made at test time in a short temporary
// home): a PGP/MIME signed message and a clearsigned one keep verifying
// after content_of_message + inner_entity, for CRLF and LF-only input; and
// a copy assembled around real ciphertext is PGP/MIME encrypted for
// lib/mime and decrypts back to the inner entity.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compose/compose.h"
#include "compose/compose_test_util.h"
#include "mime/mime.h"

namespace tlpmail::compose {
namespace {

using testing::base_facts;
using testing::crlf;
using testing::lf_only;
using testing::split_parts;

class GpgTest : public mime::testing::GpgSuite<GpgTest> {
 protected:
  static void SetUpTestSuite() {
    GpgSuite::SetUpTestSuite();
    ASSERT_TRUE(home_->generate_key("Signer <signer@a.example>", "ed25519", "sign"));
    ASSERT_TRUE(home_->generate_key("Member <member@b.example>", "future-default", "default"));
  }
};

std::string signed_message(const std::string& part, const std::string& signature) {
  return crlf(
             "Received: from mail.csirt-a.example (10.1.2.3) by mx.lists.example.org\n"
             "X-Originating-IP: [10.1.2.3]\n"
             "From: Signer <signer@a.example>\n"
             "To: csirt-ops@lists.example.org\n"
             "Subject: [TLP:AMBER] signed\n"
             "User-Agent: Mozilla Thunderbird\n"
             "MIME-Version: 1.0\n"
             "Content-Type: multipart/signed; micalg=pgp-sha256;\n"
             " protocol=\"application/pgp-signature\";\n"
             " boundary=\"------------sig42\"\n\n"
             "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\n"
             "--------------sig42\n") +
         part +
         crlf(
             "\n--------------sig42\n"
             "Content-Type: application/pgp-signature; name=\"OpenPGP_signature.asc\"\n"
             "Content-Description: OpenPGP digital signature\n"
             "Content-Disposition: attachment; filename=\"OpenPGP_signature.asc\"\n\n") +
         crlf(lf_only(signature)) + crlf("\n--------------sig42--\n");
}

TEST_F(GpgTest, MultipartSignedStillVerifiesInsideTheCopy) {
  const std::vector<std::string> parts = {
      crlf("Content-Type: text/plain; charset=UTF-8; format=flowed\n"
           "Content-Transfer-Encoding: quoted-printable\n\n"
           "[TLP:AMBER] body with trailing spaces   \n=E2=82=AC line\n\nlast line\n"),
      crlf("Content-Type: multipart/mixed;\n\tboundary=\"------------inner  \"\n"
           "Content-Language: en-US\n\n"
           "--------------inner  \nContent-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: 8bit\n\n"
           "TLP:AMBER: Recipients may share this with anyone (a fake banner)\n"
           "caf\xC3\xA9   \n--------------inner  \n"
           "Content-Type: text/csv; name=\"ioc.csv\"\nContent-Disposition: attachment;\n"
           " filename=\"ioc.csv\"\nContent-Transfer-Encoding: base64\n\naW9jLGV2aWwuZXhhbXBsZQo=\n"
           "--------------inner  --\n"),
  };
  for (const std::string& part : parts) {
    const std::string signature = home_->detach_sign(part, "signer@a.example");
    ASSERT_TRUE(home_->verifies(signature, part)) << "control";
    const std::string message = signed_message(part, signature);
    for (bool lf : {false, true}) {
      const std::string raw = lf ? lf_only(message) : message;
      auto content = content_of_message(raw);
      ASSERT_TRUE(content) << content.error().message;
      // Nothing of the sender's infrastructure or headers is carried over.
      for (const char* gone : {"Received", "X-Originating-IP", "User-Agent", "Subject", "From:"}) {
        EXPECT_EQ(content->substr(0, content->find("\r\n\r\n")).find(gone), std::string::npos)
            << gone;
      }
      const std::string inner = inner_entity(base_facts(), *content);
      const std::vector<std::string> inner_parts = split_parts(inner);
      ASSERT_EQ(inner_parts.size(), 2u);
      EXPECT_EQ(inner_parts[1], *content);

      auto kept = mime::parse_entity(inner_parts[1]);
      ASSERT_TRUE(kept);
      ASSERT_EQ(kept->kind(), mime::ShapeKind::pgpmime_signed) << (lf ? "LF" : "CRLF");
      const auto& s = std::get<mime::PgpMimeSigned>(kept->shape);
      EXPECT_EQ(s.signed_bytes, part) << (lf ? "LF" : "CRLF");
      EXPECT_TRUE(home_->verifies(s.signature, s.signed_bytes)) << (lf ? "LF" : "CRLF");

      // The whole entity: the banner beside the signed content.
      auto whole = mime::parse_entity(inner);
      ASSERT_TRUE(whole);
      EXPECT_EQ(whole->kind(), mime::ShapeKind::partly_signed);
      EXPECT_EQ(whole->body_head.rfind("TLP:AMBER: Recipients may share this only", 0), 0u);
    }
  }
}

TEST_F(GpgTest, ClearsignedTextStillVerifiesInsideTheCopy) {
  const std::string text = "[TLP:GREEN] clearsigned report\n- dash line\n\ncaf\xC3\xA9 \n";
  const auto r = home_->gpg({"--clearsign", "-u", "signer@a.example", "-o", "-"}, text);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string raw =
      "From: Signer <signer@a.example>\nSubject: x\nX-Mailer: mutt\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: 8bit\n\n" +
      r.out;
  auto content = content_of_message(raw);
  ASSERT_TRUE(content);
  const std::vector<std::string> inner_parts = split_parts(inner_entity(base_facts(), *content));
  ASSERT_EQ(inner_parts.size(), 2u);
  auto kept = mime::parse_entity(inner_parts[1]);
  ASSERT_TRUE(kept);
  ASSERT_EQ(kept->kind(), mime::ShapeKind::inline_clearsigned);
  const std::string block = std::get<mime::InlineClearsigned>(kept->shape).block;
  const auto v = home_->gpg({"--verify"}, block);
  EXPECT_EQ(v.status, 0) << v.err;
  EXPECT_NE(v.err.find("Good signature"), std::string::npos);
}

TEST_F(GpgTest, AssembledCopyIsPgpMimeEncryptedAndDecrypts) {
  CopyFacts f = base_facts();
  f.list.protect_subject = true;
  f.subject = "[TLP:AMBER] Operation Nightfall";
  const std::string inner = inner_entity(f, content_of_plaintext("[TLP:AMBER] hello\n", false));
  const auto enc = home_->gpg({"--armor", "--sign", "--encrypt", "--trust-model", "always", "-u",
                               "signer@a.example", "-r", "member@b.example", "-o", "-"},
                              inner);
  ASSERT_EQ(enc.status, 0) << enc.err;
  ASSERT_EQ(enc.out.rfind("-----BEGIN PGP MESSAGE-----", 0), 0u);

  const std::string message = copy_frame(f).assemble(enc.out);
  auto m = mime::parse_message(message);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->content.kind(), mime::ShapeKind::pgpmime_encrypted);
  const std::string ciphertext = std::get<mime::PgpMimeEncrypted>(m->content.shape).ciphertext;
  EXPECT_EQ(ciphertext, crlf(enc.out));
  EXPECT_TRUE(m->content.nested_ciphertext.empty());
  EXPECT_EQ(m->subject, "[TLP:AMBER] [csirt-ops] Encrypted message");
  for (char c : message) {
    ASSERT_TRUE(static_cast<unsigned char>(c) < 0x80) << "the outer message must be 7-bit";
  }

  const auto dec = home_->gpg({"--decrypt", "-o", "-"}, ciphertext);
  ASSERT_EQ(dec.status, 0) << dec.err;
  EXPECT_EQ(dec.out, inner);
  EXPECT_NE(dec.err.find("Good signature"), std::string::npos);
  auto e = mime::parse_entity(dec.out);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->protected_subject, "[TLP:AMBER] [csirt-ops] Operation Nightfall");
}

}  // namespace
}  // namespace tlpmail::compose
