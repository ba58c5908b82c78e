// Transcript tests for Session::with_transaction_resolver: the resolver
// sees the recipients this transaction accepted so far (in RCPT order,
// not the refused ones), RSET / a finished DATA / a new MAIL clear them,
// its temporary refusals do not count toward max_errors (its permanent
// ones do), and an exception or invalid reply is a 451.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "transcript.h"
#include "util/text.h"

namespace tlpmail::smtp::testing {
namespace {

// Accepts any "*@lists.example.org" except "busy@" (452) and "gone@"
// (550); remembers what it was shown at every call.
struct Recorder {
  std::vector<std::string> calls;  // "mailbox <- a,b,c"
  Session::TransactionRcptResolver resolver() {
    return [this](std::string_view mailbox, const std::vector<std::string>& earlier) {
      std::string line = std::string(mailbox) + " <-";
      for (std::size_t i = 0; i < earlier.size(); ++i) {
        line += (i == 0 ? " " : ",") + earlier[i];
      }
      calls.push_back(line);
      if (ascii_lower(mailbox).starts_with("busy@")) {
        return RcptDecision::reject(Reply{452, "4.5.3", "one list per message"});
      }
      if (ascii_lower(mailbox).starts_with("gone@")) {
        return RcptDecision::reject(Reply{550, "5.1.1", "gone"});
      }
      return RcptDecision::accept();
    };
  }
};

// A session with rec's resolver that closes after `max_errors` errors.
Session closing_after(std::size_t max_errors, Recorder& rec) {
  SessionOptions o = default_options();
  o.max_errors = max_errors;
  return Session::with_transaction_resolver(o, rec.resolver());
}

TEST(TransactionResolverTest, SeesEarlierAcceptedRecipientsAndRsetClearsThem) {
  Recorder rec;
  Driver d(Session::with_transaction_resolver(default_options(), rec.resolver()));
  ASSERT_TRUE(run_transcript(d, opened(Upto::rcpt, R"(
    >RCPT TO:<busy@lists.example.org>
    <452 4.5.3 one list per message
    >RCPT TO:<Ops@Lists.Example.org>
    <250 2.1.5 Ok
    >RCPT TO:<x@lists.example.org>
    <250 2.1.5 Ok
    >RSET
    <250 2.0.0 Ok
  )" + transaction("red@lists.example.org") + R"(
    >.
    <250 2.0.0 Ok: queued as Q1
    >MAIL FROM:<a@b.example>
    <250 2.1.0 Ok
    >RCPT TO:<ops@lists.example.org>
    <250 2.1.5 Ok
  )")));
  const std::vector<std::string> want = {
      "ops@lists.example.org <-",
      "busy@lists.example.org <- ops@lists.example.org",
      // The refused busy@ is not among the earlier recipients.
      "Ops@Lists.Example.org <- ops@lists.example.org",
      "x@lists.example.org <- ops@lists.example.org,Ops@Lists.Example.org",
      // After RSET, and after a finished transaction: nothing earlier.
      "red@lists.example.org <-",
      "ops@lists.example.org <-",
  };
  EXPECT_EQ(rec.calls, want);
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].envelope.recipients,
            std::vector<std::string>{"red@lists.example.org"});
}

TEST(TransactionResolverTest, TemporaryRefusalsDoNotCountTowardTheErrorLimit) {
  Recorder rec;
  Driver d(closing_after(2, rec));
  ASSERT_TRUE(run_transcript(d, opened(Upto::rcpt, R"(
    >RCPT TO:<busy@lists.example.org>
    <452 4.5.3 one list per message
    >RCPT TO:<busy@lists.example.org>
    <452 4.5.3 one list per message
    >RCPT TO:<busy@lists.example.org>
    <452 4.5.3 one list per message
    >DATA
    <354 End data with <CR><LF>.<CR><LF>
    >.
    <250 2.0.0 Ok: queued as Q1
    !open
  )")));
  EXPECT_EQ(d.refusals.size(), 3u);
}

TEST(TransactionResolverTest, PermanentRefusalsCountTowardTheErrorLimit) {
  Recorder rec;
  Driver d(closing_after(2, rec));
  ASSERT_TRUE(run_transcript(d, opened(Upto::mail, R"(
    >RCPT TO:<gone@lists.example.org>
    <550 5.1.1 gone
    >RCPT TO:<gone@lists.example.org>
    <550 5.1.1 gone
    <421 4.7.0 lists.example.org Error: too many errors
    !close
  )")));
}

TEST(TransactionResolverTest, ExceptionOrInvalidReplyIsAnInternalError) {
  struct Case {
    const char* name;
    Session::TransactionRcptResolver resolver;
  };
  const Case cases[] = {
      {"throws",
       [](std::string_view, const std::vector<std::string>&) -> RcptDecision {
         throw std::runtime_error("boom");
       }},
      {"2xx refusal",
       [](std::string_view, const std::vector<std::string>&) {
         return RcptDecision::reject(Reply{250, "2.1.5", "no"});
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Driver d(Session::with_transaction_resolver(default_options(), c.resolver));
    ASSERT_TRUE(run_transcript(d, opened(Upto::mail, R"(
      >RCPT TO:<ops@lists.example.org>
      <451 4.3.0 Error: internal error while checking the recipient
    )")));
  }
}

TEST(TransactionResolverTest, EmptyResolverIsRefused) {
  EXPECT_THROW(Session::with_transaction_resolver(default_options(), nullptr),
               std::invalid_argument);
}

}  // namespace
}  // namespace tlpmail::smtp::testing
