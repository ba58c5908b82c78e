// parse_commands() as a table: case, blank and quoted lines, the signature
// separator, the first unknown line stopping the rest, the limits.
#include "requests/commands.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tlpmail::requests {
namespace {

using C = Command;

TEST(ParseCommands, Table) {
  struct Case {
    std::string name, text;
    std::vector<Command> want;
    std::optional<std::string> stopped_at;
  };
  const std::vector<Case> cases = {
      {"empty", "", {}, std::nullopt},
      {"one", "help", {C::help}, std::nullopt},
      {"every command, any case, CRLF", "HELP\r\nKey\r\nmembers\r\nUpdate-Key\r\nmy-key\r\n",
       {C::help, C::key, C::members, C::update_key, C::my_key}, std::nullopt},
      {"blank, blanks and quoted lines are skipped", "\n  help  \n\t\n> key\n>\nmembers\n",
       {C::help, C::members}, std::nullopt},
      {"signature block ends the commands", "key\n-- \nAlice\nhelp\n", {C::key}, std::nullopt},
      {"'--' without the space is a line", "key\n--\nhelp\n", {C::key}, "--"},
      {"unknown line stops the rest", "help\nsubscribe me\nkey\n", {C::help}, "subscribe me"},
      {"a command with an argument is unknown", "key please\n", {}, "key please"},
      {"unknown first line", "Hi list,\nhelp\n", {}, "Hi list,"},
      {"shown line cleaned", "hel\x01p\n", {}, "hel?p"},
      {"twice counts twice", "key\nkey\n", {C::key, C::key}, std::nullopt},
  };
  for (const Case& c : cases) {
    const ParsedCommands got = parse_commands(c.text);
    EXPECT_EQ(got.commands, c.want) << c.name;
    EXPECT_EQ(got.stopped_at, c.stopped_at) << c.name;
  }
}

TEST(ParseCommands, Limits) {
  std::string many;
  for (std::size_t i = 0; i < kMaxCommands + 1; ++i) many += "help\n";
  const ParsedCommands got = parse_commands(many);
  EXPECT_EQ(got.commands.size(), kMaxCommands);
  EXPECT_EQ(got.stopped_at, "help");

  const std::string long_line(500, 'x');
  const ParsedCommands cut = parse_commands(long_line);
  ASSERT_TRUE(cut.stopped_at);
  EXPECT_EQ(*cut.stopped_at, std::string(80, 'x') + "...");

  // Only kMaxText bytes are read: a command after them is not seen.
  const std::string padded = std::string(kMaxText, '\n') + "help\n";
  EXPECT_TRUE(parse_commands(padded).commands.empty());
}

TEST(CommandNames, RoundTrip) {
  for (C c : {C::help, C::key, C::members, C::update_key, C::my_key}) {
    EXPECT_EQ(parse_commands(std::string(to_string(c))).commands, std::vector<Command>{c});
  }
}

}  // namespace
}  // namespace tlpmail::requests
