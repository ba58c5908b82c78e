// Tests of the inline PGP rules: armor block scanning, the whole-body rule
// (inline_clearsigned / inline_encrypted vs partly_* vs malformed),
// clearsigned_text() and the binary OpenPGP message sniffing.
#include "mime/armor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mime/mime.h"
#include "support/text.h"

namespace tlpmail::mime {
namespace {

using ::tlpmail::testing::crlf;

const std::string kClear =
    "-----BEGIN PGP SIGNED MESSAGE-----\n"
    "Hash: SHA256\n"
    "\n"
    "[TLP:AMBER] hello\n"
    "- -----BEGIN PGP MESSAGE-----\n"
    "- -- dash line\n"
    "-----BEGIN PGP SIGNATURE-----\n"
    "\n"
    "iHUEARYIAB0WIQ==\n"
    "-----END PGP SIGNATURE-----";

const std::string kMessage =
    "-----BEGIN PGP MESSAGE-----\n"
    "\n"
    "hF4DAAAAAAAAAAASAQdA\n"
    "=abcd\n"
    "-----END PGP MESSAGE-----";

const std::string kKey =
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----";

TEST(FindArmorBlocks, FindsKindsAndBounds) {
  const std::string text = "hi\n" + kClear + "\n\n  " + kMessage + "\n" + kKey + "\n";
  const std::vector<ArmorBlock> got = find_armor_blocks(text);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].kind, ArmorKind::signed_message);
  EXPECT_EQ(text.substr(got[0].begin, got[0].end - got[0].begin), kClear);
  EXPECT_EQ(got[1].kind, ArmorKind::message);
  EXPECT_EQ(text.substr(got[1].begin, got[1].end - got[1].begin), kMessage);
  EXPECT_EQ(got[2].kind, ArmorKind::public_key);
  for (const ArmorBlock& b : got) EXPECT_TRUE(b.terminated);
}

TEST(FindArmorBlocks, DashEscapedAndQuotedLinesAreNotMarkers) {
  EXPECT_TRUE(find_armor_blocks("- -----BEGIN PGP MESSAGE-----\nx\n").empty());
  EXPECT_TRUE(find_armor_blocks("> -----BEGIN PGP MESSAGE-----\n> x\n").empty());
  EXPECT_TRUE(find_armor_blocks("text -----BEGIN PGP MESSAGE-----\n").empty());
}

// RFC 4880 6.2: "BEGIN PGP MESSAGE, PART X/Y" is an encrypted message too
// (cppcheck found the prefix compared with a length of 15 for 14 letters).
TEST(FindArmorBlocks, MultiPartMessageIsAMessage) {
  const std::string text =
      "-----BEGIN PGP MESSAGE, PART 1/2-----\nabc\n-----END PGP MESSAGE, PART 1/2-----\n";
  const std::vector<ArmorBlock> got = find_armor_blocks(text);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, ArmorKind::message);
  EXPECT_TRUE(got[0].terminated);
  EXPECT_TRUE(std::holds_alternative<InlineEncrypted>(classify_inline(text, "the body")));
}

TEST(FindArmorBlocks, UnterminatedRunsToTheEnd) {
  const std::string text = "a\n-----BEGIN PGP MESSAGE-----\nabc\n";
  const std::vector<ArmorBlock> got = find_armor_blocks(text);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].terminated);
  EXPECT_EQ(got[0].end, text.size());
}

TEST(FindArmorBlocks, CrlfAndIndentedMarkers) {
  const std::string text = "  -----BEGIN PGP MESSAGE-----  \r\n\r\nx\r\n\t-----END PGP MESSAGE-----\r\n";
  const std::vector<ArmorBlock> got = find_armor_blocks(text);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].terminated);
  EXPECT_EQ(got[0].begin, 2u);
  EXPECT_EQ(text.substr(got[0].end - 5, 5), "-----");
}

TEST(ClassifyInline, Table) {
  struct Case {
    std::string name;
    std::string text;
    ShapeKind want;
  };
  const std::vector<Case> cases = {
      {"plain text", "hello\nworld\n", ShapeKind::plain},
      {"empty", "", ShapeKind::plain},
      {"only a key block", kKey, ShapeKind::plain},
      {"clearsigned alone", kClear, ShapeKind::inline_clearsigned},
      {"clearsigned with whitespace around", "\n \r\n" + kClear + "\r\n\r\n  \n",
       ShapeKind::inline_clearsigned},
      {"message alone", kMessage + "\n", ShapeKind::inline_encrypted},
      {"text before clearsigned", "Hi all,\n" + kClear, ShapeKind::partly_signed},
      {"text after clearsigned", kClear + "\n-- \nsig\n", ShapeKind::partly_signed},
      {"two clearsigned blocks", kClear + "\n" + kClear, ShapeKind::partly_signed},
      {"clearsigned plus key", kClear + "\n" + kKey, ShapeKind::partly_signed},
      {"text before message", "see below\n" + kMessage, ShapeKind::partly_encrypted},
      {"two messages", kMessage + "\n" + kMessage, ShapeKind::partly_encrypted},
      {"clearsigned and message", kClear + "\n" + kMessage, ShapeKind::partly_signed},
      {"unterminated message", "-----BEGIN PGP MESSAGE-----\nabc\n", ShapeKind::malformed},
      {"clearsigned without signature",
       "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\ntext\n", ShapeKind::malformed},
      {"clearsigned signature unterminated",
       "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nt\n-----BEGIN PGP SIGNATURE-----\nx\n",
       ShapeKind::malformed},
  };
  for (const Case& c : cases) {
    const Shape got = classify_inline(c.text, "the body");
    EXPECT_EQ(kind_of(got), c.want) << c.name;
  }
}

