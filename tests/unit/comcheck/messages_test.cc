// comcheck/messages.h: the check message a member gets (its token, the
// entry under review), the reading of replies as clients write them
// (tokens anywhere, own text without quotes, attribution and signature,
// confirm or correction), and the HTML report being self-contained and
// escaping what comes from the tables.
#include "comcheck/messages.h"

#include <gtest/gtest.h>

#include "comcheck/report.h"

namespace tlpmail::comcheck {
namespace {

const std::string kToken = "abcdefghijklmnopqrstuvwxyz";
const std::string kOther = "234567abcdefghijklmnopqrst";

directory::MailingList ops() {
  directory::MailingList l;
  l.address = "ops@lists.example.org";
  l.members = {"bob@b.example"};
  l.admins = {"alice@a.example"};
  return l;
}

directory::Person bob() {
  directory::Person p;
  p.email = "bob@b.example";
  p.name = "Bob Beispiel";
  p.organization = "CSIRT B";
  p.fingerprint = "0123456789ABCDEF0123456789ABCDEF01234567";
  p.phone = "+43 1 555 0100";
  p.timezone = "Europe/Vienna";
  return p;
}

Check check(bool review) {
  Check c;
  c.id = 7;
  c.list = "ops@lists.example.org";
  c.review = review;
  c.started_at = 1'800'000'000;
  c.deadline_at = c.started_at + 48 * 3600;
  return c;
}

TEST(CheckMessage, TokenDeadlineAndEntryOnlyForReviews) {
  const std::string plain = check_body(ops(), check(false), bob(), kToken);
  EXPECT_NE(plain.find("Hello Bob Beispiel,"), std::string::npos);
  EXPECT_NE(plain.find("Check token: comcheck-" + kToken + "\n"), std::string::npos);
  EXPECT_NE(plain.find(utc_minute(check(false).deadline_at)), std::string::npos);
  EXPECT_EQ(plain.find("+43 1 555 0100"), std::string::npos);
  EXPECT_EQ(tokens_in(plain), std::vector<std::string>{kToken});
  EXPECT_EQ(check_subject(ops(), check(false)), "[ops] communication check: please reply");

  const std::string review = check_body(ops(), check(true), bob(), kToken);
  EXPECT_NE(review.find("  phone:            +43 1 555 0100\n"), std::string::npos) << review;
  EXPECT_NE(review.find("  timezone:         Europe/Vienna\n"), std::string::npos) << review;
  EXPECT_NE(review.find("  emergency phone:  (not set)\n"), std::string::npos) << review;
  EXPECT_NE(review.find("  key:              0123 4567 89AB"), std::string::npos) << review;
  EXPECT_NE(review.find("\"confirm\""), std::string::npos);
  EXPECT_EQ(check_subject(ops(), check(true)),
            "[ops] communication check and directory review: please reply");
}

TEST(TokensIn, Table) {
  struct Case {
    const char* name;
    std::string text;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"none", "hello", {}},
      {"quoted", "ok\n> Check token: comcheck-" + kToken + "\n", {kToken}},
      {"upper case (a client that shouts)",
       "COMCHECK-" + std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
       {kToken}},
      {"two, in order", "comcheck-" + kOther + " and comcheck-" + kToken, {kOther, kToken}},
      {"too short", "comcheck-abcdef", {}},
      {"too long", "comcheck-" + kToken + "a", {}},
      {"not base32", "comcheck-abcdefghijklmnopqrstuvwxy1", {}},
      {"prefix alone", "comcheck-", {}},
  };
  for (const Case& c : cases) EXPECT_EQ(tokens_in(c.text), c.want) << c.name;
  std::string many;
  for (int i = 0; i < 20; ++i) many += "comcheck-" + kToken + "\n";
  EXPECT_EQ(tokens_in(many).size(), 8u);
  // Only the first 64 KiB are read.
  EXPECT_TRUE(tokens_in(std::string(70 * 1024, 'x') + "comcheck-" + kToken).empty());
}

TEST(OwnText, Table) {
  struct Case {
    const char* name;
    std::string reply;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"bottom quote with attribution",
       "On Mon, 7 Dec 2026, ops wrote:\n> Hello\n> token\n\nconfirm\n", "confirm\n"},
      {"top post", "Confirmed.\r\n\r\nOn Mon, Alice wrote:\r\n> Hello\r\n", "Confirmed.\n"},
      {"signature cut", "my phone is +43 1\n-- \nBob\nCSIRT B\n", "my phone is +43 1\n"},
      {"outlook original message", "new phone: +1 555\n-----Original Message-----\nFrom: x\n",
       "new phone: +1 555\n"},
      {"german attribution", "Am 7.12.2026 schrieb ops:\n> Hallo\nok\n", "ok\n"},
      {"a line ending in wrote: that is not before a quote", "He wrote:\nsomething\n",
       "He wrote:\nsomething\n"},
      {"only quotes", "> a\n> b\n", ""},
      {"blank lines trimmed", "\n\n  \nfix it\n\n\n", "fix it\n"},
  };
  for (const Case& c : cases) EXPECT_EQ(own_text(c.reply), c.want) << c.name;
  EXPECT_EQ(own_text(std::string(20 * 1024, 'y')).size(), 8u * 1024);
}

