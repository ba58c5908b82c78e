// A sans-I/O SMTP (RFC 5321) client session for relaying copies: reply
// bytes from the relay go in, command bytes and events come out. It does
// EHLO (HELO fallback), STARTTLS (RFC 3207), PIPELINING (RFC 2920), SIZE
// (RFC 1870) and 8BITMIME (RFC 6152). No sockets, no timers, no TLS, no
// retry policy: the driver (lib/net) owns those. classify() is the one
// place that decides what a relay's reply means for a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "smtp/reply.h"

namespace tlpmail::smtp {

// Total octets of one (possibly multi-line) reply, CRLFs included. A longer
// reply is a protocol error. Each line is bounded by kMaxReplyLine.
inline constexpr std::size_t kMaxClientReplySize = std::size_t{64} * 1024;

// About the most body bytes one take_output() returns (a chunk may end
// with a stuffed "..": one byte more).
inline constexpr std::size_t kBodyChunk = std::size_t{256} * 1024;

enum class StartTlsPolicy {
  off,            // never send STARTTLS
  opportunistic,  // STARTTLS when offered; go on in clear if not offered or refused
  required,       // no transaction without TLS; fault when not offered or refused
};
std::string_view to_string(StartTlsPolicy p);

struct ClientOptions {
  // Argument of EHLO/HELO. REQUIRES: non-empty, printable ASCII, no spaces.
  std::string helo_name;
  StartTlsPolicy starttls = StartTlsPolicy::off;
  // The connection is already TLS (implicit TLS): no STARTTLS is attempted.
  bool tls_active = false;
};

enum class Outcome {
  delivered,  // 2xx: the relay took responsibility
  deferred,   // 4xx or a connection fault: retry later
  failed,     // 5xx: will never work; report to the list admins
};
std::string_view to_string(Outcome o);

// What a relay's reply means for a copy: 2xx delivered, 4xx deferred, 5xx
// failed. Any other code (1xx, 3xx, out of range) is not a final answer
// and counts as deferred: never bounce on a reply we do not understand.
Outcome classify(const Reply& r);

// Service extensions from the last EHLO reply (all false after HELO).
struct Extensions {
  bool pipelining = false;
  bool eightbitmime = false;
  bool starttls = false;
  bool enhanced_status_codes = false;
  bool size = false;                      // SIZE advertised (send SIZE=)
  std::optional<std::uint64_t> max_size;  // "SIZE n" with n > 0
  friend bool operator==(const Extensions&, const Extensions&) = default;
};

// An immutable piece of a message with what the session needs to know of
// it, found once when it is made: a part shared by many copies (a list
// message's armored ciphertext) is checked once, not once per copy.
class BodyPart {
 public:
  explicit BodyPart(std::string text);
  // A text shared with its owner (e.g. openpgp::SharedArmor's lines).
  // REQUIRES: not null.
  explicit BodyPart(std::shared_ptr<const std::string> text);
  const std::string& text() const { return *text_; }
  // No CR without LF after it and no LF without CR before it, inside the
  // part (a part may not begin with LF or end with CR).
  bool crlf_only() const { return crlf_only_; }
  bool has_8bit() const { return has_8bit_; }
  // Some line inside the part starts with '.' (so dot-stuffing has work
  // to do beyond the part's first byte); false for armor lines.
  bool has_dot_line() const { return has_dot_line_; }

 private:
  std::shared_ptr<const std::string> text_;
  bool crlf_only_ = true;
  bool has_8bit_ = false;
  bool has_dot_line_ = false;
};

// The message of one copy: parts sent one after the other. Copies of one
// list message share their large parts (std::shared_ptr), so a queued copy
// costs only its own small parts, and the session writes the body in
// chunks (ClientSession::take_output), never as one more whole buffer.
// Implicitly made from a string (one part of its own).
class MessageBody {
 public:
  MessageBody() = default;
  MessageBody(std::string text);  // NOLINT(google-explicit-constructor)
  MessageBody(const char* text) : MessageBody(std::string(text)) {}  // NOLINT
  // Appends a part of its own / a part shared with other bodies.
  void append(std::string text);
  void append(std::shared_ptr<const BodyPart> part);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::vector<std::shared_ptr<const BodyPart>>& parts() const { return parts_; }
  bool crlf_only() const;
  bool has_8bit() const;
  bool ends_with_lf() const;
  // The whole body in one string (tests, small bodies).
  std::string str() const;

