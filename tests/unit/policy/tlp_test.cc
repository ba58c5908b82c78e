// Tables for lib/policy/tlp.h: names and order, every spelling of a label
// that must be found, every look-alike that must not, loose mentions, the
// body-head window, and the copy's Subject. Each row names its case.
#include "policy/tlp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "print.h"

namespace tlpmail::policy {
namespace {

TEST(TlpNames, ToStringLabelTextAndSubjectTag) {
  struct Case {
    Tlp t;
    std::string_view name, label, tag;
  };
  const Case cases[] = {
      {kClear, "CLEAR", "TLP:CLEAR", "[TLP:CLEAR]"},
      {kGreen, "GREEN", "TLP:GREEN", "[TLP:GREEN]"},
      {kAmber, "AMBER", "TLP:AMBER", "[TLP:AMBER]"},
      {kStrict, "AMBER+STRICT", "TLP:AMBER+STRICT", "[TLP:AMBER+STRICT]"},
      {kRed, "RED", "TLP:RED", "[TLP:RED]"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(to_string(c.t), c.name);
    EXPECT_EQ(label_text(c.t), c.label);
    EXPECT_EQ(subject_tag(c.t), c.tag);
    // Every label's own text is found as that label: the round trip the
    // copies rely on (a reply to a copy carries the copy's label).
    EXPECT_EQ(most_restrictive(label_text(c.t)), c.t) << c.label;
    EXPECT_EQ(most_restrictive(subject_tag(c.t) + " subject"), c.t) << c.tag;
    EXPECT_EQ(parse_name(c.name), c.t) << c.name;
  }
}

TEST(TlpNames, OrderIsClearGreenAmberStrictRed) {
  const Tlp ordered[] = {kClear, kGreen, kAmber, kStrict, kRed};
  for (std::size_t i = 0; i + 1 < std::size(ordered); ++i) {
    EXPECT_LT(ordered[i], ordered[i + 1]) << to_string(ordered[i]);
    EXPECT_EQ(std::max(ordered[i], ordered[i + 1]), ordered[i + 1]);
  }
}

TEST(TlpNames, SharingRuleIsOneDistinctSentence) {
  const Tlp all[] = {kClear, kGreen, kAmber, kStrict, kRed};
  for (Tlp a : all) {
    std::string_view rule = sharing_rule(a);
    ASSERT_FALSE(rule.empty()) << to_string(a);
    EXPECT_EQ(rule.back(), '.') << rule;
    EXPECT_EQ(rule.find(". "), std::string_view::npos) << "more than one sentence: " << rule;
    for (Tlp b : all) {
      if (a != b) {
        EXPECT_NE(rule, sharing_rule(b));
      }
    }
  }
  // The two AMBERs differ exactly on clients.
  EXPECT_NE(sharing_rule(kAmber).find("with its clients"), std::string_view::npos);
  EXPECT_NE(sharing_rule(kStrict).find("not with its clients"), std::string_view::npos);
}

TEST(TlpNames, ParseName) {
  struct Case {
    std::string_view name;
    std::string_view in;
    std::optional<Tlp> want;
  };
  const Case cases[] = {
      {"upper", "RED", kRed},
      {"lower", "red", kRed},
      {"mixed", "Amber", kAmber},
      {"strict lower", "amber+strict", kStrict},
      {"strict upper", "AMBER+STRICT", kStrict},
      {"white reads as clear", "WHITE", kClear},
      {"white lower", "white", kClear},
      {"clear", "CLEAR", kClear},
      {"green", "GREEN", kGreen},
      {"empty", "", kNone},
      {"with prefix", "TLP:RED", kNone},
      {"leading space", " RED", kNone},
      {"trailing space", "RED ", kNone},
      {"strict with spaces", "AMBER + STRICT", kNone},
      {"strict with dash", "AMBER-STRICT", kNone},
      {"strict alone", "STRICT", kNone},
      {"unknown", "BLUE", kNone},
      {"look-alike", "REDACTED", kNone},
      {"prefix of a name", "AMB", kNone},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(parse_name(c.in), c.want) << c.name;
  }
}

struct ScanCase {
  std::string_view name;
  std::string_view text;
  std::optional<Tlp> want_label;
  std::optional<Tlp> want_loose;
};

void run_scan_cases(const std::vector<ScanCase>& cases) {
  for (const ScanCase& c : cases) {
    LabelScan got = scan_text(c.text);
    EXPECT_EQ(got.label, c.want_label) << c.name << ": \"" << c.text << "\"";
    EXPECT_EQ(got.loose, c.want_loose) << c.name << ": \"" << c.text << "\"";
    EXPECT_EQ(most_restrictive(c.text), c.want_label) << c.name;
  }
}

TEST(TlpScan, EverySpellingOfALabel) {
  run_scan_cases({
      {"canonical", "TLP:AMBER", kAmber, kNone},
      {"bracketed subject", "[TLP:AMBER] Phishing wave against energy sector", kAmber, kNone},
      {"space after colon", "TLP: AMBER", kAmber, kNone},
      {"space before colon", "TLP :AMBER", kAmber, kNone},
      {"spaces around colon", "TLP : AMBER", kAmber, kNone},
      {"tab after colon", "TLP:\tAMBER", kAmber, kNone},
      {"several spaces", "TLP:   AMBER", kAmber, kNone},
      {"no-break space", "TLP:\xC2\xA0" "AMBER", kAmber, kNone},
      {"lower case", "tlp:amber", kAmber, kNone},
      {"mixed case", "Tlp:Amber", kAmber, kNone},
      {"strict", "TLP:AMBER+STRICT", kStrict, kNone},
      {"strict lower", "tlp:amber+strict", kStrict, kNone},
      {"strict bracketed", "[TLP:AMBER+STRICT]", kStrict, kNone},
      {"strict spaced plus", "TLP:AMBER + STRICT", kStrict, kNone},
      {"strict plus then space", "TLP:AMBER+ STRICT", kStrict, kNone},
      {"strict space then plus", "TLP:AMBER +STRICT", kStrict, kNone},
      {"strict space only", "TLP:AMBER STRICT", kStrict, kNone},
      {"strict dash", "TLP:AMBER-STRICT", kStrict, kNone},
      {"strict underscore", "TLP:AMBER_STRICT", kStrict, kNone},
      {"strict slash", "TLP:AMBER/STRICT", kStrict, kNone},
      {"strict joined", "TLP:AMBERSTRICT", kStrict, kNone},
      {"strict then dot", "TLP:AMBER+STRICT.", kStrict, kNone},
      {"white is clear", "TLP:WHITE", kClear, kNone},
      {"white lower", "tlp:white", kClear, kNone},
      {"clear", "TLP:CLEAR", kClear, kNone},
      {"green", "TLP:GREEN", kGreen, kNone},
      {"red", "TLP:RED", kRed, kNone},
      {"then dot", "This is TLP:AMBER.", kAmber, kNone},
      {"then bracket", "[TLP:AMBER]", kAmber, kNone},
      {"then comma", "TLP:AMBER, please", kAmber, kNone},
      {"then semicolon", "TLP:AMBER;", kAmber, kNone},
      {"then colon", "TLP:AMBER: report", kAmber, kNone},
      {"then slash", "TLP:AMBER/", kAmber, kNone},
      {"then exclamation", "TLP:RED!", kRed, kNone},
      {"parenthesised", "(TLP:RED)", kRed, kNone},
      {"then CR", "TLP:RED\r", kRed, kNone},
      {"then LF", "TLP:RED\nmore", kRed, kNone},
      {"then em dash", "TLP:AMBER\xE2\x80\x94" "Phishing", kAmber, kNone},
      {"guillemets", "\xC2\xABTLP:RED\xC2\xBB", kRed, kNone},
      {"after non-ASCII letter", "\xC3\xA9TLP:RED", kRed, kNone},
      {"after colon", "Re:TLP:RED", kRed, kNone},
      {"after underscore", "_TLP:RED", kRed, kNone},
      {"after dash", "X-TLP: RED", kRed, kNone},
      {"amber then strictly", "TLP:AMBER strictly between us", kAmber, kNone},
      {"amber then strict word later", "TLP:AMBER, strict", kAmber, kNone},
      {"in a sentence", "Shared under TLP:GREEN with the sector.", kGreen, kNone},
  });
}

TEST(TlpScan, LookAlikesAreNotLabels) {
  run_scan_cases({
      {"trailing letter", "TLP:AMBERX", kNone, kNone},
      {"leading letter", "XTLP:RED", kNone, kNone},
      {"leading digit", "1TLP:RED", kNone, kNone},
      {"redacted", "TLP:REDACTED", kNone, kNone},
      {"trailing digit", "TLP:RED5", kNone, kNone},
      {"greenish", "TLP:GREENISH", kNone, kNone},
      {"whitehat", "TLP:WHITEHAT", kNone, kNone},
      {"clearly", "TLP:CLEARLY", kNone, kNone},
      {"redd", "TLP:REDD", kNone, kNone},
      {"strict then letter", "TLP:AMBERSTRICTX", kNone, kNone},
      {"unknown colour", "TLP:BLUE", kNone, kNone},
      {"no separator", "TLPRED", kNone, kNone},
      {"tlp alone", "TLP", kNone, kNone},
      {"colon at end", "TLP:", kNone, kNone},
      {"colon space at end", "TLP: ", kNone, kNone},
      {"version number", "moving to TLP 2.0 next year", kNone, kNone},
      {"word containing tlp", "ATLP RED", kNone, kNone},
      {"newline is no separator", "TLP:\nRED", kNone, kNone},
      {"strict without amber", "TLP:STRICT", kNone, kNone},
      {"empty", "", kNone, kNone},
      {"no label at all", "Phishing wave against energy sector", kNone, kNone},
      {"loose look-alike", "TLP REDACTED", kNone, kNone},
      {"loose trailing digit", "TLP RED5", kNone, kNone},
      {"loose leading letter", "XTLP RED", kNone, kNone},
  });
}

TEST(TlpScan, LooseMentionsOnlyRaise) {
  run_scan_cases({
      {"space instead of colon", "TLP RED", kNone, kRed},
      {"dash instead of colon", "TLP-RED", kNone, kRed},
      {"underscore instead of colon", "TLP_RED", kNone, kRed},
      {"spaced dash", "TLP - RED", kNone, kRed},
      {"tab", "TLP\tRED", kNone, kRed},
      {"double colon", "TLP::RED", kNone, kRed},
      {"colon and dash", "TLP:-RED", kNone, kRed},
      {"dash and colon", "TLP-:RED", kNone, kRed},
      {"lower case", "tlp amber", kNone, kAmber},
      {"loose strict", "TLP AMBER+STRICT", kNone, kStrict},
      {"loose strict spaced", "TLP AMBER STRICT", kNone, kStrict},
      {"name then dash", "TLP:RED-team", kNone, kRed},
      {"name then underscore", "TLP:RED_1", kNone, kRed},
      {"name then plus", "TLP:AMBER+", kNone, kAmber},
      {"amber plus other word", "TLP:AMBER+STRICTER", kNone, kAmber},
      {"strict then plus", "TLP:AMBER+STRICT+", kNone, kStrict},
      {"name then dash in subject", "[TLP:AMBER-Phishing]", kNone, kAmber},
      {"label and higher loose", "[TLP:GREEN] TLP RED", kGreen, kRed},
      {"label and lower loose", "TLP:RED TLP amber", kRed, kAmber},
      {"loose clear", "TLP CLEAR", kNone, kClear},
  });
}

TEST(TlpScan, MostRestrictiveWins) {
  run_scan_cases({
      {"green then red", "TLP:GREEN TLP:RED", kRed, kNone},
      {"red then clear", "TLP:RED and TLP:CLEAR", kRed, kNone},
      {"white and green", "TLP:WHITE, TLP:GREEN", kGreen, kNone},
      {"amber and strict", "TLP:AMBER TLP:AMBER+STRICT", kStrict, kNone},
      {"strict and red", "[TLP:AMBER+STRICT][TLP:RED]", kRed, kNone},
      {"adjacent", "TLP:GREEN/TLP:AMBER", kAmber, kNone},
  });
}

TEST(TlpScan, FindLabelsInOrderOfAppearance) {
  struct Case {
    std::string_view name;
    std::string_view text;
    std::vector<Tlp> want;
  };
  const Case cases[] = {
      {"three", "TLP:GREEN then TLP:RED then tlp:white", {kGreen, kRed, kClear}},
      {"loose left out", "TLP RED TLP:AMBER", {kAmber}},
      {"strict counted once", "TLP:AMBER+STRICT", {kStrict}},
      {"strict spaced counted once", "TLP:AMBER + STRICT", {kStrict}},
      {"repeated", "TLP:RED TLP:RED", {kRed, kRed}},
      {"none", "nothing here", {}},
      {"look-alikes only", "XTLP:RED TLP:REDACTED TLP:AMBERX", {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(find_labels(c.text), c.want) << c.name;
  }
}

TEST(TlpScan, FindMentionsPositions) {
  struct Want {
    Tlp label;
    bool is_label;
    std::size_t offset, length;
  };
  struct Case {
    std::string_view name;
    std::string_view text;
    std::vector<Want> want;
  };
  const Case cases[] = {
      {"spaced strict", "x [TLP:AMBER + STRICT] y", {{kStrict, true, 3, 18}}},
      {"loose then label", "TLP RED TLP:GREEN", {{kRed, false, 0, 7}, {kGreen, true, 8, 9}}},
      {"label with blanks", "TLP : RED", {{kRed, true, 0, 9}}},
      {"no-break space", "TLP:\xC2\xA0RED.", {{kRed, true, 0, 9}}},
      {"none", "TLP:BLUE", {}},
  };
  for (const Case& c : cases) {
    std::vector<Mention> got = find_mentions(c.text);
    ASSERT_EQ(got.size(), c.want.size()) << c.name;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].label, c.want[i].label) << c.name << " #" << i;
      EXPECT_EQ(got[i].is_label, c.want[i].is_label) << c.name << " #" << i;
      EXPECT_EQ(got[i].offset, c.want[i].offset) << c.name << " #" << i;
      EXPECT_EQ(got[i].length, c.want[i].length) << c.name << " #" << i;
    }
  }
}

TEST(TlpScan, LargeInputWithoutLabel) {
  // Linear scan: a megabyte of "TLP" fragments finishes and finds nothing.
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "TLP:TLP:X ";
  EXPECT_EQ(scan_text(text), LabelScan{});
  text += "TLP:RED";
  EXPECT_EQ(most_restrictive(text), kRed);
}

TEST(TlpBodyHead, FirstNonEmptyLines) {
  struct Case {
    std::string_view name;
    std::string_view body;
    int max_lines;
    std::optional<Tlp> want_label;
    std::optional<Tlp> want_loose;
  };
  const Case cases[] = {
      {"first line", "TLP:RED\n\nHello all,\n", 5, kRed, kNone},
      {"after blank lines", "\n\n  \n\t\nTLP:AMBER\nfoo", 5, kAmber, kNone},
      {"fifth non-empty line", "a\n\n\n\nb\nc\nd\nTLP:RED\n", 5, kRed, kNone},
      {"sixth non-empty line", "a\n\nb\n\nc\n\nd\n\ne\n\nTLP:RED\n", 5, kNone, kNone},
      {"blank lines do not count", "a\n\n\n\n\n\n\n\n\n\nb\n\n\n\nTLP:GREEN", 5, kGreen, kNone},
      {"whitespace-only lines do not count", "a\n \n\t\n \t \n\r\nb\nc\nd\nTLP:RED\n", 5, kRed,
       kNone},
      {"crlf", "Hello\r\n\r\nTLP:RED\r\n", 5, kRed, kNone},
      {"crlf blank lines", "\r\n \t\r\n\r\nTLP:AMBER\r\n", 5, kAmber, kNone},
      {"no final newline", "TLP:GREEN", 5, kGreen, kNone},
      {"most restrictive of the lines", "TLP:GREEN\nTLP:AMBER+STRICT\nTLP:AMBER\n", 5, kStrict,
       kNone},
      {"quoted line counts", "Thanks!\n\nOn Monday Bob wrote:\n> [TLP:RED] Incident\n", 5, kRed,
       kNone},
      {"loose on line two", "Hi all\nTLP RED\n", 5, kNone, kRed},
      {"label does not span lines", "TLP:\nRED\n", 5, kNone, kNone},
      {"one line only", "Hi\nTLP:RED\n", 1, kNone, kNone},
      {"two lines", "Hi\nTLP:RED\n", 2, kRed, kNone},
      {"zero lines", "TLP:RED\n", 0, kNone, kNone},
      {"negative lines", "TLP:RED\n", -1, kNone, kNone},
      {"empty body", "", 5, kNone, kNone},
      {"only blank lines", "\n\n \n\r\n", 5, kNone, kNone},
      {"look-alike in head", "TLP:REDACTED report\n", 5, kNone, kNone},
  };
  for (const Case& c : cases) {
    LabelScan got = scan_body_head(c.body, c.max_lines);
    EXPECT_EQ(got.label, c.want_label) << c.name;
    EXPECT_EQ(got.loose, c.want_loose) << c.name;
    EXPECT_EQ(label_in_body_head(c.body, c.max_lines), c.want_label) << c.name;
  }
}

TEST(TlpBodyHead, DefaultWindowIsFiveLines) {
  EXPECT_EQ(kBodyHeadLines, 5);
  EXPECT_EQ(label_in_body_head("1\n2\n3\n4\nTLP:RED\n"), kRed);
  EXPECT_EQ(label_in_body_head("1\n2\n3\n4\n5\nTLP:RED\n"), kNone);
}

TEST(TlpScanMessage, SubjectAndBodyTogether) {
  struct Case {
    std::string_view name;
    std::string_view subject, body;
    LabelScan want;
  };
  const Case cases[] = {
      {"body higher", "[TLP:GREEN] Indicators", "TLP:AMBER\n\nHello", {kAmber, kNone}},
      {"subject higher", "[TLP:RED] Indicators", "TLP:GREEN\n", {kRed, kNone}},
      {"subject only", "[TLP:AMBER] x", "Hello\n", {kAmber, kNone}},
      {"body only", "Indicators", "\nTLP:CLEAR\n", {kClear, kNone}},
      {"none", "Indicators", "Hello\n", {kNone, kNone}},
      {"loose in subject", "TLP RED x", "TLP:GREEN\n", {kGreen, kRed}},
      {"body below window", "x", "1\n2\n3\n4\n5\nTLP:RED\n", {kNone, kNone}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(scan_message(c.subject, c.body), c.want) << c.name;
  }
}

TEST(TlpScanMessage, MergedTakesTheMostRestrictiveOfEach) {
  LabelScan a{kGreen, kRed};
  LabelScan b{kAmber, kNone};
  EXPECT_EQ(a.merged(b), (LabelScan{kAmber, kRed}));
  EXPECT_EQ(b.merged(a), (LabelScan{kAmber, kRed}));
  EXPECT_EQ(LabelScan{}.merged(LabelScan{}), LabelScan{});
}

TEST(TlpSubject, LabelledSubject) {
  struct Case {
    std::string_view name;
    std::string_view subject;
    Tlp label;
    std::string_view want;
  };
  const Case cases[] = {
      {"no label", "Phishing wave", kAmber, "[TLP:AMBER] Phishing wave"},
      {"same label", "[TLP:AMBER] Phishing wave", kAmber, "[TLP:AMBER] Phishing wave"},
      {"raised reply", "Re: [TLP:GREEN] Phishing", kAmber, "[TLP:AMBER] Re: Phishing"},
      {"list prefix", "[csirt-ops] [TLP:GREEN] foo", kAmber, "[TLP:AMBER] [csirt-ops] foo"},
      {"bare label with colon", "TLP:AMBER: foo", kAmber, "[TLP:AMBER] foo"},
      {"bare label with dash", "TLP:AMBER - foo", kAmber, "[TLP:AMBER] foo"},
      {"bare label with bar", "TLP:AMBER | foo", kAmber, "[TLP:AMBER] foo"},
      {"bare label mid-subject", "Urgent TLP:AMBER+STRICT indicators", kStrict,
       "[TLP:AMBER+STRICT] Urgent indicators"},
      {"parenthesised at end", "foo (TLP:RED)", kRed, "[TLP:RED] foo"},
      {"bracket with inner blanks", "foo [ TLP:RED ] bar", kRed, "[TLP:RED] foo bar"},
      {"no blanks around", "Re:[TLP:AMBER]Phishing", kAmber, "[TLP:AMBER] Re: Phishing"},
      {"two labels", "[TLP:GREEN][TLP:AMBER] x", kAmber, "[TLP:AMBER] x"},
      {"spaced strict", "[TLP:AMBER + STRICT] x", kStrict, "[TLP:AMBER+STRICT] x"},
      {"white becomes clear", "[TLP:WHITE] Newsletter", kClear, "[TLP:CLEAR] Newsletter"},
      {"empty subject", "", kGreen, "[TLP:GREEN]"},
      {"label only", "[TLP:RED]", kRed, "[TLP:RED]"},
      {"blank subject", "   ", kGreen, "[TLP:GREEN]"},
      {"loose mention kept", "TLP RED mentioned", kRed, "[TLP:RED] TLP RED mentioned"},
      {"look-alike kept", "TLP:REDACTED report", kGreen, "[TLP:GREEN] TLP:REDACTED report"},
      {"higher label kept", "[TLP:RED] x", kAmber, "[TLP:AMBER] [TLP:RED] x"},
  };
  for (const Case& c : cases) {
    std::string got = labelled_subject(c.subject, c.label);
    EXPECT_EQ(got, c.want) << c.name;
    // Whatever the input, the copy's subject opens with the label and reads
    // as at least that label.
    EXPECT_EQ(got.rfind(subject_tag(c.label), 0), 0u) << c.name;
    ASSERT_TRUE(most_restrictive(got).has_value()) << c.name;
    EXPECT_GE(*most_restrictive(got), c.label) << c.name;
  }
}

}  // namespace
}  // namespace tlpmail::policy
