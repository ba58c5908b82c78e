// Test driver for smtp::Session: plays the part lib/net will play (feeds
// bytes, handles events, collects message bodies, answers DataEnded with a
// scripted spool result) and runs byte-exact transcripts written as
//   >client bytes        (CRLF appended; "\c" at the end: no CRLF)
//   <server bytes        (CRLF appended; "\c" at the end: no CRLF;
//                         "<@ehlo" / "<@ehlo-tls": the default EHLO reply)
//   !action [args]       (timeout, shutdown, lost, tls, hold, release,
//                         result R | R ..., close, open)
// with C escapes (\r \n \t \\ \0 \xHH) in the bytes. Not a mock: the
// session under test is the real one.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/session.h"

namespace tlpmail::smtp::testing {

inline const std::vector<std::string> kLists = {"ops@lists.example.org",
                                                "Red-Team@Lists.Example.org"};

SessionOptions default_options();
SessionOptions lmtp_options();
// default_options() as `change` leaves them (a lower limit, STARTTLS on).
SessionOptions default_options_with(const std::function<void(SessionOptions&)>& change);

struct Message {
  Envelope envelope;
  std::string body;  // concatenated DataChunks
  bool ended = false;
  std::optional<AbortReason> aborted;
  friend bool operator==(const Message&, const Message&) = default;
};
void PrintTo(const Message& m, std::ostream* os);

class Driver {
 public:
  explicit Driver(SessionOptions options = default_options(),
                  std::vector<std::string> lists = kLists);
  // Drives an already made session (e.g. Session::with_transaction_resolver).
  explicit Driver(Session s);

  void feed(std::string_view bytes);
  // Feeds `bytes` and returns what the session wrote in answer to them.
  std::string answer(std::string_view bytes);
  // Runs after every session call: handles events until none are left.
  void pump();
  // Answers the held DataEnded with `result` (or the next queued one).
  void release();

  Session session;
  std::string output;  // everything the session wrote, in order
  std::vector<Message> messages;
  std::vector<std::string> refusals;  // Refused events: "command|reply-wire"
  std::vector<std::size_t> starttls_discards;
  std::deque<DataResult> results;  // answers for DataEnded; empty: 250 queued as Q<n>
  bool hold = false;               // keep DataEnded unanswered until release()
  bool auto_tls = false;           // call tls_started() on StartTlsRequested
  bool pending_end = false;        // a DataEnded waits for release()
  int queued = 0;

 private:
  DataResult next_result();
};

// How far the common opening of a transcript goes (see opened()).
enum class Upto { greeting, ehlo, mail, rcpt, data };

// The opening most transcripts share, as steps: the greeting and, as far
// as `upto`, "EHLO c.example", "MAIL FROM:<a@b.example>", "RCPT
// TO:<ops@lists.example.org>" and "DATA", each with its reply; then `rest`.
std::string opened(Upto upto, std::string_view rest);

// The steps of one transaction up to DATA's 354: "MAIL FROM:<a@b.example>",
// "RCPT TO:<rcpt>" and "DATA", each with its reply (250, 250, 354).
std::string transaction(std::string_view rcpt = "ops@lists.example.org");

// Decodes C escapes; sets *crlf to false when the text ends in "\c".
std::string unescape(std::string_view s, bool* crlf);

// Runs `script` against `d`. Every '>' step first requires that all output
// so far was expected by '<' steps; at the end no output may be left over.
::testing::AssertionResult run_transcript(Driver& d, std::string_view script);

// The client bytes and the expected server bytes of a script without '!'
// steps, concatenated.
struct Flat {
  std::string client;
  std::string server;
};
Flat flatten(std::string_view script);

DataResult parse_result(std::string_view spec);  // "250 2.0.0 Ok | 550 5.1.1 no"

}  // namespace tlpmail::smtp::testing