 private:
  std::vector<std::shared_ptr<const BodyPart>> parts_;
  std::size_t size_ = 0;
};

// One copy to relay. (Not smtp::Envelope: that is what the server side
// received.)
struct OutboundEnvelope {
  std::string from;                     // reverse-path mailbox; "" for <>
  std::vector<std::string> recipients;  // forward-path mailboxes, at least one
  // The message, lines ending in CRLF, not dot-stuffed, without the final
  // ".CRLF" (the session stuffs and terminates it). A missing final CRLF is
  // added. A bare CR or LF fails the copy (it is our bug, not the relay's).
  MessageBody body;
};

using TransactionId = std::uint64_t;

struct RecipientResult {
  std::string mailbox;
  // The reply that decided this recipient: MAIL's refusal, or its RCPT
  // refusal, or else (RCPT accepted or unanswered) the copy's final reply.
  Reply reply;
  Outcome outcome = Outcome::deferred;  // always classify(reply)
  friend bool operator==(const RecipientResult&, const RecipientResult&) = default;
};

struct TransactionResult {
  TransactionId id = 0;
  std::vector<RecipientResult> recipients;  // in envelope order
  // The reply that decided the copy: the reply to the end of the message;
  // or, when the message was never sent, MAIL's or DATA's refusal, or
  // (every RCPT refused) the first 4xx RCPT reply, else the first RCPT
  // reply; or a 421; or a local reply. Always outcome == classify(final).
  Reply final;
  Outcome outcome = Outcome::deferred;
  // Non-empty when `final` was made up here (connection lost, protocol
  // error, STARTTLS missing, 8-bit body to a relay without 8BITMIME, ...):
  // the reason, for the log and the admins' report.
  std::string local_reason;
  friend bool operator==(const TransactionResult&, const TransactionResult&) = default;
};

// --- Events (take_events), in the order things happened. ---

// EHLO (or HELO) succeeded and, per the policy, TLS is in place:
// transactions run from now on.
struct Established {
  Extensions extensions;
  bool tls = false;
  bool esmtp = true;  // false after the HELO fallback
};
// The relay said 220 to STARTTLS. Write the output, do the TLS handshake,
// then call tls_started() (or connection_lost() if the handshake failed).
struct StartTlsReady {};
// A copy is finished (delivered, deferred or failed).
struct TransactionDone {
  TransactionResult result;
};
// The connection cannot be used any more (wants_close() is now true).
// Every unfinished copy got its TransactionDone (deferred) before this
// event. `permanent`: retrying this relay with the same settings will fail
// the same way (e.g. STARTTLS required but not offered); the copies are
// deferred all the same. `reason` may quote relay text (escape before
// logging).
struct ConnectionFault {
  std::string reason;
  bool permanent = false;
};

using ClientEvent = std::variant<Established, StartTlsReady, TransactionDone, ConnectionFault>;

// Thread safety: none; one session per connection, used from one strand.
//
// Driving loop (after construction and after every call below):
//   handle every event from take_events(), in order;
//   write take_output() to the relay;
//   if wants_close(): close once the output is written;
//   read only while wants_input(), and feed() what was read.
//
// One transaction runs at a time. With PIPELINING, [RSET] MAIL, every RCPT
// and DATA go out in one write and the body after DATA's 354; without it
// one command per reply. After a copy that was not delivered, RSET comes
// before the next MAIL.
class ClientSession {
 public:
  // Nothing is sent until the relay's greeting arrives.
  // Throws std::invalid_argument when helo_name breaks its REQUIRES.
  explicit ClientSession(ClientOptions options);
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;
  ClientSession(ClientSession&&) = default;
  ClientSession& operator=(ClientSession&&) = default;

  // Queues a copy; it runs once the session is established and earlier
  // copies are done. Returns its id (1, 2, ... per session). After
  // wants_close() (or quit()) the copy is finished at once as deferred
  // (local reason "connection closing"); its TransactionDone is in the
  // events.
  TransactionId submit(OutboundEnvelope envelope);

