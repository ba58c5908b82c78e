// Session::close_early(), the server's own limits ending a session (the
// session time limit, a busy server taking back an idle slot): the reply
// and close between commands, DataAborted first during DATA, deferred
// until the DATA reply while a message is being committed, and the first
// of timeout()/shutdown()/close_early() wins. Drives the session directly
// (no transcript helpers).
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "smtp/session.h"

namespace tlpmail::smtp {
namespace {

const Reply kLimit{421, "4.4.2", "lists.example.org Error: session time limit exceeded"};

Session make_session() {
  SessionOptions o;
  o.hostname = "lists.example.org";
  return Session(o, [](std::string_view) { return RcptDecision::accept(); });
}

// Feeds `input` and returns what the session wrote.
std::string feed(Session& s, std::string_view input) {
  s.feed(input);
  return s.take_output();
}

// A session whose greeting was taken, that accepted DATA for one
// recipient (the replies are taken too) and was then fed `data`.
Session session_in_data(std::string_view data) {
  Session s = make_session();
  s.take_output();
  feed(s, "HELO c.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<l@y.example>\r\nDATA\r\n");
  feed(s, data);
  return s;
}

TEST(SessionCloseEarly, BetweenCommands) {
  Session s = make_session();
  s.take_output();
  EXPECT_EQ(feed(s, "EHLO c.example\r\nNOOP\r\n").substr(0, 3), "250");
  s.close_early(kLimit, AbortReason::timeout);
  EXPECT_EQ(s.take_output(), "421 4.4.2 lists.example.org Error: session time limit exceeded\r\n");
  EXPECT_TRUE(s.wants_close());
  EXPECT_FALSE(s.wants_input());
  EXPECT_TRUE(s.take_events().empty());
  EXPECT_EQ(feed(s, "NOOP\r\n"), "");  // nothing after the close
}

TEST(SessionCloseEarly, DuringDataAbortsTheMessageFirst) {
  Session s = session_in_data("Subject: slow\r\n\r\nline one\r\n");
  ASSERT_TRUE(s.in_data());
  s.take_events();
  s.close_early(kLimit, AbortReason::timeout);
  auto events = s.take_events();
  ASSERT_EQ(events.size(), 1u);
  auto* aborted = std::get_if<DataAborted>(&events[0]);
  ASSERT_NE(aborted, nullptr);
  EXPECT_EQ(aborted->reason, AbortReason::timeout);
  EXPECT_EQ(s.take_output(), "421 4.4.2 lists.example.org Error: session time limit exceeded\r\n");
  EXPECT_TRUE(s.wants_close());
}

TEST(SessionCloseEarly, WhileCommittingTheDataReplyComesFirst) {
  Session s = session_in_data("Subject: x\r\n\r\nbody\r\n.\r\n");
  ASSERT_TRUE(s.awaiting_data_result());
  s.take_output();
  s.close_early(kLimit, AbortReason::timeout);
  EXPECT_EQ(s.take_output(), "");  // nothing until the commit's reply
  EXPECT_FALSE(s.wants_close());
  EXPECT_TRUE(s.complete_data(DataResult{{Reply{250, "2.0.0", "Ok: queued as Q1"}}}));
  EXPECT_EQ(s.take_output(),
            "250 2.0.0 Ok: queued as Q1\r\n"
            "421 4.4.2 lists.example.org Error: session time limit exceeded\r\n");
  EXPECT_TRUE(s.wants_close());
}

TEST(SessionCloseEarly, TheFirstEndWins) {
  Session s = make_session();
  s.take_output();
  s.shutdown();
  s.close_early(kLimit, AbortReason::timeout);
  s.timeout();
  EXPECT_EQ(s.take_output(),
            "421 4.3.2 lists.example.org Error: service shutting down, closing connection\r\n");

  Session t = session_in_data("x\r\n.\r\n");
  t.take_output();
  t.close_early(kLimit, AbortReason::timeout);
  t.shutdown();  // deferred already: the first reply stays
  t.complete_data(DataResult{{Reply{250, "2.0.0", "Ok: queued as Q2"}}});
  EXPECT_EQ(t.take_output(),
            "250 2.0.0 Ok: queued as Q2\r\n"
            "421 4.4.2 lists.example.org Error: session time limit exceeded\r\n");
}

}  // namespace
}  // namespace tlpmail::smtp
