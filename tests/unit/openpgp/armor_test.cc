// Tests of the armor framing checks (pure, no gpg): one block alone,
// blank lines and CRLF around it, text before or after it, a second
// block, missing END lines, stray armor lines inside the signed text.
#include "openpgp/armor.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "support/text.h"

namespace tlpmail::openpgp {
namespace {

const std::string kClear =
    "-----BEGIN PGP SIGNED MESSAGE-----\n"
    "Hash: SHA256\n"
    "\n"
    "hello\n"
    "- -----BEGIN PGP SIGNATURE-----\n"
    "-----BEGIN PGP SIGNATURE-----\n"
    "\n"
    "iHUEARYIAB0WIQ\n"
    "=abcd\n"
    "-----END PGP SIGNATURE-----\n";

const std::string kMessage =
    "-----BEGIN PGP MESSAGE-----\n"
    "\n"
    "hQEMA1234\n"
    "=abcd\n"
    "-----END PGP MESSAGE-----\n";

using ::tlpmail::testing::crlf;

struct FramingCase {
  std::string name;
  std::string text;
  ArmorFraming want;
};

// `check` on every case's text.
void expect_framing(ArmorFraming (*check)(std::string_view),
                    const std::vector<FramingCase>& cases) {
  for (const FramingCase& c : cases) {
    EXPECT_EQ(check(c.text), c.want) << c.name;
  }
}

TEST(ArmorFraming, Clearsigned) {
  expect_framing(
      check_clearsigned_framing,
      {
          {"alone", kClear, ArmorFraming::alone},
          {"crlf", crlf(kClear), ArmorFraming::alone},
          {"blank lines around", "\n \t\n" + kClear + "\n\n  \n", ArmorFraming::alone},
          {"no final newline", kClear.substr(0, kClear.size() - 1), ArmorFraming::alone},
          {"trailing blanks on armor lines",
           "-----BEGIN PGP SIGNED MESSAGE-----  \n" + kClear.substr(35), ArmorFraming::alone},
          {"empty", "", ArmorFraming::absent},
          {"only text", "hello\n", ArmorFraming::absent},
          {"a message, not clearsigned", kMessage, ArmorFraming::absent},
          {"text before", "Hi all\n" + kClear, ArmorFraming::text_outside},
          {"text after", kClear + "--\nsig\n", ArmorFraming::text_outside},
          {"second block", kClear + kClear, ArmorFraming::text_outside},
          {"no signature", kClear.substr(0, kClear.find("-----BEGIN PGP SIGNATURE-----\n\n")),
           ArmorFraming::malformed},
          {"no end line", kClear.substr(0, kClear.find("-----END")), ArmorFraming::malformed},
          {"unescaped armor line in text",
           "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n-----BEGIN PGP MESSAGE-----\n" +
               kClear.substr(kClear.find("-----BEGIN PGP SIGNATURE-----\n\n")),
           ArmorFraming::malformed},
          {"stray line in signature",
           kClear.substr(0, kClear.find("=abcd")) + "-----BEGIN PGP MESSAGE-----\n" +
               kClear.substr(kClear.find("=abcd")),
           ArmorFraming::malformed},
      });
}

TEST(ArmorFraming, Message) {
  expect_framing(
      check_message_framing,
      {
          {"alone", kMessage, ArmorFraming::alone},
          {"crlf and blank lines", "\r\n" + crlf(kMessage) + "\r\n", ArmorFraming::alone},
          {"text before", "see below\n" + kMessage, ArmorFraming::text_outside},
          {"text after", kMessage + "footer\n", ArmorFraming::text_outside},
          {"two messages", kMessage + kMessage, ArmorFraming::text_outside},
          {"no end", kMessage.substr(0, kMessage.find("-----END")), ArmorFraming::malformed},
          {"clearsigned", kClear, ArmorFraming::absent},
          {"nothing", "\n\n", ArmorFraming::absent},
      });
}

TEST(ArmorFraming, ContainsArmor) {
  EXPECT_TRUE(contains_armor(kMessage));
  EXPECT_TRUE(contains_armor("text first\n" + kMessage));
  EXPECT_TRUE(contains_armor(kClear));
  EXPECT_FALSE(contains_armor(std::string("\x85\x01\x0c", 3)));
  EXPECT_FALSE(contains_armor(""));
  EXPECT_FALSE(contains_armor("-----BEGIN PGPX"));
}

}  // namespace
}  // namespace tlpmail::openpgp
