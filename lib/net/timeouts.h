// The time limits of tlpmaild's SMTP/LMTP intake: how long a client may
// stay silent between commands and between blocks of message data (RFC
// 5321 4.5.3.2), and how much less while the server is full, how long the
// server waits for the spool's verdict, and how long sessions get to
// finish after SIGTERM. Plain values and their parsing only; the timers
// themselves live in connection.cc.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace tlpmail::net {

using std::chrono::milliseconds;

struct Timeouts {
  // RFC 5321 4.5.3.2.7: the server waits at least 5 minutes for the next
  // command (also the limit for writing a reply and for a TLS handshake).
  milliseconds command{std::chrono::minutes(5)};
  // 4.5.3.2.5: a client sends each block of message data within 3 minutes.
  milliseconds data_block{std::chrono::minutes(3)};
  // 4.5.3.2.6: a client waits 10 minutes for the reply to the end of DATA.
  // A spool commit (or write) that takes longer is answered with the
  // spool's 451 "unavailable" reply instead; the commit itself still
  // finishes on its worker thread (a duplicate, never a loss).
  milliseconds data_termination{std::chrono::minutes(10)};
  // After SIGTERM: sessions get this long to finish (the reply to a DATA
  // being committed, then 421); connections still open are then closed.
  milliseconds shutdown_grace{std::chrono::seconds(10)};
  // While the server is at max_connections ("overloaded", Postfix's
  // stress mode: smtpd_timeout 10s), no read waits longer than this, in
  // commands or in DATA: idle and trickling clients give their slots back
  // within seconds instead of minutes. Reads already waiting are cut too.
  milliseconds overload{std::chrono::seconds(10)};

  friend bool operator==(const Timeouts&, const Timeouts&) = default;
};

// For tests only (tlpmaild's hidden --timeouts-ms N): the command and
// data-block limits become `n`, the shutdown grace and the overload limit
// at most `n`; the DATA-termination limit stays at its default.
// REQUIRES: n > 0.
Timeouts test_timeouts(milliseconds n);

// The read limit for the session's current phase, shortened to
// t.overload while the server is overloaded.
inline milliseconds read_timeout(const Timeouts& t, bool in_data, bool overloaded = false) {
  milliseconds limit = in_data ? t.data_block : t.command;
  return overloaded && t.overload < limit ? t.overload : limit;
}

// A decimal number of milliseconds, 1..86400000 (one day), digits only.
// nullopt for anything else ("", "0", "-5", "10s", "1e3", overflow).
std::optional<milliseconds> parse_milliseconds(std::string_view text);

}  // namespace tlpmail::net