TEST(ClassifyInline, BlockIsExact) {
  const std::string text = "\r\n" + kClear + "\r\n";
  const Shape got = classify_inline(text, "the body");
  ASSERT_TRUE(std::holds_alternative<InlineClearsigned>(got));
  EXPECT_EQ(std::get<InlineClearsigned>(got).block, kClear);
  const Shape enc = classify_inline("  " + kMessage + " \n", "the body");
  ASSERT_TRUE(std::holds_alternative<InlineEncrypted>(enc));
  EXPECT_EQ(std::get<InlineEncrypted>(enc).block, kMessage);
}

TEST(ClassifyInline, ReasonsNameThePlace) {
  const Shape got = classify_inline("x\n" + kClear, "part 2");
  ASSERT_TRUE(std::holds_alternative<PartlySigned>(got));
  EXPECT_EQ(std::get<PartlySigned>(got).reason,
            "an inline signed block in part 2 is not the whole message");
}

TEST(ClearsignedText, UnescapesAndDropsTheLastLineBreak) {
  auto got = clearsigned_text(kClear);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, "[TLP:AMBER] hello\n-----BEGIN PGP MESSAGE-----\n-- dash line");
}

TEST(ClearsignedText, Crlf) {
  auto got = clearsigned_text(crlf(kClear));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "[TLP:AMBER] hello\n-----BEGIN PGP MESSAGE-----\n-- dash line");
}

TEST(ClearsignedText, Errors) {
  const std::vector<std::string> bad = {
      "",
      kMessage,
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n",
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\ntext without signature\n",
      "-----BEGIN PGP SIGNED MESSAGE-----\nno colon header\n\nt\n-----BEGIN PGP SIGNATURE-----\n",
  };
  for (const std::string& b : bad) {
    auto got = clearsigned_text(b);
    ASSERT_FALSE(got) << b;
    EXPECT_EQ(got.error().message, "not a clearsigned block");
    EXPECT_EQ(got.error().kind, ErrorClass::refused);
  }
}

TEST(ParseText, ClassifiesAndFindsNestedMessages) {
  const Entity plain = parse_text("[TLP:RED] hello\n");
  EXPECT_EQ(plain.kind(), ShapeKind::plain);
  EXPECT_FALSE(plain.has_nested_ciphertext());
  EXPECT_EQ(plain.body_head, "[TLP:RED] hello\n");

  const Entity nested = parse_text("inner:\n" + kMessage + "\n");
  EXPECT_EQ(nested.kind(), ShapeKind::partly_encrypted);
  ASSERT_EQ(nested.nested_ciphertext.size(), 1u);
  EXPECT_EQ(nested.nested_ciphertext[0].kind, CiphertextKind::armored_message);

  // A decrypted inline text that is itself clearsigned (sign, then encrypt).
  const Entity signed_inside = parse_text(kClear + "\n");
  EXPECT_EQ(signed_inside.kind(), ShapeKind::inline_clearsigned);
  EXPECT_FALSE(signed_inside.has_nested_ciphertext());
}

TEST(ParseText, BodyHeadIsValidUtf8AndCut) {
  const Entity e = parse_text(std::string("caf\xE9 \xFF ok"));
  EXPECT_EQ(e.body_head, "caf\xEF\xBF\xBD \xEF\xBF\xBD ok");
  const Entity big = parse_text(std::string(kBodyHeadMax * 2, 'x'));
  EXPECT_EQ(big.body_head.size(), kBodyHeadMax);
  EXPECT_TRUE(big.body_head_truncated);
}

TEST(LooksLikeBinaryOpenpgpMessage, Table) {
  struct Case {
    std::string name;
    std::string data;
    bool want;
  };
  const std::vector<Case> cases = {
      {"new format PKESK v3", std::string("\xC1\x5E\x03\x00", 4), true},
      {"old format PKESK v3 (1-byte length)", std::string("\x84\x5E\x03\x00", 4), true},
      {"old format PKESK v3 (2-byte length)", std::string("\x85\x01\x0C\x03\x00", 5), true},
      {"new format SKESK v4", std::string("\xC3\x0D\x04\x09", 4), true},
      {"old format SKESK v4", std::string("\x8C\x0D\x04\x09", 4), true},
      {"PKESK with a wrong version", std::string("\xC1\x5E\x09\x00", 4), false},
      {"signature packet", std::string("\x89\x01\x33\x04", 4), false},
      {"PNG", std::string("\x89PNG\r\n\x1a\n", 8), false},
      {"PDF", "%PDF-1.7", false},
      {"ZIP", "PK\x03\x04", false},
      {"too short", std::string("\xC1\x5E", 2), false},
      {"empty", "", false},
  };
  for (const Case& c : cases) EXPECT_EQ(looks_like_binary_openpgp_message(c.data), c.want) << c.name;
}

}  // namespace
}  // namespace tlpmail::mime
