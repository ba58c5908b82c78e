// Who gets a slot when a connection arrives (docs/smtp.md, "Connection
// limits"): the global limit (max_connections), the per-client limit
// (max_connections_per_client, by IP address) and, when a limit is
// reached, which session waiting for its client gives its slot up to the
// newcomer. A pure decision over a snapshot of the open sessions, and the
// replies of these limits; the Server applies them. No sockets, no clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/reply.h"

namespace tlpmail::net {

using Clock = std::chrono::steady_clock;

// One open session as admission sees it.
struct OpenSession {
  std::uint64_t serial = 0;
  std::string client;  // the peer's IP address, no port
  // Waiting for the client's next command: not in DATA, not waiting for
  // the intake's verdict, not in a TLS handshake, not closing.
  bool waiting = false;
  Clock::time_point last_progress;  // accepted, or its last DATA answered
};

struct AdmissionLimits {
  std::size_t max_connections = 100;
  std::size_t max_per_client = 50;
  // A waiting session can be made to give its slot up once it has made
  // no progress (no message answered, or just connected) for this long.
  std::chrono::milliseconds evict_after{2000};
};

struct Admission {
  enum class Kind {
    accept,       // a slot is free
    evict,        // take the slot of `victim` (421 to it), then accept
    busy,         // max_connections, nobody to evict: 421 4.3.2
    client_busy,  // max_connections_per_client, nobody of its own to evict: 421 4.7.0
  };
  Kind kind = Kind::accept;
  std::uint64_t victim = 0;       // evict
  bool for_client_limit = false;  // evict: the per-client limit was reached
};

// The decision for a new connection from `client`, given the sessions
// open now (those already told to go excluded). The per-client limit is
// checked first, and only the client's own sessions can give their slot
// up to it; at the global limit the victim is taken from the client
// holding the most slots, the one without progress for longest first.
// Ties go to the lowest serial (the oldest connection).
Admission decide_admission(const AdmissionLimits& limits, std::string_view client,
                           const std::vector<OpenSession>& open, Clock::time_point now);

// "421 4.7.0 <hostname> Error: too many connections from <client> (limit
// <limit>)\r\n": the per-client limit, written before closing.
std::string too_many_connections_from_reply(std::string_view hostname, std::string_view client,
                                            std::size_t limit);
// "421 4.3.2 <hostname> Error: server busy, closing idle connection": to
// the session whose slot went to a newcomer.
smtp::Reply idle_connection_closed_reply(std::string_view hostname);
// "421 4.4.2 <hostname> Error: session time limit exceeded":
// max_session_time after connect.
smtp::Reply session_time_limit_reply(std::string_view hostname);

}  // namespace tlpmail::net
