// Tests of the classification: every shape of parse_message and
// parse_entity (PGP/MIME signed and encrypted, inline clearsigned and
// encrypted, partly signed/encrypted, plain, malformed), nested ciphertext
// in each form, protected headers, the body head and the part counts.
// Messages are built by hand here; signed_bytes_test.cc and
// gpg_shapes_test.cc use real gpg.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mime/mime.h"
#include "mime/mime_test_util.h"

namespace tlpmail::mime {
namespace {

using testing::crlf;
using testing::lf_only;

const std::string kSig =
    "-----BEGIN PGP SIGNATURE-----\n\niHUEARYIAB0WIQQ=\n=abcd\n-----END PGP SIGNATURE-----\n";
const std::string kArmoredMessage =
    "-----BEGIN PGP MESSAGE-----\n\nhF4DAAAAAAAAAAASAQdA\n=abcd\n-----END PGP MESSAGE-----\n";
const std::string kClearsigned =
    "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n[TLP:AMBER] hello\n"
    "-----BEGIN PGP SIGNATURE-----\n\niHUEARYIAB0WIQQ=\n-----END PGP SIGNATURE-----";
const std::string kHead = "From: Alice <alice@a.example>\nSubject: s\nMIME-Version: 1.0\n";

std::string signed_body(const std::string& part, const std::string& boundary = "sig") {
  return "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\n--" + boundary + "\n" +
         part + "\n--" + boundary +
         "\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n\n" + kSig + "\n--" +
         boundary + "--\n";
}

std::string signed_ct(const std::string& boundary = "sig") {
  return "Content-Type: multipart/signed; micalg=pgp-sha256;\n"
         " protocol=\"application/pgp-signature\"; boundary=\"" +
         boundary + "\"\n";
}

std::string signed_message(const std::string& part) {
  return crlf(kHead + signed_ct() + "\n" + signed_body(part));
}

std::string encrypted_body(const std::string& boundary = "enc") {
  return "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n--" + boundary +
         "\nContent-Type: application/pgp-encrypted\nContent-Description: PGP/MIME version "
         "identification\n\nVersion: 1\n\n--" +
         boundary +
         "\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n"
         "Content-Description: OpenPGP encrypted message\n"
         "Content-Disposition: inline; filename=\"encrypted.asc\"\n\n" +
         kArmoredMessage + "\n--" + boundary + "--\n";
}

std::string encrypted_ct(const std::string& boundary = "enc") {
  return "Content-Type: multipart/encrypted;\n protocol=\"application/pgp-encrypted\";\n"
         " boundary=\"" +
         boundary + "\"\n";
}

Message parse_ok(const std::string& raw) {
  auto m = parse_message(raw);
  EXPECT_TRUE(m) << (m ? "" : m.error().message);
  return m ? std::move(*m) : Message{};
}

Entity entity_ok(const std::string& raw) {
  auto e = parse_entity(raw);
  EXPECT_TRUE(e) << (e ? "" : e.error().message);
  return e ? std::move(*e) : Entity{};
}

std::string reason_of(const Shape& s) {
  if (auto* p = std::get_if<Malformed>(&s)) return p->reason;
  if (auto* p = std::get_if<PartlySigned>(&s)) return p->reason;
  if (auto* p = std::get_if<PartlyEncrypted>(&s)) return p->reason;
  return "";
}

// ------------------------------------------------------------ each shape

TEST(Shape, PgpMimeSigned) {
  const std::string part = "Content-Type: text/plain; charset=utf-8\n\n[TLP:GREEN] hello\n";
  for (bool lf : {false, true}) {
    const std::string raw = lf ? lf_only(signed_message(part)) : signed_message(part);
    const Message m = parse_ok(raw);
    ASSERT_EQ(m.content.kind(), ShapeKind::pgpmime_signed) << reason_of(m.content.shape);
    const auto& s = std::get<PgpMimeSigned>(m.content.shape);
    EXPECT_EQ(s.signed_bytes, crlf("Content-Type: text/plain; charset=utf-8\n\n[TLP:GREEN] hello\n"));
    EXPECT_EQ(lf_only(s.signature), kSig);
    EXPECT_EQ(s.micalg, "pgp-sha256");
    EXPECT_EQ(m.content.body_head, lf ? "[TLP:GREEN] hello\n" : "[TLP:GREEN] hello\r\n");
    EXPECT_FALSE(m.content.has_nested_ciphertext());
    EXPECT_EQ(m.content.leaf_parts, 1);  // the signature part is not counted
    EXPECT_EQ(m.content.attachments, 0);
  }
}

TEST(Shape, PgpMimeSignedMicalgAbsentIsReported) {
  std::string raw = signed_message("Content-Type: text/plain\n\nx\n");
  raw.replace(raw.find("micalg=pgp-sha256;"), 18, "");
  const Message m = parse_ok(raw);
  ASSERT_EQ(m.content.kind(), ShapeKind::pgpmime_signed);
  EXPECT_EQ(std::get<PgpMimeSigned>(m.content.shape).micalg, "");
}

TEST(Shape, PgpMimeEncrypted) {
  const Message m = parse_ok(crlf(kHead + encrypted_ct() + "\n" + encrypted_body()));
  ASSERT_EQ(m.content.kind(), ShapeKind::pgpmime_encrypted) << reason_of(m.content.shape);
  EXPECT_EQ(lf_only(std::get<PgpMimeEncrypted>(m.content.shape).ciphertext), kArmoredMessage);
  // The message's own layer is not nested ciphertext.
  EXPECT_FALSE(m.content.has_nested_ciphertext());
  EXPECT_EQ(m.content.body_head, "");
}

TEST(Shape, PgpMimeEncryptedBase64Ciphertext) {
  const std::string body =
      "--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--e\n"
      "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
      "wcBMA1234abc\n--e--\n";
  const Message m = parse_ok(crlf(kHead +
                                  "Content-Type: multipart/encrypted; boundary=e;"
                                  " protocol=\"application/pgp-encrypted\"\n\n" +
                                  body));
  ASSERT_EQ(m.content.kind(), ShapeKind::pgpmime_encrypted) << reason_of(m.content.shape);
  EXPECT_EQ(std::get<PgpMimeEncrypted>(m.content.shape).ciphertext,
            std::string("\xc1\xc0\x4c\x03\x5d\xb7\xe1\xa6\xdc", 9));
}

TEST(Shape, InlineClearsigned) {
  const Message m = parse_ok(crlf(kHead + "Content-Type: text/plain; charset=utf-8\n\n\n" +
                                  kClearsigned + "\n\n"));
  ASSERT_EQ(m.content.kind(), ShapeKind::inline_clearsigned) << reason_of(m.content.shape);
  EXPECT_EQ(std::get<InlineClearsigned>(m.content.shape).block, crlf(kClearsigned));
  auto text = clearsigned_text(std::get<InlineClearsigned>(m.content.shape).block);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "[TLP:AMBER] hello");
}

TEST(Shape, InlineClearsignedQuotedPrintable) {
  // The block is taken after transfer decoding, before any charset conversion.
  const std::string qp =
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\ncaf=E9 =3D ok\n"
      "-----BEGIN PGP SIGNATURE-----\n\niHUE\n-----END PGP SIGNATURE-----\n";
  const Message m = parse_ok(crlf(kHead +
                                  "Content-Type: text/plain; charset=iso-8859-1\n"
                                  "Content-Transfer-Encoding: quoted-printable\n\n" +
                                  qp));
  ASSERT_EQ(m.content.kind(), ShapeKind::inline_clearsigned);
  EXPECT_NE(std::get<InlineClearsigned>(m.content.shape).block.find("caf\xE9 = ok"),
            std::string::npos);
}

TEST(Shape, InlineEncrypted) {
  const Message m = parse_ok(crlf(kHead + "\n" + kArmoredMessage));
  ASSERT_EQ(m.content.kind(), ShapeKind::inline_encrypted) << reason_of(m.content.shape);
  EXPECT_EQ(std::get<InlineEncrypted>(m.content.shape).block,
            crlf(kArmoredMessage.substr(0, kArmoredMessage.size() - 1)));
  EXPECT_FALSE(m.content.has_nested_ciphertext());
}

TEST(Shape, Plain) {
  const Message m = parse_ok(crlf(kHead + "Content-Type: text/plain\n\nhello\n"));
  EXPECT_EQ(m.content.kind(), ShapeKind::plain);
  const Message mixed = parse_ok(crlf(
      kHead +
      "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nhi\n"
      "--m\nContent-Type: application/pgp-keys\nContent-Disposition: attachment; "
      "filename=key.asc\n\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n"
      "-----END PGP PUBLIC KEY BLOCK-----\n--m--\n"));
  EXPECT_EQ(mixed.content.kind(), ShapeKind::plain);
  EXPECT_FALSE(mixed.content.has_nested_ciphertext());
  EXPECT_EQ(mixed.content.leaf_parts, 2);
  EXPECT_EQ(mixed.content.attachments, 1);
}

// --------------------------------------------------------- partly signed

TEST(Shape, PartlySignedTable) {
  struct Case {
    std::string name;
    std::string raw;
    ShapeKind want;
    std::string want_reason;
  };
  const std::string inner_signed = signed_ct("sig") + "\n" + signed_body("Content-Type: text/plain\n\nsigned\n");
  const std::vector<Case> cases = {
      {"signed part plus unsigned text",
       kHead + "Content-Type: multipart/mixed; boundary=m\n\n--m\n" + inner_signed +
           "\n--m\nContent-Type: text/plain\n\nunsigned footer\n--m--\n",
       ShapeKind::partly_signed, "a multipart/signed in part 1 is not the whole message"},
      {"unsigned text before signed part",
       kHead + "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\n"
               "unsigned\n--m\n" +
           inner_signed + "\n--m--\n",
       ShapeKind::partly_signed, "a multipart/signed in part 2 is not the whole message"},
      {"signed part as the only child of multipart/mixed",
       kHead + "Content-Type: multipart/mixed; boundary=m\n\n--m\n" + inner_signed + "\n--m--\n",
       ShapeKind::partly_signed, "a multipart/signed in part 1 is not the whole message"},
      {"text before inline block",
       kHead + "Content-Type: text/plain\n\nPlease read:\n" + kClearsigned + "\n",
       ShapeKind::partly_signed, "an inline signed block in the body is not the whole message"},
      {"text after inline block",
       kHead + "Content-Type: text/plain\n\n" + kClearsigned + "\n-- \nList footer\n",
       ShapeKind::partly_signed, "an inline signed block in the body is not the whole message"},
      {"inline block in text/plain beside text/html",
       kHead + "Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain\n\n" +
           kClearsigned + "\n--a\nContent-Type: text/html\n\n<p>unsigned</p>\n--a--\n",
       ShapeKind::partly_signed, "an inline signed block in part 1 is not the whole message"},
      {"inline block in a text attachment",
       kHead + "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nhi\n"
               "--m\nContent-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n\n" +
           kClearsigned + "\n--m--\n",
       ShapeKind::partly_signed, "an inline signed block in part 2 is not the whole message"},
      {"encrypted part plus unsigned text",
       kHead + "Content-Type: multipart/mixed; boundary=m\n\n--m\n" + encrypted_ct() + "\n" +
           encrypted_body() + "\n--m\nContent-Type: text/plain\n\nfooter\n--m--\n",
       ShapeKind::partly_encrypted,
       "encrypted content (multipart/encrypted) in part 1 is not the whole message"},
      {"text before inline message",
       kHead + "Content-Type: text/plain\n\nSee below.\n" + kArmoredMessage,
       ShapeKind::partly_encrypted, "an inline PGP message in the body is not the whole message"},
      {"signed message forwarded as an attachment does not sign the outer one",
       kHead + "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nfwd\n"
               "--m\nContent-Type: message/rfc822\n\nFrom: b@b.example\n" +
           inner_signed + "\n--m--\n",
       ShapeKind::plain, ""},
  };
  for (const Case& c : cases) {
    const Message m = parse_ok(crlf(c.raw));
    EXPECT_EQ(m.content.kind(), c.want) << c.name << ": " << reason_of(m.content.shape);
    EXPECT_EQ(reason_of(m.content.shape), c.want_reason) << c.name;
  }
}

// -------------------------------------------------------------- malformed

TEST(Shape, MalformedTable) {
  struct Case {
    std::string name;
    std::string raw;
    std::string want_reason;
  };
  const std::string part = "Content-Type: text/plain\n\nx\n";
  const std::vector<Case> cases = {
      {"signed: wrong protocol",
       kHead + "Content-Type: multipart/signed; micalg=sha-256;\n"
               " protocol=\"application/pkcs7-signature\"; boundary=\"sig\"\n\n" +
           signed_body(part),
       "multipart/signed protocol is not application/pgp-signature"},
      {"signed: no protocol",
       kHead + "Content-Type: multipart/signed; micalg=pgp-sha256; boundary=\"sig\"\n\n" +
           signed_body(part),
       "multipart/signed protocol is not application/pgp-signature"},
      {"signed: one part",
       kHead + signed_ct() + "\n--sig\n" + part + "--sig--\n",
       "multipart/signed does not have exactly two parts"},
      {"signed: three parts",
       kHead + signed_ct() + "\n--sig\n" + part + "--sig\n" + part +
           "--sig\nContent-Type: application/pgp-signature\n\n" + kSig + "--sig--\n",
       "multipart/signed does not have exactly two parts"},
      {"signed: second part is not a signature",
       kHead + signed_ct() + "\n--sig\n" + part + "--sig\n" + part + "--sig--\n",
       "the second part of multipart/signed is not application/pgp-signature"},
      {"signed: empty signature",
       kHead + signed_ct() + "\n--sig\n" + part +
           "--sig\nContent-Type: application/pgp-signature\n\n\n--sig--\n",
       "the signature part is empty"},
      {"signed: no closing boundary",
       kHead + signed_ct() + "\n--sig\n" + part +
           "--sig\nContent-Type: application/pgp-signature\n\n" + kSig,
       "the message ends early (truncated, or a multipart is not closed)"},
      {"encrypted: no Version",
       kHead + encrypted_ct("e") +
           "\n--e\nContent-Type: application/pgp-encrypted\n\n\n--e\n"
           "Content-Type: application/octet-stream\n\n" +
           kArmoredMessage + "--e--\n",
       "the application/pgp-encrypted part does not say \"Version: 1\""},
      {"encrypted: Version 2",
       kHead + encrypted_ct("e") +
           "\n--e\nContent-Type: application/pgp-encrypted\n\nVersion: 2\n--e\n"
           "Content-Type: application/octet-stream\n\n" +
           kArmoredMessage + "--e--\n",
       "the application/pgp-encrypted part does not say \"Version: 1\""},
      {"encrypted: wrong protocol",
       kHead + "Content-Type: multipart/encrypted; boundary=e; protocol=\"application/x-other\"\n\n"
               "--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--e\n"
               "Content-Type: application/octet-stream\n\n" +
           kArmoredMessage + "--e--\n",
       "multipart/encrypted protocol is not application/pgp-encrypted"},
      {"encrypted: parts swapped",
       kHead + encrypted_ct("e") + "\n--e\nContent-Type: application/octet-stream\n\n" +
           kArmoredMessage + "--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--e--\n",
       "the first part of multipart/encrypted is not application/pgp-encrypted"},
      {"encrypted: second part wrong type",
       kHead + encrypted_ct("e") +
           "\n--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--e\n"
           "Content-Type: text/plain\n\n" +
           kArmoredMessage + "--e--\n",
       "the second part of multipart/encrypted is not application/octet-stream"},
      {"encrypted: empty ciphertext",
       kHead + encrypted_ct("e") +
           "\n--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--e\n"
           "Content-Type: application/octet-stream\n\n\n--e--\n",
       "the encrypted part is empty"},
      {"two Content-Type fields",
       "From: a@a.example\nContent-Type: text/plain\nContent-Type: multipart/mixed; boundary=z\n\n"
       "--z\nContent-Type: text/html\n\nx\n--z--\n",
       "conflicting Content-* header fields (offset 45)"},
      {"two boundary parameters",
       "From: a@a.example\nContent-Type: multipart/mixed; boundary=z; boundary=y\n\n--z\n\nx\n--z--\n",
       "conflicting MIME parameters (offset 19)"},
      {"multipart without boundary",
       "From: a@a.example\nContent-Type: multipart/mixed\n\n--z\n\nx\n--z--\n",
       "a multipart has no boundary parameter (offset 19)"},
      {"header line without colon",
       "From: a@a.example\nthis is not a header\nSubject: x\n\nbody\n",
       "a header line is not a valid header field (offset 19)"},
      {"unterminated inline block",
       kHead + "\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\ntext\n",
       "an inline PGP block in the body has no END line"},
  };
  for (const Case& c : cases) {
    const Message m = parse_ok(crlf(c.raw));
    EXPECT_EQ(m.content.kind(), ShapeKind::malformed) << c.name;
    EXPECT_EQ(reason_of(m.content.shape), c.want_reason) << c.name;
  }
}

TEST(Shape, NestingDeeperThanTheLimitIsMalformed) {
  for (int depth : {kMaxDepth, kMaxDepth + 1, 1000}) {
    std::string raw = "From: a@a.example\n";
    for (int i = 0; i < depth; ++i) {
      raw += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" +
             std::to_string(i) + "\n";
    }
    raw += "Content-Type: text/plain\n\ninnermost\n";
    for (int i = depth - 1; i >= 0; --i) raw += "--b" + std::to_string(i) + "--\n";
    const Message m = parse_ok(crlf(raw));
    if (depth <= kMaxDepth) {
      EXPECT_EQ(m.content.kind(), ShapeKind::plain) << depth << reason_of(m.content.shape);
      EXPECT_EQ(m.content.body_head, "innermost");  // the last CRLF belongs to the delimiter
    } else {
      EXPECT_EQ(m.content.kind(), ShapeKind::malformed) << depth;
      EXPECT_EQ(reason_of(m.content.shape), "MIME nesting deeper than 32 levels") << depth;
    }
  }
}

// ------------------------------------------------------ nested ciphertext

TEST(NestedCiphertext, EachForm) {
  struct Case {
    std::string name;
    std::string entity;  // a decrypted plaintext (parse_entity)
    std::vector<CiphertextLocation> want;
  };
  const std::string mixed = "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nhi\n--m\n";
  const std::vector<Case> cases = {
      {"clean", mixed + "Content-Type: text/plain\n\nbye\n--m--\n", {}},
      {"public key attachment is fine",
       mixed + "Content-Type: application/pgp-keys\n\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ\n"
               "-----END PGP PUBLIC KEY BLOCK-----\n--m--\n",
       {}},
      {"multipart/encrypted", mixed + encrypted_ct() + "\n" + encrypted_body() + "--m--\n",
       {{CiphertextKind::multipart_encrypted, "2"}}},
      {"application/pgp-encrypted part",
       mixed + "Content-Type: application/pgp-encrypted\n\nVersion: 1\n--m--\n",
       {{CiphertextKind::pgp_encrypted_part, "2"}}},
      {"armored message in the text", "Content-Type: text/plain\n\nsee:\n" + kArmoredMessage,
       {{CiphertextKind::armored_message, ""}}},
      {"armored message alone is still nested", "Content-Type: text/plain\n\n" + kArmoredMessage,
       {{CiphertextKind::armored_message, ""}}},
      {"armored message in a base64 attachment",
       mixed + "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n"
               "Content-Disposition: attachment; filename=x.asc\n\n"
               "LS0tLS1CRUdJTiBQR1AgTUVTU0FHRS0tLS0tCgp4Ci0tLS0tRU5EIFBHUCBNRVNTQUdFLS0tLS0K\n--m--\n",
       {{CiphertextKind::armored_message, "2"}}},
      {"binary OpenPGP message attachment",
       mixed + "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
               "hF4DAAAAAAAAAAASAQdA\n--m--\n",
       {{CiphertextKind::binary_openpgp_message, "2"}}},
      {"S/MIME enveloped data",
       mixed + "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n"
               "Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\n--m--\n",
       {{CiphertextKind::smime_enveloped, "2"}}},
      {"S/MIME signed data is not ciphertext",
       mixed + "Content-Type: application/pkcs7-mime; smime-type=signed-data\n"
               "Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHAqCAMIACAQE=\n--m--\n",
       {}},
      {"inside an attached message",
       mixed + "Content-Type: message/rfc822\n\nFrom: b@b.example\nContent-Type: multipart/mixed; "
               "boundary=i\n\n--i\nContent-Type: text/plain\n\n" +
           kArmoredMessage + "--i--\n--m--\n",
       {{CiphertextKind::armored_message, "2.1"}}},
      {"deep inside multiparts",
       "Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/alternative; "
       "boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n--b\nContent-Type: text/html\n\n<pre>\n" +
           kArmoredMessage + "</pre>\n--b--\n--a--\n",
       {{CiphertextKind::armored_message, "1.2"}}},
      {"the entity itself is multipart/encrypted", encrypted_ct() + "\n" + encrypted_body(),
       {{CiphertextKind::multipart_encrypted, ""}}},
  };
  for (const Case& c : cases) {
    const Entity e = entity_ok(crlf(c.entity));
    EXPECT_EQ(e.nested_ciphertext, c.want) << c.name;
    EXPECT_EQ(e.has_nested_ciphertext(), !c.want.empty()) << c.name;
  }
}

TEST(NestedCiphertext, InsideASignedMessage) {
  // A signed (not encrypted) message carrying ciphertext: nested, and the
  // signed part holds it.
  const std::string part = "Content-Type: text/plain\n\n" + kArmoredMessage;
  const Message m = parse_ok(signed_message(part));
  ASSERT_EQ(m.content.kind(), ShapeKind::pgpmime_signed);
  ASSERT_EQ(m.content.nested_ciphertext.size(), 1u);
  EXPECT_EQ(m.content.nested_ciphertext[0].path, "1");
  const Entity inner = entity_ok(std::get<PgpMimeSigned>(m.content.shape).signed_bytes);
  EXPECT_TRUE(inner.has_nested_ciphertext());
}

TEST(NestedCiphertext, EncryptedMessageCarryingMoreCiphertextBeside) {
  const Message m = parse_ok(crlf(
      kHead + "Content-Type: multipart/mixed; boundary=m\n\n--m\n" + encrypted_ct() + "\n" +
      encrypted_body() + "--m\n" + encrypted_ct("e2") + "\n" + encrypted_body("e2") + "--m--\n"));
  EXPECT_EQ(m.content.kind(), ShapeKind::partly_encrypted);
  EXPECT_EQ(m.content.nested_ciphertext.size(), 2u);
}

// ------------------------------------------------------- decrypted content

TEST(ParseEntity, CombinedSignedAndEncryptedPlaintext) {
  // What Thunderbird encrypts when it signs and encrypts in one step.
  const Entity e = entity_ok(crlf(
      "Content-Type: multipart/mixed; boundary=\"----------x\";\n protected-headers=\"v1\"\n"
      "Subject: =?UTF-8?Q?=5BTLP=3ARED=5D_Incident_caf=C3=A9?=\n"
      "From: Alice <alice@a.example>\nTo: list@lists.example\nMessage-ID: <m1@a.example>\n\n"
      "------------x\nContent-Type: text/plain; charset=UTF-8; format=flowed\n"
      "Content-Transfer-Encoding: 8bit\n\nDetails follow.\n\n"
      "------------x\nContent-Type: text/csv; name=\"iocs.csv\"\n"
      "Content-Disposition: attachment; filename=\"iocs.csv\"\n\nip\n192.0.2.1\n"
      "------------x--\n"));
  EXPECT_EQ(e.kind(), ShapeKind::plain);
  EXPECT_TRUE(e.has_protected_headers);
  ASSERT_TRUE(e.protected_subject);
  EXPECT_EQ(*e.protected_subject, "[TLP:RED] Incident caf\xC3\xA9");
  std::vector<std::string> names;
  for (const HeaderField& h : e.protected_headers) names.push_back(h.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Subject", "From", "To", "Message-ID"}));
  EXPECT_EQ(e.body_head, "Details follow.\r\n");  // the last CRLF belongs to the delimiter
  EXPECT_EQ(e.leaf_parts, 2);
  EXPECT_EQ(e.attachments, 1);
  EXPECT_FALSE(e.has_nested_ciphertext());
}

TEST(ParseEntity, ProtectedHeadersNeedTheParameter) {
  const Entity e = entity_ok(crlf("Content-Type: text/plain\nSubject: [TLP:RED] x\n\nbody\n"));
  EXPECT_FALSE(e.has_protected_headers);
  EXPECT_FALSE(e.protected_subject);
  const Entity v2 = entity_ok(
      crlf("Content-Type: text/plain; protected-headers=v2\nSubject: [TLP:RED] x\n\nbody\n"));
  EXPECT_FALSE(v2.has_protected_headers);
  const Entity nosubj =
      entity_ok(crlf("Content-Type: text/plain; protected-headers=\"v1\"\nFrom: a@a.example\n\nb\n"));
  EXPECT_TRUE(nosubj.has_protected_headers);
  EXPECT_FALSE(nosubj.protected_subject);
}

TEST(ParseEntity, SignThenEncryptPlaintextIsMultipartSigned) {
  const std::string part =
      "Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\n"
      "Subject: [TLP:AMBER] inner\n\nhello\n";
  const Entity e = entity_ok(crlf(signed_ct() + "\n" + signed_body(part)));
  ASSERT_EQ(e.kind(), ShapeKind::pgpmime_signed) << reason_of(e.shape);
  const std::string& bytes = std::get<PgpMimeSigned>(e.shape).signed_bytes;
  EXPECT_EQ(bytes, crlf("Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\n"
                        "Subject: [TLP:AMBER] inner\n\nhello\n"));
  // The facts of exactly the verified bytes, protected Subject included.
  const Entity inner = entity_ok(bytes);
  EXPECT_EQ(inner.kind(), ShapeKind::plain);
  ASSERT_TRUE(inner.protected_subject);
  EXPECT_EQ(*inner.protected_subject, "[TLP:AMBER] inner");
  EXPECT_EQ(inner.body_head, "hello\r\n");
}

TEST(ParseEntity, PartlySignedInsideDecryptedContent) {
  const std::string inner_signed =
      signed_ct() + "\n" + signed_body("Content-Type: text/plain\n\nsigned\n");
  const Entity e = entity_ok(crlf("Content-Type: multipart/mixed; boundary=m\n\n--m\n" +
                                  inner_signed +
                                  "\n--m\nContent-Type: text/plain\n\nunsigned\n--m--\n"));
  EXPECT_EQ(e.kind(), ShapeKind::partly_signed);
}

// --------------------------------------------------------------- body head

TEST(BodyHead, Table) {
  struct Case {
    std::string name;
    std::string entity;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"iso-8859-1 quoted-printable",
       "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
       "TLP:AMBER caf=E9\n",
       "TLP:AMBER caf\xC3\xA9\n"},
      {"utf-8 base64",
       "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
       "W1RMUDpSRURdIMOpdMOp\n",
       "[TLP:RED] \xC3\xA9t\xC3\xA9"},
      {"no content type means text/plain", "\n[TLP:GREEN]\n", "[TLP:GREEN]\n"},
      {"first inline text/plain wins",
       "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n"
       "Content-Disposition: attachment; filename=notes.txt\n\nattached\n--m\n"
       "Content-Type: text/plain\n\nthe body\n--m--\n",
       "the body"},
      {"html when there is no text/plain",
       "Content-Type: text/html; charset=utf-8\n\n<html><body><p>[TLP:RED]</p>x</body></html>\n",
       "\n[TLP:RED]\nx\n"},
      {"text/plain preferred over html",
       "Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/html\n\n<b>h</b>\n"
       "--a\nContent-Type: text/plain\n\nplain\n--a--\n",
       "plain"},
      {"unknown charset still gives valid UTF-8",
       "Content-Type: text/plain; charset=x-bogus\n\nok \xFF\n", ""},
  };
  for (const Case& c : cases) {
    const Entity e = entity_ok(c.entity);  // LF only on purpose
    if (c.name == "unknown charset still gives valid UTF-8") {
      EXPECT_EQ(e.body_head.substr(0, 3), "ok ") << c.name;
      continue;
    }
    EXPECT_EQ(e.body_head, c.want) << c.name;
  }
}

TEST(BodyHead, CutAtTheLimit) {
  const Entity e = entity_ok("Content-Type: text/plain\n\n" + std::string(3 * kBodyHeadMax, 'a'));
  EXPECT_EQ(e.body_head.size(), kBodyHeadMax);
  EXPECT_TRUE(e.body_head_truncated);
}

TEST(ParserWarnings, AreKeptWithoutContent) {
  const Message m = parse_ok(crlf("From: a@a.example\nSubject: =?UTF-8?Q?bro ken?=\n"
                                  "Content-Type: text/plain; charset=\"utf-8\"; charset=utf-8\n\nb\n"));
  EXPECT_EQ(m.content.kind(), ShapeKind::plain);
  for (const std::string& w : m.content.parser_warnings) {
    EXPECT_EQ(w.find("bro"), std::string::npos) << w;
  }
}

}  // namespace
}  // namespace tlpmail::mime
