// Tests of nested ciphertext found wherever a client could render it
// (docs/mime.md, "Nested ciphertext"): armor markers in text/html (tags,
// character references, &nbsp;), after leading text, with CR-only line
// ends, split by soft line breaks, in UTF-16 and text/enriched, behind a
// bogus transfer encoding; binary OpenPGP from real gpg behind Marker
// packets, inside compressed packets, in parts of any content type;
// armored blocks of other labels holding ciphertext; DER S/MIME under any
// label; preambles. And what must stay clean: mentions without the
// dashes, keys, signatures, signed-only files, common file formats, text.
#include "mime/nested.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "mime/armor.h"
#include "mime/mime.h"
#include "support/gpg_cli.h"
#include "support/text.h"

namespace tlpmail::mime {
namespace {

using ::tlpmail::testing::crlf;

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
    if ((i / 3 + 1) % 19 == 0) out += '\n';  // 76-character lines
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out + "\n";
}

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += static_cast<char>(x);
  return s;
}

const std::string kMarkerPacket = bytes({0xA8, 0x03, 'P', 'G', 'P'});
const std::string kBody = "hF4DAAAAAAAAAAASAQdAhYOqcQ7c5CM6aNd5U0aMYuHeoeyRdp/Z3ejT2v4gHgQw";
const std::string kArmored = "-----BEGIN PGP MESSAGE-----\n\n" + kBody + "\n=abcd\n-----END PGP MESSAGE-----\n";

// A multipart/mixed entity: a plain text part, then `part` as part 2.
std::string mixed(const std::string& part) {
  return crlf("Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nhi\n--m\n" +
              part + "\n--m--\n");
}

std::string attachment(const std::string& type, const std::string& name, const std::string& data) {
  return "Content-Type: " + type + "; name=\"" + name +
         "\"\nContent-Disposition: attachment; filename=\"" + name +
         "\"\nContent-Transfer-Encoding: base64\n\n" + base64(data);
}

// A throwaway GnuPG home with one test-only key, for real ciphertext.
class Gpg : public ::tlpmail::testing::GpgCli {
 public:
  Gpg() : GpgCli("Nested <nested@test.example>") {}

  std::string out(std::vector<std::string> args,
                  const std::optional<std::string>& input = "NESTED-PLAINTEXT\n") {
    return GpgCli::out(std::move(args), input);
  }
};

class NestedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gpg_ = new Gpg();
    to_key_ = gpg_->out({"--encrypt", "-r", "nested@test.example"});
    symmetric_ = gpg_->out({"--symmetric"});
    signed_file_ = gpg_->out({"--sign"}, std::string(5000, 'x'));
    public_key_ = gpg_->out({"--export", "nested@test.example"}, std::nullopt);
    armored_key_ = gpg_->out({"--armor", "--export", "nested@test.example"}, std::nullopt);
    armored_sig_ = gpg_->out({"--armor", "--detach-sign"});
  }
  static void TearDownTestSuite() {
    delete gpg_;
    gpg_ = nullptr;
  }
  static Gpg* gpg_;
  static std::string to_key_, symmetric_, signed_file_, public_key_, armored_key_, armored_sig_;
};
Gpg* NestedTest::gpg_ = nullptr;
std::string NestedTest::to_key_, NestedTest::symmetric_, NestedTest::signed_file_,
    NestedTest::public_key_, NestedTest::armored_key_, NestedTest::armored_sig_;

struct Case {
  std::string name;
  std::string entity;
  std::vector<CiphertextLocation> want;
};

void check(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    auto e = parse_entity(c.entity);
    ASSERT_TRUE(e) << c.name;
    EXPECT_EQ(e->nested_ciphertext, c.want) << c.name;
  }
}

constexpr auto kArmor = CiphertextKind::armored_message;
constexpr auto kBinary = CiphertextKind::binary_openpgp_message;

