// Tables for lib/policy/decision.h: one row per rule and edge of DESIGN.md's
// TLP rules (label or default, loose raise, ceiling, thread inheritance,
// clearance, team mailboxes, unusable keys, the sender's own copy), the
// refusals with their exact text, and the texts that copies carry.
#include "policy/decision.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "print.h"

namespace tlpmail::policy {
namespace {

Candidate person(std::string email, Tlp clearance) {
  return {std::move(email), clearance, false, true};
}
Candidate team(std::string email, Tlp clearance) {
  return {std::move(email), clearance, true, true};
}
Candidate no_key(std::string email, Tlp clearance) {
  return {std::move(email), clearance, false, false};
}

const std::string kSender = "alice@csirt-a.example";

// A list where everybody may receive anything: the rows change one thing.
DecisionInput input(std::optional<Tlp> found, Tlp list_default = kAmber, Tlp ceiling = kRed) {
  DecisionInput in;
  in.found_label = found;
  in.list_default = list_default;
  in.list_ceiling = ceiling;
  in.sender = kSender;
  in.deliver_to_sender = true;
  in.members = {person(kSender, kRed), person("bob@csirt-b.example", kRed)};
  return in;
}

using Excluded = std::pair<std::string, Exclusion>;

struct AcceptCase {
  std::string name;
  DecisionInput in;
  Tlp want_label;
  LabelSource want_source;
  std::vector<Raise> want_raises;
  std::vector<std::string> want_recipients;
  std::vector<Excluded> want_left_out;
};

void run_accept_cases(const std::vector<AcceptCase>& cases) {
  for (const AcceptCase& c : cases) {
    auto got = decide(c.in);
    ASSERT_TRUE(got.has_value()) << c.name << ": refused: " << got.error().message;
    EXPECT_EQ(got->label, c.want_label) << c.name;
    EXPECT_EQ(got->source, c.want_source) << c.name;
    EXPECT_EQ(got->raises, c.want_raises) << c.name;
    EXPECT_EQ(got->raised_from(),
              c.want_raises.empty() ? kNone : std::optional<Tlp>(c.want_raises.front().from))
        << c.name;
    EXPECT_EQ(got->recipients, c.want_recipients) << c.name;
    std::vector<Excluded> left_out;
    for (const LeftOut& l : got->left_out) {
      left_out.emplace_back(l.email, l.why);
      EXPECT_FALSE(l.reason.empty()) << c.name << " " << l.email;
    }
    EXPECT_EQ(left_out, c.want_left_out) << c.name;
  }
}

const std::vector<std::string> kBoth = {kSender, "bob@csirt-b.example"};

TEST(Decide, Rule1LabelOrDefault) {
  run_accept_cases({
      {"label found", input(kAmber, kGreen), kAmber, LabelSource::message, {}, kBoth, {}},
      {"no label: default", input(kNone, kGreen), kGreen, LabelSource::list_default, {}, kBoth, {}},
      {"label below default wins",
       input(kClear, kAmber),
       kClear,
       LabelSource::message,
       {},
       kBoth,
       {}},
      {"strict found", input(kStrict), kStrict, LabelSource::message, {}, kBoth, {}},
      {"red found", input(kRed), kRed, LabelSource::message, {}, kBoth, {}},
  });
}

DecisionInput with_loose(DecisionInput in, std::optional<Tlp> loose) {
  in.loose_label = loose;
  return in;
}

TEST(Decide, LooseMentionsRaiseNeverLower) {
  run_accept_cases({
      {"loose raises default",
       with_loose(input(kNone, kAmber), kRed),
       kRed,
       LabelSource::list_default,
       {{kAmber, kRed, RaiseCause::loose_mention}},
       kBoth,
       {}},
      {"loose below default ignored",
       with_loose(input(kNone, kAmber), kGreen),
       kAmber,
       LabelSource::list_default,
       {},
       kBoth,
       {}},
      {"loose raises label",
       with_loose(input(kGreen), kAmber),
       kAmber,
       LabelSource::message,
       {{kGreen, kAmber, RaiseCause::loose_mention}},
       kBoth,
       {}},
      {"loose below label ignored",
       with_loose(input(kRed), kGreen),
       kRed,
       LabelSource::message,
       {},
       kBoth,
       {}},
      {"loose equal to label",
       with_loose(input(kAmber), kAmber),
       kAmber,
       LabelSource::message,
       {},
       kBoth,
       {}},
  });
}

DecisionInput reply_to(DecisionInput in, std::optional<Tlp> parent) {
  in.parent_label = parent;
  return in;
}

TEST(Decide, Rule3ThreadInheritance) {
  run_accept_cases({
      {"reply raised",
       reply_to(input(kGreen), kAmber),
       kAmber,
       LabelSource::message,
       {{kGreen, kAmber, RaiseCause::thread}},
       kBoth,
       {}},
      {"reply without label raised from default",
       reply_to(input(kNone, kGreen), kAmber),
       kAmber,
       LabelSource::list_default,
       {{kGreen, kAmber, RaiseCause::thread}},
       kBoth,
       {}},
      {"reply higher than parent kept",
       reply_to(input(kRed), kAmber),
       kRed,
       LabelSource::message,
       {},
       kBoth,
       {}},
      {"reply equal to parent",
       reply_to(input(kAmber), kAmber),
       kAmber,
       LabelSource::message,
       {},
       kBoth,
       {}},
      {"reply to clear thread",
       reply_to(input(kClear), kClear),
       kClear,
       LabelSource::message,
       {},
       kBoth,
       {}},
      {"reply to strict thread",
       reply_to(input(kAmber), kStrict),
       kStrict,
       LabelSource::message,
       {{kAmber, kStrict, RaiseCause::thread}},
       kBoth,
       {}},
      {"not a reply", reply_to(input(kGreen), kNone), kGreen, LabelSource::message, {}, kBoth, {}},
      {"loose then thread",
       reply_to(with_loose(input(kGreen), kAmber), kRed),
       kRed,
       LabelSource::message,
       {{kGreen, kAmber, RaiseCause::loose_mention}, {kAmber, kRed, RaiseCause::thread}},
       kBoth,
       {}},
      {"thread above loose",
       reply_to(with_loose(input(kGreen), kRed), kAmber),
       kRed,
       LabelSource::message,
       {{kGreen, kRed, RaiseCause::loose_mention}},
       kBoth,
       {}},
  });
}

DecisionInput members(DecisionInput in, std::vector<Candidate> m) {
  in.members = std::move(m);
  return in;
}

TEST(Decide, Rule2AtOrBelowCeilingAccepted) {
  run_accept_cases({
      {"label equal to ceiling",
       input(kAmber, kAmber, kAmber),
       kAmber,
       LabelSource::message,
       {},
       kBoth,
       {}},
      {"label below ceiling",
       input(kGreen, kAmber, kAmber),
       kGreen,
       LabelSource::message,
       {},
       kBoth,
       {}},
      {"raised up to ceiling",
       reply_to(input(kGreen, kGreen, kAmber), kAmber),
       kAmber,
       LabelSource::message,
       {{kGreen, kAmber, RaiseCause::thread}},
       kBoth,
       {}},
      // Defensive check is for the default only: a found label within the
      // ceiling is fine even when the default is (wrongly) above it.
      {"label found while default above ceiling",
       input(kGreen, kRed, kAmber),
       kGreen,
       LabelSource::message,
       {},
       kBoth,
       {}},
  });
}

TEST(Decide, Rule4WhoReceives) {
  const std::vector<Candidate> mixed = {
      person(kSender, kRed),
      person("bob@csirt-b.example", kAmber),
      team("cert@csirt-c.example", kRed),
      team("soc@csirt-d.example", kAmber),
      no_key("carol@csirt-e.example", kRed),
      no_key("dave@csirt-f.example", kGreen),
      person("erin@csirt-g.example", kStrict),
      team("noc@csirt-h.example", kStrict),
      person("frank@csirt-i.example", kClear),
      person("grace@csirt-j.example", kRed),
  };
  run_accept_cases({
      {"red",
       members(input(kRed), mixed),
       kRed,
       LabelSource::message,
       {},
       {kSender, "grace@csirt-j.example"},
       {{"bob@csirt-b.example", Exclusion::above_clearance},
        {"cert@csirt-c.example", Exclusion::team_never_red},
        {"soc@csirt-d.example", Exclusion::above_clearance},
        {"carol@csirt-e.example", Exclusion::key_unusable},
        {"dave@csirt-f.example", Exclusion::above_clearance},
        {"erin@csirt-g.example", Exclusion::above_clearance},
        {"noc@csirt-h.example", Exclusion::above_clearance},
        {"frank@csirt-i.example", Exclusion::above_clearance}}},
      {"amber+strict",
       members(input(kStrict), mixed),
       kStrict,
       LabelSource::message,
       {},
       {kSender, "cert@csirt-c.example", "erin@csirt-g.example", "noc@csirt-h.example",
        "grace@csirt-j.example"},
       {{"bob@csirt-b.example", Exclusion::above_clearance},
        {"soc@csirt-d.example", Exclusion::above_clearance},
        {"carol@csirt-e.example", Exclusion::key_unusable},
        {"dave@csirt-f.example", Exclusion::above_clearance},
        {"frank@csirt-i.example", Exclusion::above_clearance}}},
      {"amber",
       members(input(kAmber), mixed),
       kAmber,
       LabelSource::message,
       {},
       {kSender, "bob@csirt-b.example", "cert@csirt-c.example", "soc@csirt-d.example",
        "erin@csirt-g.example", "noc@csirt-h.example", "grace@csirt-j.example"},
       {{"carol@csirt-e.example", Exclusion::key_unusable},
        {"dave@csirt-f.example", Exclusion::above_clearance},
        {"frank@csirt-i.example", Exclusion::above_clearance}}},
      {"green",
       members(input(kGreen), mixed),
       kGreen,
       LabelSource::message,
       {},
       {kSender, "bob@csirt-b.example", "cert@csirt-c.example", "soc@csirt-d.example",
        "erin@csirt-g.example", "noc@csirt-h.example", "grace@csirt-j.example"},
       {{"carol@csirt-e.example", Exclusion::key_unusable},
        {"dave@csirt-f.example", Exclusion::key_unusable},
        {"frank@csirt-i.example", Exclusion::above_clearance}}},
      {"clear",
       members(input(kClear), mixed),
       kClear,
       LabelSource::message,
       {},
       {kSender, "bob@csirt-b.example", "cert@csirt-c.example", "soc@csirt-d.example",
        "erin@csirt-g.example", "noc@csirt-h.example", "frank@csirt-i.example",
        "grace@csirt-j.example"},
       {{"carol@csirt-e.example", Exclusion::key_unusable},
        {"dave@csirt-f.example", Exclusion::key_unusable}}},
      {"unset candidate fails closed",
       members(input(kClear), {person(kSender, kRed), person("bob@csirt-b.example", kRed),
                               Candidate{"zed@csirt-z.example"}}),
       kClear,
       LabelSource::message,
       {},
       kBoth,
       {{"zed@csirt-z.example", Exclusion::key_unusable}}},
  });
}

DecisionInput sender_copy(DecisionInput in, bool deliver, std::string sender = kSender) {
  in.deliver_to_sender = deliver;
  in.sender = std::move(sender);
  return in;
}

TEST(Decide, Rule4SenderAndDuplicates) {
  run_accept_cases({
      {"sender gets own copy", input(kAmber), kAmber, LabelSource::message, {}, kBoth, {}},
      {"no copy for sender",
       sender_copy(input(kAmber), false),
       kAmber,
       LabelSource::message,
       {},
       {"bob@csirt-b.example"},
       {}},
      {"sender matched case-insensitively",
       sender_copy(input(kAmber), false, "Alice@CSIRT-A.Example"),
       kAmber,
       LabelSource::message,
       {},
       {"bob@csirt-b.example"},
       {}},
      {"sender own copy follows clearance",
       members(input(kRed), {person(kSender, kAmber), person("bob@csirt-b.example", kRed)}),
       kRed,
       LabelSource::message,
       {},
       {"bob@csirt-b.example"},
       {{kSender, Exclusion::above_clearance}}},
      {"sender team mailbox gets no red copy",
       members(input(kRed), {team(kSender, kRed), person("bob@csirt-b.example", kRed)}),
       kRed,
       LabelSource::message,
       {},
       {"bob@csirt-b.example"},
       {{kSender, Exclusion::team_never_red}}},
      {"duplicate member once",
       members(input(kAmber), {person(kSender, kRed), person("bob@csirt-b.example", kRed),
                               person("BOB@csirt-b.example", kRed)}),
       kAmber,
       LabelSource::message,
       {},
       kBoth,
       {}},
      {"duplicate excluded member once",
       members(input(kRed),
               {person(kSender, kRed), person("bob@csirt-b.example", kRed),
                person("eve@csirt-x.example", kGreen), person("eve@csirt-x.example", kRed)}),
       kRed,
       LabelSource::message,
       {},
       kBoth,
       {{"eve@csirt-x.example", Exclusion::above_clearance}}},
      {"list order kept",
       members(input(kGreen), {person("zoe@z.example", kRed), person(kSender, kRed),
                               person("bob@csirt-b.example", kRed)}),
       kGreen,
       LabelSource::message,
       {},
       {"zoe@z.example", kSender, "bob@csirt-b.example"},
       {}},
  });
}

struct RefuseCase {
  std::string name;
  DecisionInput in;
  RefusalKind want_kind;
  Tlp want_label;
  std::string want_message;
};

void run_refuse_cases(const std::vector<RefuseCase>& cases) {
  for (const RefuseCase& c : cases) {
    auto got = decide(c.in);
    ASSERT_FALSE(got.has_value()) << c.name << ": accepted at " << to_string(got->label);
    EXPECT_EQ(got.error().kind, c.want_kind) << c.name;
    EXPECT_EQ(got.error().label, c.want_label) << c.name;
    EXPECT_EQ(got.error().ceiling, c.in.list_ceiling) << c.name;
    EXPECT_EQ(got.error().message, c.want_message) << c.name;
    Error e = got.error().to_error();
    EXPECT_EQ(e.kind, ErrorClass::refused) << c.name;
    EXPECT_EQ(e.message, c.want_message) << c.name;
  }
}

TEST(Decide, Rule2CeilingRefusals) {
  run_refuse_cases({
      {"red above amber", input(kRed, kAmber, kAmber), RefusalKind::above_ceiling, kRed,
       "TLP:RED is above this list's ceiling TLP:AMBER"},
      {"strict above amber", input(kStrict, kGreen, kAmber), RefusalKind::above_ceiling, kStrict,
       "TLP:AMBER+STRICT is above this list's ceiling TLP:AMBER"},
      {"green above clear", input(kGreen, kClear, kClear), RefusalKind::above_ceiling, kGreen,
       "TLP:GREEN is above this list's ceiling TLP:CLEAR"},
      {"reply to red thread, ceiling since lowered", reply_to(input(kAmber, kAmber, kAmber), kRed),
       RefusalKind::above_ceiling, kRed,
       "TLP:RED is above this list's ceiling TLP:AMBER (TLP raised from AMBER to RED: reply to a "
       "TLP:RED message)"},
      {"reply without label to red thread", reply_to(input(kNone, kGreen, kAmber), kRed),
       RefusalKind::above_ceiling, kRed,
       "TLP:RED is above this list's ceiling TLP:AMBER (TLP raised from GREEN to RED: reply to a "
       "TLP:RED message)"},
      {"loose mention above ceiling", with_loose(input(kNone, kAmber, kAmber), kRed),
       RefusalKind::above_ceiling, kRed,
       "TLP:RED is above this list's ceiling TLP:AMBER (TLP raised from AMBER to RED: the message "
       "mentions RED in a non-standard label spelling)"},
      {"two raises above ceiling",
       reply_to(with_loose(input(kGreen, kGreen, kGreen), kAmber), kRed),
       RefusalKind::above_ceiling, kRed,
       "TLP:RED is above this list's ceiling TLP:GREEN (TLP raised from GREEN to AMBER: the "
       "message mentions AMBER in a non-standard label spelling; TLP raised from AMBER to RED: "
       "reply to a TLP:RED message)"},
      {"default above ceiling", input(kNone, kRed, kAmber), RefusalKind::default_above_ceiling,
       kRed,
       "the message carries no TLP label and this list's default TLP:RED is above its ceiling "
       "TLP:AMBER"},
      {"default above ceiling even when raised", reply_to(input(kNone, kStrict, kAmber), kRed),
       RefusalKind::default_above_ceiling, kStrict,
       "the message carries no TLP label and this list's default TLP:AMBER+STRICT is above its "
       "ceiling TLP:AMBER"},
  });
}

TEST(Decide, NoRecipientsRefused) {
  run_refuse_cases({
      {"only the sender", members(input(kAmber), {person(kSender, kRed)}),
       RefusalKind::no_recipients, kAmber,
       "no member of this list other than the sender can receive TLP:AMBER"},
      {"no members at all", members(input(kAmber), {}), RefusalKind::no_recipients, kAmber,
       "no member of this list other than the sender can receive TLP:AMBER"},
      {"others below the label",
       members(input(kRed), {person(kSender, kRed), person("bob@csirt-b.example", kAmber)}),
       RefusalKind::no_recipients, kRed,
       "no member of this list other than the sender can receive TLP:RED"},
      {"red to team mailboxes only",
       members(input(kRed), {person(kSender, kRed), team("cert@csirt-c.example", kRed)}),
       RefusalKind::no_recipients, kRed,
       "no member of this list other than the sender can receive TLP:RED"},
      {"every other key unusable",
       members(input(kGreen), {person(kSender, kRed), no_key("bob@csirt-b.example", kRed)}),
       RefusalKind::no_recipients, kGreen,
       "no member of this list other than the sender can receive TLP:GREEN"},
      {"sender opted out, alone",
       sender_copy(members(input(kGreen), {person(kSender, kRed)}), false),
       RefusalKind::no_recipients, kGreen,
       "no member of this list other than the sender can receive TLP:GREEN"},
      {"raised label reaches nobody",
       members(reply_to(input(kGreen), kRed),
               {person(kSender, kRed), person("bob@csirt-b.example", kAmber)}),
       RefusalKind::no_recipients, kRed,
       "no member of this list other than the sender can receive TLP:RED"},
  });
}

TEST(Decide, DefaultInputFailsClosed) {
  DecisionInput in;
  in.members = {person("bob@csirt-b.example", kRed)};
  auto got = decide(in);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind, RefusalKind::default_above_ceiling);
}

TEST(DecisionText, ExclusionNamesAndReasons) {
  struct Case {
    Exclusion e;
    Tlp clearance, label;
    std::string_view want_name;
    std::string want_reason;
  };
  const Case cases[] = {
      {Exclusion::above_clearance, kGreen, kAmber, "above_clearance",
       "clearance GREEN is below TLP:AMBER"},
      {Exclusion::above_clearance, kAmber, kStrict, "above_clearance",
       "clearance AMBER is below TLP:AMBER+STRICT"},
      {Exclusion::team_never_red, kRed, kRed, "team_never_red",
       "team mailbox never receives TLP:RED"},
      {Exclusion::key_unusable, kRed, kAmber, "key_unusable",
       "key not usable (missing, expired, revoked or too weak)"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(to_string(c.e), c.want_name);
    EXPECT_EQ(describe(c.e, c.clearance, c.label), c.want_reason);
  }
}

TEST(DecisionText, LeftOutCarriesItsReason) {
  auto got =
      decide(members(input(kRed), {person(kSender, kRed), person("bob@csirt-b.example", kRed),
                                   person("dave@csirt-f.example", kGreen)}));
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->left_out.size(), 1u);
  EXPECT_EQ(got->left_out[0].reason, "clearance GREEN is below TLP:RED");
}

TEST(DecisionText, RefusalKindNames) {
  EXPECT_EQ(to_string(RefusalKind::above_ceiling), "above_ceiling");
  EXPECT_EQ(to_string(RefusalKind::default_above_ceiling), "default_above_ceiling");
  EXPECT_EQ(to_string(RefusalKind::no_recipients), "no_recipients");
}

TEST(DecisionText, BannerLines) {
  struct Case {
    std::string name;
    DecisionInput in;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"plain", input(kAmber), {"TLP:AMBER: " + std::string(sharing_rule(kAmber))}},
      {"raised by thread",
       reply_to(input(kGreen), kAmber),
       {"TLP:AMBER: " + std::string(sharing_rule(kAmber)),
        "TLP raised from GREEN to AMBER: reply to a TLP:AMBER message"}},
      {"raised twice",
       reply_to(with_loose(input(kClear), kGreen), kRed),
       {"TLP:RED: " + std::string(sharing_rule(kRed)),
        "TLP raised from CLEAR to GREEN: the message mentions GREEN in a non-standard label "
        "spelling",
        "TLP raised from GREEN to RED: reply to a TLP:RED message"}},
  };
  for (const Case& c : cases) {
    auto got = decide(c.in);
    ASSERT_TRUE(got.has_value()) << c.name;
    EXPECT_EQ(banner_lines(*got), c.want) << c.name;
  }
}

}  // namespace
}  // namespace tlpmail::policy