  // Bytes read from the relay, any amount, split anywhere: the output and
  // events do not depend on the split. A malformed reply (not CRLF, a line
  // over kMaxReplyLine, a reply over kMaxClientReplySize, a bad code, a
  // multi-line reply changing its code), a reply nobody asked for, or
  // bytes after the 220 to STARTTLS is a protocol error: every unfinished
  // copy deferred, ConnectionFault, close (no QUIT). Any 421 defers every
  // unfinished copy with that reply and closes. Ignored after wants_close().
  void feed(std::string_view bytes);

  // What to write to the relay next. A message body comes out in chunks
  // of at most kBodyChunk bytes (plus its terminating ".CRLF"): while
  // has_output(), write and take again before reading.
  std::string take_output();
  bool has_output() const { return !output_.empty() || body_.has_value(); }
  std::vector<ClientEvent> take_events();

  // The TLS handshake after StartTlsReady succeeded: EHLO is sent again
  // and the extensions are re-read (RFC 3207 4.2).
  // REQUIRES: awaiting_tls(); otherwise nothing happens.
  void tls_started();

  // Finish the queued copies, then QUIT; close after its reply.
  void quit();

  // The connection failed or the relay closed it: every unfinished copy
  // deferred ("connection to the relay lost"), then wants_close(). No
  // ConnectionFault event (the driver knows).
  void connection_lost();

  bool wants_close() const { return phase_ == Phase::closed; }
  // Not closed and not waiting for a TLS handshake.
  bool wants_input() const { return phase_ != Phase::closed && phase_ != Phase::awaiting_tls; }
  bool awaiting_tls() const { return phase_ == Phase::awaiting_tls; }
  // Established, no copy queued or running, not quitting: the connection
  // may be reused or closed.
  bool is_idle() const;
  bool tls_active() const { return tls_active_; }
  const Extensions& extensions() const { return extensions_; }

 private:
  enum class Phase { greeting, ehlo, helo, starttls, awaiting_tls, ready, quitting, closed };
  enum class Expect { rset, mail, rcpt, data, body, body_discard };
  struct Transaction {
    TransactionId id = 0;
    OutboundEnvelope envelope;
    std::optional<Reply> mail_reply;
    std::vector<std::optional<Reply>> rcpt_replies;
    std::optional<Reply> data_reply;
    std::optional<Reply> end_reply;
    std::size_t next_rcpt = 0;  // lockstep: RCPT to send next
  };
  struct Pending {
    Expect kind;
    std::size_t index = 0;  // RCPT number
  };
  // Where the body of the current transaction is being written.
  struct BodyCursor {
    TransactionId id = 0;
    std::size_t part = 0, offset = 0;
    bool line_start = true;  // the last byte written ended a line
  };

  void parse_input();
  void handle_reply(int code, const std::vector<std::string>& lines);
  void handle_handshake_reply(const Reply& r, const std::vector<std::string>& lines);
  void handle_transaction_reply(const Reply& r);
  void after_ehlo(const std::vector<std::string>& lines);
  void establish();
  void advance();
  bool start_transaction(Transaction t);
  void send_next_lockstep();
  void send_body();
  void pump_body();
  void finish_transaction();
  void finish_local(Transaction t, Reply final, std::string reason);
  void abort_all(const Reply& final, const std::string& reason);
  void fault(std::string reason, bool permanent, bool send_quit);
  void send(std::string_view line);
  std::string mail_command(const Transaction& t) const;

  template <class E, class... Args>
  void emit(Args&&... args) {
    events_.emplace_back(std::in_place_type<E>, std::forward<Args>(args)...);
  }

  ClientOptions options_;
  Phase phase_ = Phase::greeting;
  bool tls_active_ = false;
  bool esmtp_ = true;
  Extensions extensions_;
  std::string input_;
  std::vector<std::string> reply_lines_;  // lines of the reply being read
  int reply_code_ = 0;
  std::size_t reply_size_ = 0;
  std::string output_;
  std::vector<ClientEvent> events_;

  TransactionId next_id_ = 1;
  std::deque<Transaction> queue_;
  std::optional<Transaction> current_;
  std::optional<BodyCursor> body_;  // body of current_ not yet all in output_
  std::deque<Pending> pending_;  // replies expected for current_, in order
  bool pipelined_ = false;       // current_ runs pipelined
  bool needs_rset_ = false;
  bool quit_requested_ = false;
};

}  // namespace tlpmail::smtp