TEST_F(NestedTest, ArmorMarkersInHtml) {
  const std::string html = "Content-Type: text/html; charset=utf-8\n\n";
  check({
      {"one paragraph with <br> line breaks",
       mixed(html + "<p>-----BEGIN PGP MESSAGE-----<br>\n<br>\n" + kBody +
             "<br>\n-----END PGP MESSAGE-----</p>\n"),
       {{kArmor, "2"}}},
      {"all on one line, <br> only",
       mixed(html + "<div>-----BEGIN PGP MESSAGE-----<br><br>" + kBody +
             "<br>-----END PGP MESSAGE-----</div>\n"),
       {{kArmor, "2"}}},
      {"first dash as a character reference",
       mixed(html + "&#45;----BEGIN PGP MESSAGE-----<br>" + kBody + "\n"), {{kArmor, "2"}}},
      {"hex character references for letters, no semicolon",
       mixed(html + "-----&#x42;EGIN PGP &#77ESSAGE-----<br>" + kBody + "\n"), {{kArmor, "2"}}},
      {"split by inline tags", mixed(html + "-----BEGIN <b>PGP</b> <span>MESSAGE</span>-----\n"),
       {{kArmor, "2"}}},
      {"non-breaking spaces", mixed(html + "<pre>-----BEGIN&nbsp;PGP&nbsp;MESSAGE-----</pre>\n"),
       {{kArmor, "2"}}},
      {"quoted-printable with a soft line break inside the marker",
       mixed("Content-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n"
             "<p>-----BEGIN PGP MESS=\nAGE-----<br>" + kBody + "</p>\n"),
       {{kArmor, "2"}}},
      {"HTML alone (not multipart)",
       crlf(html + "<html><body><p>Forwarded: -----BEGIN PGP MESSAGE-----</p></body></html>\n"),
       {{kArmor, ""}}},
      {"in the HTML twin of a multipart/alternative",
       crlf("Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain\n\n"
            "see the HTML\n--a\n" + html + "<p>-----BEGIN PGP MESSAGE-----<br>" + kBody +
            "</p>\n--a--\n"),
       {{kArmor, "2"}}},
  });
}

