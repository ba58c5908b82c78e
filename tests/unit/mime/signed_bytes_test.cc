// Byte-exact extraction of the signed part of RFC 3156 multipart/signed:
// a real gpg detached signature over the canonical (CRLF) bytes must verify
// against signed_bytes, with `gpg --verify SIG -` reading them from stdin,
// for CRLF and LF-only copies of the message, folded headers, odd spacing,
// trailing whitespace, long headers, nested multiparts and odd endings.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mime/mime.h"
#include "mime/mime_test_util.h"

namespace tlpmail::mime {
namespace {

using testing::crlf;
using testing::lf_only;

class SignedBytesTest : public testing::GpgSuite<SignedBytesTest> {
 protected:
  static void SetUpTestSuite() {
    GpgSuite::SetUpTestSuite();
    ASSERT_TRUE(home_->generate_key("Signer <signer@a.example>", "ed25519", "sign"));
  }
};

std::string make_message(const std::string& part, const std::string& signature,
                         const std::string& boundary, const std::string& delimiter_padding) {
  return crlf("From: Signer <signer@a.example>\nTo: list@lists.example\n"
              "Subject: =?UTF-8?Q?=5BTLP=3AAMBER=5D?= signed\nMIME-Version: 1.0\n"
              "Content-Type: multipart/signed; micalg=pgp-sha256;\n"
              " protocol=\"application/pgp-signature\"; boundary=\"" + boundary + "\"\n\n"
              "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\n"
              "--" + boundary + delimiter_padding + "\n") +
         part +
         crlf("\n--" + boundary + delimiter_padding +
              "\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n"
              "Content-Description: OpenPGP digital signature\n\n") +
         crlf(lf_only(signature)) + crlf("\n--" + boundary + "--\nepilogue\n");
}

struct PartCase {
  std::string name;
  std::string part;  // canonical CRLF bytes of the signed entity
};

std::vector<PartCase> part_cases() {
  const std::string long_value(300, 'x');
  return {
      {"folded headers, trailing whitespace, odd spacing",
       crlf("Content-Type: text/plain; charset=\"utf-8\";\n\tformat=flowed\n"
            "Content-Transfer-Encoding: quoted-printable\n"
            "Content-Disposition: inline;   \n   filename=\"notes.txt\"\n"
            "X-Long-Header: " + long_value + "\n"
            "content-description:   two  spaces   inside \n\n"
            "[TLP:AMBER] body line with trailing spaces   \n=E2=82=AC line\n\nlast line")},
      {"nested multipart with preamble and epilogue",
       crlf("Content-Type: multipart/mixed;\n boundary=\"------------inner  \"\n\n"
            "preamble text\n--------------inner  \nContent-Type: text/plain; charset=UTF-8\n\n"
            "hello   \n--------------inner  \nContent-Type: application/octet-stream;\n"
            "    name=\"ioc.txt\"\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQK\n"
            "--------------inner  --\nepilogue")},
      {"no headers at all", crlf("\nheaderless body, implicitly text/plain")},
      {"body ends with blank lines", crlf("Content-Type: text/plain\n\nhello\n\n\n")},
      {"one very long header line",
       crlf("Content-Type: text/plain\nX-Big: " + std::string(20000, 'y') + "\n\nbody")},
      {"lines that look like the boundary",
       crlf("Content-Type: text/plain\n\n--sigx\n --sig\n--sig-not\n-- sig")},
      {"8-bit body and tabs", crlf("Content-Type: text/plain; charset=utf-8\n\n\tcaf\xC3\xA9\t\n\xE2\x82\xAC")},
      {"protected headers in the signed part",
       crlf("Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\n"
            "Subject: [TLP:RED] inner\nFrom: Signer <signer@a.example>\n\nhi")},
  };
}

TEST_F(SignedBytesTest, ExtractedBytesVerifyForCrlfAndLfInput) {
  for (const PartCase& c : part_cases()) {
    const std::string signature = home_->detach_sign(c.part);
    ASSERT_TRUE(home_->verifies(signature, c.part)) << "control: " << c.name;
    for (const std::string& padding : {std::string(), std::string("  \t")}) {
      const std::string message = make_message(c.part, signature, "sig", padding);
      for (bool lf : {false, true}) {
        const std::string input = lf ? lf_only(message) : message;
        auto m = parse_message(input);
        ASSERT_TRUE(m) << c.name;
        ASSERT_EQ(m->content.kind(), ShapeKind::pgpmime_signed)
            << c.name << (lf ? " (LF)" : " (CRLF)") << ": "
            << (std::holds_alternative<Malformed>(m->content.shape)
                    ? std::get<Malformed>(m->content.shape).reason
                    : "");
        const auto& s = std::get<PgpMimeSigned>(m->content.shape);
        EXPECT_EQ(s.signed_bytes, c.part) << c.name << (lf ? " (LF)" : " (CRLF)");
        EXPECT_TRUE(home_->verifies(s.signature, s.signed_bytes))
            << c.name << (lf ? " (LF)" : " (CRLF)");
      }
    }
  }
}

TEST_F(SignedBytesTest, AChangedByteDoesNotVerify) {
  const std::string part = crlf("Content-Type: text/plain\n\n[TLP:GREEN] hello");
  const std::string signature = home_->detach_sign(part);
  auto m = parse_message(make_message(part, signature, "sig", ""));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->content.kind(), ShapeKind::pgpmime_signed);
  std::string bytes = std::get<PgpMimeSigned>(m->content.shape).signed_bytes;
  ASSERT_TRUE(home_->verifies(signature, bytes));
  bytes[bytes.find("GREEN")] = 'g';
  EXPECT_FALSE(home_->verifies(signature, bytes));
  // A re-serialisation that drops the trailing whitespace would not verify either.
  EXPECT_FALSE(home_->verifies(signature, part + "\r\n"));
}

TEST_F(SignedBytesTest, SignedEntityWithinDecryptedContent) {
  // The plaintext of sign-then-encrypt: an entity (no message headers)
  // that is multipart/signed; parse_entity finds the same bytes.
  const std::string part = crlf("Content-Type: text/plain; charset=utf-8\n\n[TLP:RED] inner\n");
  const std::string signature = home_->detach_sign(part);
  const std::string entity =
      crlf("Content-Type: multipart/signed; micalg=pgp-sha256;\n"
           " protocol=\"application/pgp-signature\"; boundary=\"b\"\n\n--b\n") +
      part + crlf("\n--b\nContent-Type: application/pgp-signature\n\n") + crlf(lf_only(signature)) +
      crlf("\n--b--\n");
  for (bool lf : {false, true}) {
    auto e = parse_entity(lf ? lf_only(entity) : entity);
    ASSERT_TRUE(e);
    ASSERT_EQ(e->kind(), ShapeKind::pgpmime_signed);
    const auto& s = std::get<PgpMimeSigned>(e->shape);
    EXPECT_EQ(s.signed_bytes, part);
    EXPECT_TRUE(home_->verifies(s.signature, s.signed_bytes));
  }
}

TEST_F(SignedBytesTest, DifferentBoundaryStrings) {
  const std::string part = crlf("Content-Type: text/plain\n\nx");
  const std::string signature = home_->detach_sign(part);
  for (const std::string& boundary :
       {std::string("------------sig123"), std::string("=_a.b+c(d)"), std::string("x")}) {
    auto m = parse_message(make_message(part, signature, boundary, ""));
    ASSERT_TRUE(m);
    ASSERT_EQ(m->content.kind(), ShapeKind::pgpmime_signed) << boundary;
    EXPECT_EQ(std::get<PgpMimeSigned>(m->content.shape).signed_bytes, part) << boundary;
  }
}

}  // namespace
}  // namespace tlpmail::mime
