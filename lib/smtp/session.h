// A sans-I/O SMTP (RFC 5321) / LMTP (RFC 2033) server session: bytes from
// the client go in, reply bytes and events come out. No sockets, no timers,
// no TLS, no configuration loading and no spool: the caller (lib/net) owns
// all of those and drives the session through the calls below. The reply
// for the end of DATA is never invented here: it comes only from
// complete_data(), i.e. from the spool's commit result.
// docs/smtp.md lists every reply this session sends and why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "smtp/reply.h"

namespace tlpmail::smtp {

// RFC 5321 4.5.3.1.4 / 4.5.3.1.6, CRLF included.
inline constexpr std::size_t kMaxCommandLine = 512;
inline constexpr std::size_t kMaxTextLine = 1000;
// RFC 1870 (SIZE=, 26 octets) and RFC 1652 (BODY=, 16 octets) lengthen the
// MAIL command line by their parameters.
inline constexpr std::size_t kMaxMailCommandLine = kMaxCommandLine + 26 + 16;

enum class Protocol { smtp, lmtp };

struct SessionOptions {
  // The server's name in the banner, EHLO and 421 replies.
  // REQUIRES: non-empty, printable ASCII without spaces, at most 255 octets.
  std::string hostname;
  Protocol protocol = Protocol::smtp;
  // Largest message accepted, in octets as counted by RFC 1870 (the
  // dot-unstuffed content with its CRLFs, not the final ".CRLF").
  // Advertised as "SIZE n". REQUIRES: >= 1.
  std::uint64_t max_message_size = 26214400;
  // Accepted recipients per transaction; one more gets 452 4.5.3.
  // REQUIRES: >= 1 (RFC 5321 4.5.3.1.8 asks for at least 100).
  std::size_t max_recipients = 100;
  // Refused commands per connection; the one that reaches the limit is
  // followed by "421 4.7.0 <hostname> Error: too many errors" and close.
  // 4xx RCPT refusals (too many recipients, a resolver's 452) do not count.
  // REQUIRES: >= 1.
  std::size_t max_errors = 20;
  // Input buffered while the session waits for complete_data() (pipelined
  // commands after the end of DATA). More than this is discarded and the
  // session answers 421 4.5.0 and closes after the DATA reply. The server
  // should read at most this much at a time. REQUIRES: >= kMaxMailCommandLine.
  std::size_t max_pending_input = std::size_t{64} * 1024;
  // A certificate is configured: EHLO advertises STARTTLS and the command
  // works until TLS is active.
  bool starttls_available = false;
};

enum class BodyType { unspecified, seven_bit, eight_bit_mime };
std::string_view to_string(BodyType b);

// One mail transaction as the client described it.
struct Envelope {
  std::string helo;                            // argument of the last HELO/EHLO/LHLO
  bool esmtp = false;                          // EHLO or LHLO (not HELO)
  bool tls = false;                            // the transaction ran under TLS
  std::string mail_from;                       // reverse-path mailbox; "" for the null path <>
  BodyType body = BodyType::unspecified;       // MAIL BODY= parameter
  std::optional<std::uint64_t> declared_size;  // MAIL SIZE= parameter
  // Accepted recipients in RCPT order, as sent (case kept, source route
  // dropped). Duplicates are kept: in LMTP each gets its own reply.
  std::vector<std::string> recipients;
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

// --- Events (take_events). They come in the order things happened. ---

// DATA was accepted with 354; message bytes follow as DataChunk events.
struct DataStarted {
  Envelope envelope;
};
// Message bytes: dot-unstuffed, complete lines only, each ending in CRLF,
// never the terminating ".CRLF". Concatenating every chunk of a message
// gives its exact content. Never emitted after DataAborted.
struct DataChunk {
  std::string bytes;
};
// The message ended with <CRLF>.<CRLF> and passed every check. The session
// now waits, answering nothing, until complete_data() is called.
struct DataEnded {
  std::uint64_t size = 0;  // octets in all DataChunks of this message
};
enum class AbortReason {
  message_too_big,  // more than max_message_size octets
  line_too_long,    // a text line over kMaxTextLine octets
  bare_lf,          // an LF not preceded by CR
  bare_cr,          // a CR not followed by LF
  timeout,          // timeout() during DATA
  shutdown,         // shutdown() during DATA
  connection_lost,  // connection_lost() during DATA
};
std::string_view to_string(AbortReason r);
// The message will not be accepted: drop what was spooled for it. For the
// first four reasons the session keeps reading (and discarding) up to
// <CRLF>.<CRLF> and then sends the refusal itself; the server must NOT call
// complete_data() for an aborted message.
struct DataAborted {
  AbortReason reason = AbortReason::bare_lf;
};
// STARTTLS was accepted and "220 2.0.0 Ready to start TLS" is in the
// output. The server writes the output, then does the TLS handshake and
// calls tls_started(), or closes the connection if the handshake fails.
struct StartTlsRequested {
  std::size_t discarded_bytes = 0;  // bytes pipelined after STARTTLS, thrown away
};
// The session refused something with a 4xx/5xx reply of its own (not one
// given via complete_data, nor the 421 of timeout()/shutdown()). For the
// server's log line; `command` is the client's command line, at most 512
// octets, raw network bytes (escape before logging), or "" when the line
// itself was the problem (too long, bare LF/CR), or "DATA" for a refused
// message.
struct Refused {
  std::string command;
  Reply reply;
};

using Event =
    std::variant<DataStarted, DataChunk, DataEnded, DataAborted, StartTlsRequested, Refused>;

// The spool's verdict on a message, given to complete_data().
// SMTP: exactly one reply. LMTP: one reply per accepted recipient, in the
// order of Envelope::recipients (RFC 2033 4.2). Each must pass
// is_valid_reply(); e.g. {250, "2.0.0", "Ok: queued as 3F2A9"},
// {451, "4.3.0", "Error: local fault, try again later"},
// {550, "5.7.1", "Error: message is not signed"}.
struct DataResult {
  std::vector<Reply> replies;
};

// Reply for a connection the server will not serve at all (too many
// connections): "421 4.3.2 <hostname> Error: too many connections\r\n".
std::string too_many_connections_reply(std::string_view hostname);

// Thread safety: none; one session per connection, used from one strand.
// The session never blocks and never calls out except to the recipient
// resolver, synchronously, from feed() or complete_data().
//
// Driving loop (after construction and after every call below):
//   handle every event from take_events(), in order;
//   write take_output() to the client;
//   if wants_close(): close once the output is written;
//   read more only while wants_input().
class Session {
 public:
  // Called for each syntactically valid RCPT mailbox (see Envelope::recipients)
  // while fewer than max_recipients are accepted. A rejection's reply must
  // be a 4xx/5xx passing is_valid_reply(); an invalid reply or an exception
  // becomes "451 4.3.0 Error: internal error while checking the recipient".
  using RcptResolver = std::function<RcptDecision(std::string_view mailbox)>;
  // The same with the recipients this transaction has accepted so far (in
  // RCPT order), for rules that depend on them (e.g. one list per message:
  // a 452 for a recipient that must come in a transaction of its own).
  using TransactionRcptResolver =
      std::function<RcptDecision(std::string_view mailbox, const std::vector<std::string>& earlier)>;