TEST_F(NestedTest, ArmorMarkersInText) {
  check({
      {"leading text on the BEGIN line",
       mixed("Content-Type: text/plain\n\nForwarded: -----BEGIN PGP MESSAGE-----\n\n" + kBody +
             "\n-----END PGP MESSAGE-----\n"),
       {{kArmor, "2"}}},
      {"trailing text on the BEGIN line",
       mixed("Content-Type: text/plain\n\n-----BEGIN PGP MESSAGE----- (below)\n\n" + kBody + "\n"),
       {{kArmor, "2"}}},
      {"quoted with '> '", mixed("Content-Type: text/plain\n\n> -----BEGIN PGP MESSAGE-----\n> \n> " +
                                 kBody + "\n"),
       {{kArmor, "2"}}},
      {"CR-only line ends (old Mac), base64",
       mixed("Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" +
             base64("-----BEGIN PGP MESSAGE-----\r\r" + kBody + "\r=abcd\r-----END PGP MESSAGE-----\r")),
       {{kArmor, "2"}}},
      {"format=flowed soft break inside the marker",
       mixed("Content-Type: text/plain; format=flowed; delsp=yes\n\n-----BEGIN PGP MESS \nAGE-----\n\n" +
             kBody + "\n"),
       {{kArmor, "2"}}},
      {"lower case", mixed("Content-Type: text/plain\n\n-----begin pgp message-----\n"),
       {{kArmor, "2"}}},
      {"UTF-16 text", mixed("Content-Type: text/plain; charset=utf-16le\n"
                            "Content-Transfer-Encoding: base64\n\n" +
                            base64(bytes({'-', 0, '-', 0, '-', 0, '-', 0, '-', 0}) +
                                   bytes({'B', 0, 'E', 0, 'G', 0, 'I', 0, 'N', 0, ' ', 0}) +
                                   bytes({'P', 0, 'G', 0, 'P', 0, ' ', 0, 'M', 0, 'E', 0}) +
                                   bytes({'S', 0, 'S', 0, 'A', 0, 'G', 0, 'E', 0, '-', 0}))),
       {{kArmor, "2"}}},
      {"text/enriched", mixed("Content-Type: text/enriched\n\n<bold>-----BEGIN PGP</bold> "
                              "<italic>MESSAGE-----</italic>\n"),
       {{kArmor, "2"}}},
      {"declared base64 but sent as it is",
       mixed("Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + kArmored),
       {{kArmor, "2"}}},
      {"an attached file.txt", mixed(attachment("text/plain", "notes.txt", "x " + kArmored)),
       {{kArmor, "2"}}},
      {"the preamble of a nested multipart",
       mixed("Content-Type: multipart/mixed; boundary=n\n\n" + kArmored +
             "--n\nContent-Type: text/plain\n\nx\n--n--\n"),
       {{kArmor, "2"}}},
      {"an attached message's HTML body",
       mixed("Content-Type: message/rfc822\n\nFrom: b@b.example\nContent-Type: text/html\n\n"
             "<p>-----BEGIN PGP MESSAGE-----<br>" + kBody + "</p>\n"),
       {{kArmor, "2"}}},
  });
}

TEST_F(NestedTest, BinaryOpenPgpInAnyPart) {
  const std::string zip_around =  // compressed packet, algorithm 0 (uncompressed)
      bytes({0xC8, 0xFF, 0, 0, static_cast<int>((to_key_.size() + 1) >> 8) & 0xFF,
             static_cast<int>(to_key_.size() + 1) & 0xFF, 0}) +
      to_key_;
  check({
      {"image/png: Marker + PKESK + SEIPD from gpg",
       mixed(attachment("image/png", "chart.png", kMarkerPacket + to_key_)), {{kBinary, "2"}}},
      {"application/octet-stream: Marker + SKESK + SEIPD",
       mixed(attachment("application/octet-stream", "data.bin", kMarkerPacket + symmetric_)),
       {{kBinary, "2"}}},
      {"text/plain; name=report.gpg (binary in a text part)",
       mixed(attachment("text/plain", "report.gpg", kMarkerPacket + to_key_)), {{kBinary, "2"}}},
      {"text/html carrying binary", mixed(attachment("text/html", "x.html", to_key_)),
       {{kBinary, "2"}}},
      {"inside a compressed packet", mixed(attachment("application/pdf", "r.pdf", zip_around)),
       {{kBinary, "2"}}},
      {"in a base64 message/rfc822 (kept as a leaf by GMime)",
       mixed("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n" +
             base64(crlf("From: b@b.example\nContent-Type: multipart/mixed; boundary=q\n\n--q\n" +
                         attachment("image/png", "x.png", kMarkerPacket + to_key_) + "--q--\n"))),
       {{kBinary, "2.1"}}},
      {"in a base64 message/global (RFC 6532)",
       mixed("Content-Type: message/global\nContent-Transfer-Encoding: base64\n\n" +
             base64(crlf("From: b@b.example\nContent-Type: application/octet-stream\n"
                         "Content-Transfer-Encoding: base64\n\n" + base64(symmetric_)))),
       {{kBinary, "2"}}},
      {"armored with the SIGNATURE label",
       mixed(attachment("application/pgp-signature", "sig.asc",
                        "-----BEGIN PGP SIGNATURE-----\n\n" + base64(to_key_) +
                            "-----END PGP SIGNATURE-----\n")),
       {{kArmor, "2"}}},
      {"armored as PUBLIC KEY BLOCK after leading text, CR-only lines",
       mixed("Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" +
             base64("key: -----BEGIN PGP PUBLIC KEY BLOCK-----\rComment: x\r\r" +
                    base64(kMarkerPacket + symmetric_) + "-----END PGP PUBLIC KEY BLOCK-----\r")),
       {{kArmor, "2"}}},
  });
}

TEST_F(NestedTest, SmimeUnderAnyLabel) {
  // ContentInfo { enveloped-data, [0] ... } (indefinite lengths, as Outlook writes).
  const std::string enveloped =
      bytes({0x30, 0x80, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03,
             0xA0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x00});
  const std::string auth_enveloped =
      bytes({0x30, 0x82, 0x01, 0x00, 0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01,
             0x09, 0x10, 0x01, 0x17, 0xA0});
  const std::string signed_data =
      bytes({0x30, 0x80, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02,
             0xA0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x01});
  check({
      {"smime.p7m as application/octet-stream",
       mixed(attachment("application/octet-stream", "smime.p7m", enveloped)),
       {{CiphertextKind::smime_enveloped, "2"}}},
      {"authEnveloped-data", mixed(attachment("application/octet-stream", "x.p7m", auth_enveloped)),
       {{CiphertextKind::smime_enveloped, "2"}}},
      {"signed-data is not ciphertext",
       mixed(attachment("application/octet-stream", "x.p7s", signed_data)), {}},
  });
}

TEST_F(NestedTest, CleanContentStaysClean) {
  const std::string png = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + std::string(200, '\x07');
  check({
      {"mentions without the dashes",
       mixed("Content-Type: text/plain\n\nPaste the block that starts with BEGIN PGP MESSAGE, "
             "or ----BEGIN PGP MESSAGE with four dashes.\n"),
       {}},
      {"HTML mention without the dashes",
       mixed("Content-Type: text/html\n\n<p>Paste the <b>BEGIN PGP MESSAGE</b> block.</p>\n"), {}},
      {"armored public key in the text", mixed("Content-Type: text/plain\n\nMy key:\n" + armored_key_),
       {}},
      {"armored public key in HTML, after text",
       mixed("Content-Type: text/html\n\n<pre>key: " + armored_key_ + "</pre>\n"), {}},
      {"armored detached signature attached",
       mixed(attachment("application/pgp-signature", "report.pdf.asc", armored_sig_)), {}},
      {"binary public key", mixed(attachment("application/pgp-keys", "key.gpg", public_key_)), {}},
      {"a file signed with gpg --sign (compressed, not encrypted)",
       mixed(attachment("application/octet-stream", "report.txt.gpg", signed_file_)), {}},
      {"PNG", mixed(attachment("image/png", "a.png", png)), {}},
      {"PDF", mixed(attachment("application/pdf", "a.pdf", "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n")),
       {}},
      {"Latin-1 text starting with a section sign",
       mixed("Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
             "\xA7 1 Abs. 2 gilt entsprechend.\n"),
       {}},
      {"Latin-1 text starting with E acute",
       mixed("Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
             "\xC9quipe de r\xE9ponse.\n"),
       {}},
      {"a signed text quoting the signed-message header",
       mixed("Content-Type: text/plain\n\nIt starts with -----BEGIN PGP SIGNED MESSAGE----- "
             "and a Hash line.\n"),
       {}},
  });
}

TEST_F(NestedTest, SignedMessageWithCiphertextInItsHtmlTwin) {
  const std::string sig =
      "-----BEGIN PGP SIGNATURE-----\n\niHUEARYIAB0WIQQ=\n=abcd\n-----END PGP SIGNATURE-----\n";
  const std::string raw = crlf(
      "From: Alice <alice@a.example>\nSubject: s\nMIME-Version: 1.0\n"
      "Content-Type: multipart/signed; micalg=pgp-sha256;\n protocol=\"application/pgp-signature\"; "
      "boundary=\"sig\"\n\n--sig\nContent-Type: multipart/alternative; boundary=a\n\n--a\n"
      "Content-Type: text/plain\n\nsee below\n--a\nContent-Type: text/html\n\n"
      "<p>-----BEGIN PGP MESSAGE-----<br>" + kBody + "<br>-----END PGP MESSAGE-----</p>\n"
      "--a--\n\n--sig\nContent-Type: application/pgp-signature\n\n" + sig + "\n--sig--\n");
  auto m = parse_message(raw);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->content.kind(), ShapeKind::pgpmime_signed);
  EXPECT_EQ(m->content.nested_ciphertext, (std::vector<CiphertextLocation>{{kArmor, "1.2"}}));
  auto inner = parse_entity(std::get<PgpMimeSigned>(m->content.shape).signed_bytes);
  ASSERT_TRUE(inner);
  EXPECT_EQ(inner->nested_ciphertext, (std::vector<CiphertextLocation>{{kArmor, "2"}}));
}

