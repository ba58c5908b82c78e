// Tests of the connection limits without sockets: who gets a slot
// (decide_admission as a table: free slot, the global and the per-client
// limit, which waiting session gives its slot up), the replies of the
// limits, and the read limit while the server is overloaded.
#include "net/admission.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "net/timeouts.h"

namespace tlpmail::net {
namespace {

using namespace std::chrono_literals;

const Clock::time_point kNow = Clock::time_point() + 1h;

OpenSession waiting(std::uint64_t serial, std::string client, std::chrono::milliseconds idle) {
  return {serial, std::move(client), true, kNow - idle};
}
OpenSession busy(std::uint64_t serial, std::string client, std::chrono::milliseconds idle) {
  return {serial, std::move(client), false, kNow - idle};
}

std::string describe(const Admission& a) {
  switch (a.kind) {
    case Admission::Kind::accept:
      return "accept";
    case Admission::Kind::evict:
      return "evict s" + std::to_string(a.victim) + (a.for_client_limit ? " (client)" : "");
    case Admission::Kind::busy:
      return "busy";
    case Admission::Kind::client_busy:
      return "client busy";
  }
  return "?";
}

TEST(DecideAdmission, Table) {
  const AdmissionLimits limits{4, 2, 2000ms};
  const std::string a = "192.0.2.1", b = "192.0.2.2", c = "192.0.2.3";
  struct Case {
    const char* name;
    std::string client;
    std::vector<OpenSession> open;
    std::string want;
  } cases[] = {
      {"empty server", a, {}, "accept"},
      {"a free slot", c, {waiting(1, a, 10s), waiting(2, b, 10s)}, "accept"},
      {"client at its limit, its sessions busy",
       a,
       {busy(1, a, 10s), busy(2, a, 10s)},
       "client busy"},
      {"client at its limit, its sessions waiting but not long enough",
       a,
       {waiting(1, a, 1s), waiting(2, a, 1999ms)},
       "client busy"},
      {"client at its limit: its own session without progress longest goes",
       a,
       {waiting(1, a, 3s), waiting(2, a, 5s), waiting(3, b, 60s)},
       "evict s2 (client)"},
      {"another client's idle session never goes for the per-client limit",
       a,
       {busy(1, a, 3s), busy(2, a, 5s), waiting(3, b, 60s)},
       "client busy"},
      {"server full, nobody waiting",
       c,
       {busy(1, a, 9s), busy(2, a, 9s), busy(3, b, 9s), busy(4, b, 9s)},
       "busy"},
      {"server full, waiting only briefly",
       c,
       {waiting(1, a, 1s), waiting(2, a, 1s), waiting(3, b, 1s), waiting(4, b, 1s)},
       "busy"},
      {"server full: the longest without progress goes",
       c,
       {waiting(1, a, 3s), busy(2, b, 9s), waiting(3, b, 7s), waiting(4, c, 5s)},
       "evict s3"},
      {"server full: the client holding most slots gives one up first",
       c,
       {waiting(1, a, 3s), waiting(2, a, 4s), waiting(3, a, 3s), waiting(4, b, 60s)},
       "evict s2"},
      {"server full: ties go to the oldest connection",
       c,
       {waiting(4, a, 5s), waiting(2, a, 5s), waiting(3, b, 5s), waiting(1, b, 5s)},
       "evict s1"},
      {"the per-client limit is checked before the global one",
       a,
       {busy(1, a, 9s), busy(2, a, 9s), waiting(3, b, 60s), waiting(4, c, 60s)},
       "client busy"},
  };
  for (const auto& tc : cases) {
    EXPECT_EQ(describe(decide_admission(limits, tc.client, tc.open, kNow)), tc.want) << tc.name;
  }
}

TEST(DecideAdmission, DefaultsLeaveTheMtaRoom) {
  // The site's MTA connects from one address: the default per-client
  // limit is above Postfix's default destination concurrency (20).
  AdmissionLimits limits;
  EXPECT_EQ(limits.max_connections, 100u);
  EXPECT_EQ(limits.max_per_client, 50u);
  EXPECT_EQ(limits.evict_after, 2s);
  std::vector<OpenSession> open;
  for (std::uint64_t i = 1; i <= 49; ++i) open.push_back(busy(i, "127.0.0.1", 1s));
  EXPECT_EQ(describe(decide_admission(limits, "127.0.0.1", open, kNow)), "accept");
  open.push_back(busy(50, "127.0.0.1", 1s));
  EXPECT_EQ(describe(decide_admission(limits, "127.0.0.1", open, kNow)), "client busy");
  EXPECT_EQ(describe(decide_admission(limits, "::1", open, kNow)), "accept");
}

TEST(LimitReplies, Text) {
  EXPECT_EQ(too_many_connections_from_reply("lists.example.org", "192.0.2.7", 50),
            "421 4.7.0 lists.example.org Error: too many connections from 192.0.2.7 (limit "
            "50)\r\n");
  EXPECT_EQ(idle_connection_closed_reply("lists.example.org").to_string(),
            "421 4.3.2 lists.example.org Error: server busy, closing idle connection");
  EXPECT_EQ(session_time_limit_reply("lists.example.org").to_string(),
            "421 4.4.2 lists.example.org Error: session time limit exceeded");
  EXPECT_TRUE(smtp::is_valid_reply(idle_connection_closed_reply("h.example")));
  EXPECT_TRUE(smtp::is_valid_reply(session_time_limit_reply("h.example")));
}

TEST(OverloadTimeouts, ReadsAreCutWhileOverloaded) {
  Timeouts t;
  EXPECT_EQ(t.overload, 10s);  // Postfix's smtpd_timeout under stress
  EXPECT_EQ(read_timeout(t, false, true), 10s);
  EXPECT_EQ(read_timeout(t, true, true), 10s);
  EXPECT_EQ(read_timeout(t, false, false), 5min);
  Timeouts quick = test_timeouts(3000ms);
  EXPECT_EQ(quick.overload, 3000ms);
  EXPECT_EQ(read_timeout(quick, false, true), 3000ms);
  EXPECT_EQ(test_timeouts(60s).overload, 10s);  // never longer than the default
}

}  // namespace
}  // namespace tlpmail::net