  // The greeting "220 <hostname> ESMTP tlpmail" (LMTP: "... LMTP tlpmail")
  // is in the output at once.
  // Throws std::invalid_argument when `options` breaks a REQUIRES above or
  // `resolver` is empty.
  Session(SessionOptions options, RcptResolver resolver);
  // The same with a resolver that also sees the transaction's recipients.
  static Session with_transaction_resolver(SessionOptions options,
                                           TransactionRcptResolver resolver);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = default;
  Session& operator=(Session&&) = default;

  // Bytes read from the client, any amount, split anywhere. The replies,
  // the events other than DataChunk, and the content of every message that
  // reaches DataEnded do not depend on how the input was split; only the
  // chunk boundaries do, and how much of an aborted message was passed on
  // before its DataAborted. (Bytes after STARTTLS in the same feed are
  // discarded, RFC 3207 / CVE-2011-0411, so there the split matters.)
  // Pipelined commands are answered in order. Ignored after wants_close()
  // and while a STARTTLS handshake is pending; buffered (bounded by
  // max_pending_input) while awaiting_data_result().
  void feed(std::string_view bytes);

  // Bytes to write to the client, in order; empties the buffer.
  std::string take_output();
  // Events since the last call, in order; empties the queue.
  std::vector<Event> take_events();

  // The spool's result for the message of the last DataEnded.
  // REQUIRES: awaiting_data_result(); otherwise nothing happens and false
  // is returned. If result.replies has the wrong count (see DataResult) or
  // one fails is_valid_reply(), the client gets
  // "451 4.3.0 Error: internal error while queueing the message" instead
  // (once per expected reply) and false is returned: a malformed result
  // never turns into a success. Then the transaction ends and any buffered
  // pipelined input is processed (a deferred shutdown() or an input
  // overflow sends its 421 and closes instead).
  bool complete_data(const DataResult& result);
  // Replies complete_data() expects: 1 for SMTP, the number of accepted
  // recipients for LMTP; 0 when not awaiting a result.
  std::size_t expected_result_count() const;

  // The TLS handshake after StartTlsRequested succeeded. The session
  // returns to its initial state (RFC 3207 4.2: EHLO and any transaction
  // forgotten, buffered input dropped, no new greeting) with tls_active().
  // REQUIRES: a StartTlsRequested is pending; otherwise nothing happens.
  void tls_started();