TEST(ReviewReply, Table) {
  struct Case {
    const char* name;
    std::string reply;
    bool confirmed;
    std::string correction;
  };
  const std::vector<Case> cases = {
      {"confirm", "confirm\n> entry\n", true, ""},
      {"Confirmed!", "Confirmed!\n", true, ""},
      {"OK.", "  OK.\n", true, ""},
      {"i confirm", "I confirm\n\nBob\n", true, ""},
      {"correction", "phone: +43 1 555 0100\nteam: CSIRT-B\n> entry\n", false,
       "phone: +43 1 555 0100\nteam: CSIRT-B\n"},
      {"confirm later in the text is a correction", "my phone changed\nconfirm\n", false,
       "my phone changed\nconfirm\n"},
      {"nothing of their own", "> entry\n", false, ""},
  };
  for (const Case& c : cases) {
    const ReviewReply r = read_review_reply(c.reply);
    EXPECT_EQ(r.confirmed, c.confirmed) << c.name;
    EXPECT_EQ(r.correction, c.correction) << c.name;
  }
}

TEST(Correction, ForwardedLetterHasTheTextAndTheEntry) {
  const std::string body =
      correction_body(ops(), check(true), bob(), "0123456789ABCDEF0123456789ABCDEF01234567",
                      "phone: +43 1 555 0199");
  EXPECT_NE(body.find("Bob Beispiel <bob@b.example> answered the directory review of "
                      "ops@lists.example.org (check 7)"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("phone: +43 1 555 0199\n"), std::string::npos);
  EXPECT_NE(body.find("  phone:            +43 1 555 0100\n"), std::string::npos);
  EXPECT_EQ(correction_subject(ops(), "bob@b.example"),
            "[ops] directory correction from bob@b.example");
  EXPECT_EQ(report_subject(ops(), check(false), 0.2857),
            "[ops] communication check 7 report: 28.6% answered");
}

TEST(ReportHtml, SelfContainedAndEscaped) {
  Summary s;
  s.check = check(false);
  s.check.closed_at = s.check.deadline_at;
  s.closed = true;
  MemberResult a;
  a.email = "a@x.example";
  a.organization = "<script>alert(1)</script> & Co";
  a.state = State::answered;
  a.sent_at = s.check.started_at;
  a.answered_at = s.check.started_at + 90;
  a.latency_s = 90;
  MemberResult b;
  b.email = "b@x.example";
  b.state = State::no_answer;
  b.missed_twice = true;
  s.members = {a, b};
  s.answered = 1;
  s.success_rate = 0.5;
  s.median_latency_s = 90;
  std::vector<Point> history(2);
  history[0].id = 6;
  history[0].success_rate = 0.25;
  history[0].closed = true;
  history[1].id = 7;
  history[1].success_rate = 0.5;
  history[1].closed = true;
  const std::string html = report_html(s, history, s.check.deadline_at);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"), std::string::npos);
  // The SVG namespace is a name, not something loaded.
  std::string loaded = html;
  for (std::size_t at;
       (at = loaded.find("xmlns=\"http://www.w3.org/2000/svg\"")) != std::string::npos;) {
    loaded.erase(at, 34);
  }
  for (const char* external : {"http:", "https:", "src=", "url(", "@import", "<link"}) {
    EXPECT_EQ(loaded.find(external), std::string::npos) << external;
  }
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  EXPECT_GE(
      [&] {
        std::size_t n = 0;
        for (std::size_t at = html.find("<svg"); at != std::string::npos;
             at = html.find("<svg", at + 1)) {
          ++n;
        }
        return n;
      }(),
      2u);
  EXPECT_NE(html.find("b@x.example"), std::string::npos);
  EXPECT_NE(html.find("50.0%"), std::string::npos);

  const std::string text = report_text(s);
  EXPECT_NE(text.find("a@x.example"), std::string::npos);
  EXPECT_NE(text.find("no_answer"), std::string::npos);
}

}  // namespace
}  // namespace tlpmail::comcheck