TEST_F(NestedTest, InlineEncryptedRootKeepsOnlyItsOwnLayer) {
  const std::string head = "From: Alice <alice@a.example>\nSubject: s\n\n";
  auto own = parse_message(crlf(head + kArmored));
  ASSERT_TRUE(own);
  EXPECT_EQ(own->content.kind(), ShapeKind::inline_encrypted);
  EXPECT_TRUE(own->content.nested_ciphertext.empty());
  // A second marker inside the block (an armor header) is more than the
  // message's own layer.
  auto twice = parse_message(crlf(head + "-----BEGIN PGP MESSAGE-----\nComment: "
                                         "-----BEGIN PGP MESSAGE-----\n\n" + kBody +
                                  "\n-----END PGP MESSAGE-----\n"));
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->content.kind(), ShapeKind::inline_encrypted);
  EXPECT_EQ(twice->content.nested_ciphertext, (std::vector<CiphertextLocation>{{kArmor, ""}}));
}

TEST_F(NestedTest, ParseTextReadsTheSameWays) {
  EXPECT_TRUE(parse_text("Forwarded: -----BEGIN PGP MESSAGE-----\n" + kBody + "\n").has_nested_ciphertext());
  EXPECT_TRUE(parse_text("-----BEGIN PGP MESSAGE-----\r\r" + kBody + "\r").has_nested_ciphertext());
  const Entity binary = parse_text(kMarkerPacket + symmetric_);
  EXPECT_EQ(binary.nested_ciphertext, (std::vector<CiphertextLocation>{{kBinary, ""}}));
  EXPECT_FALSE(parse_text("BEGIN PGP MESSAGE is how it starts.\n").has_nested_ciphertext());
  EXPECT_FALSE(parse_text(armored_key_).has_nested_ciphertext());
}

TEST(MarkerScanner, FedInPieces) {
  // The marker split across feed() calls, inside an entity and a tag.
  MarkerScanner s(true);
  for (std::string_view piece : {"x --", "---BEG", "IN PG", "P &#7", "7;ESS<", "br>AGE", "-----"}) {
    s.feed(piece);
  }
  EXPECT_EQ(s.count(), 1);
  MarkerScanner plain(false);
  plain.feed("------BEGIN PGP MESSAGE----- and -----BEGIN PGP MESSAGE-----");
  EXPECT_EQ(plain.count(), 2);
  EXPECT_EQ(count_armor_markers("----BEGIN PGP MESSAGE"), 0);
  EXPECT_EQ(count_armor_markers("-----BEGIN PGP SIGNED MESSAGE-----"), 0);
  // A tag that never closes hides nothing from the plain reading.
  EXPECT_EQ(count_armor_markers("<p -----BEGIN PGP MESSAGE-----"), 1);
}

}  // namespace
}  // namespace tlpmail::mime