  // The client was idle too long: "421 4.4.2 <hostname> Error: timeout
  // exceeded" and close. During DATA a DataAborted{timeout} comes first.
  // While awaiting_data_result() the client is not idle; if called anyway
  // it is deferred like shutdown().
  void timeout();
  // The server is stopping: "421 4.3.2 <hostname> Error: service shutting
  // down, closing connection" and close. During DATA a
  // DataAborted{shutdown} comes first. While awaiting_data_result() the
  // 421 waits until the DATA reply from complete_data() has been sent.
  void shutdown();
  // The server ends the session for a limit of its own (the session time
  // limit, a busy server taking back an idle session's slot): `reply` and
  // close, like timeout() and shutdown(): during DATA a
  // DataAborted{`reason`} comes first; while awaiting_data_result() the
  // reply waits until the DATA reply has been sent. The first of
  // timeout(), shutdown() and close_early() wins.
  // REQUIRES: reply.code == 421 and is_valid_reply(reply).
  void close_early(Reply reply, AbortReason reason);
  // The peer closed the connection or it failed: no output; during DATA a
  // DataAborted{connection_lost}. Then wants_close(). A later
  // complete_data() is ignored.
  void connection_lost();

  // Close after writing the output (221, 421, or a bare LF/CR in a command).
  bool wants_close() const;
  // The session can use more input now: not closed, not waiting for
  // complete_data() and not waiting for a TLS handshake.
  bool wants_input() const;
  bool awaiting_data_result() const;
  bool awaiting_tls() const;
  bool in_data() const;  // between 354 and the end of the message
  bool tls_active() const;

 private:
  struct TransactionTag {};
  Session(SessionOptions options, TransactionRcptResolver resolver, TransactionTag);

  enum class Phase { command, data, awaiting_result, awaiting_tls, closed };
  struct Transaction {
    std::string mail_from;
    BodyType body = BodyType::unspecified;
    std::optional<std::uint64_t> declared_size;
    std::vector<std::string> recipients;
    bool rcpt_attempted = false;
  };

  std::size_t consume(std::string_view in);
  std::size_t consume_command(std::string_view in);
  std::size_t consume_data(std::string_view in);
  void keep_unconsumed(std::string_view rest);
  void hold_pending(std::size_t kept, std::string_view more);

  void handle_command(std::string_view line);
  void cmd_hello(std::string_view line, std::string_view verb, std::string_view args);
  void cmd_mail(std::string_view line, std::string_view args);
  void cmd_rcpt(std::string_view line, std::string_view args);
  void cmd_data(std::string_view line, std::string_view args);
  void cmd_rset(std::string_view line, std::string_view args);
  void cmd_noop(std::string_view line, std::string_view args);
  void cmd_quit(std::string_view line, std::string_view args);
  void cmd_vrfy(std::string_view line, std::string_view args);
  void cmd_help(std::string_view line, std::string_view args);
  void cmd_starttls(std::string_view line, std::string_view args);

  // Appends an event, built in place (a moved variant temporary trips a
  // false -Wmaybe-uninitialized in g++ 12).
  template <class E, class... Args>
  void emit(Args&&... args) {
    events_.emplace_back(std::in_place_type<E>, std::forward<Args>(args)...);
  }
  void send(const Reply& r);
  void send_raw(std::string_view wire);
  void refuse(std::string_view command, Reply r, bool counts_as_error = true);
  void close_with(const Reply& r);
  void fatal_input(std::string_view what);
  void abort_data(AbortReason reason);
  void finish_bad_data();
  void end_transaction();
  Envelope make_envelope() const;
  Reply data_refusal(AbortReason reason) const;
  std::string_view hello_verb() const;

  SessionOptions options_;
  TransactionRcptResolver resolver_;
  Phase phase_ = Phase::command;
  std::string input_;  // unconsumed input (a partial line, or pipelined input while waiting)
  std::string output_;
  std::vector<Event> events_;

  std::optional<std::string> helo_;
  bool esmtp_ = false;
  bool tls_active_ = false;
  std::optional<Transaction> txn_;
  std::size_t errors_ = 0;

  bool skip_line_ = false;  // discarding the rest of an over-long line
  bool data_bad_ = false;   // the message in DATA is refused
  AbortReason data_bad_reason_ = AbortReason::bare_lf;
  std::uint64_t data_size_ = 0;  // octets passed on in DataChunks
  bool starttls_event_pending_ = false;
  bool pending_overflow_ = false;        // max_pending_input exceeded while waiting
  std::optional<Reply> deferred_close_;  // shutdown()/timeout() while waiting
};

}  // namespace tlpmail::smtp
