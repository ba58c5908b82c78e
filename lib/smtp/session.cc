// The SMTP/LMTP session state machine (see session.h). Input is cut into
// lines at CRLF only; a bare LF or CR is never a line end. Commands are
// handled by one cmd_<verb>() each: checks first (each refusal names its
// reason), then the state change and the success reply. The message body
// is scanned with memchr and passed on in chunks, never buffered whole.
#include "smtp/session.h"

#include <cstring>
#include <stdexcept>
#include <utility>

#include "smtp/address.h"
#include "util/enum_names.h"
#include "util/text.h"

namespace tlpmail::smtp {

namespace {

constexpr std::size_t kMaxCommandContent = kMaxCommandLine - 2;
constexpr std::size_t kMaxMailCommandContent = kMaxMailCommandLine - 2;
constexpr std::size_t kMaxEchoedKeyword = 64;

bool is_printable_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 33 || c > 126) return false;
  }
  return true;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// SIZE value: 1*20DIGIT (RFC 1870). Values beyond 2^64-1 saturate: they
// are syntactically fine and simply too big.
std::optional<std::uint64_t> parse_size(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) {
      v = UINT64_MAX;
    } else {
      v = v * 10 + d;
    }
  }
  return v;
}

bool is_not_implemented(std::string_view verb) {
  static constexpr std::string_view kVerbs[] = {"EXPN", "TURN", "ETRN", "ATRN", "AUTH",
                                                "BDAT", "SEND", "SOML", "SAML", "VERB"};
  for (std::string_view v : kVerbs) {
    if (iequals(verb, v)) return true;
  }
  return false;
}

// The 501 for a MAIL FROM or RCPT TO argument that does not parse: syntax
// and parameter errors are 5.5.4, address errors 5.1.7 for the sender and
// 5.1.3 for a recipient (RFC 3463).
Reply path_error_reply(PathError e, PathKind kind) {
  const bool mail = kind == PathKind::reverse;
  const std::string who = mail ? "sender" : "recipient";
  const std::string address_status = mail ? "5.1.7" : "5.1.3";
  switch (e) {
    case PathError::missing_prefix:
      return {501, "5.5.4", mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>"};
    case PathError::bad_address:
      return {501, address_status, "Error: bad " + who + " address syntax"};
    case PathError::too_long:
      return {501, address_status, "Error: " + who + " address too long"};
    case PathError::bad_parameters:
      break;
  }
  return {501, "5.5.4",
          mail ? "Error: bad MAIL parameter syntax" : "Error: bad RCPT parameter syntax"};
}

// Function-local statics: built on first use, not before main(), where a
// throwing constructor could not be caught (cert-err58-cpp).
const Reply& internal_rcpt_error() {
  static const Reply r{451, "4.3.0", "Error: internal error while checking the recipient"};
  return r;
}
const Reply& internal_queue_error() {
  static const Reply r{451, "4.3.0", "Error: internal error while queueing the message"};
  return r;
}

// True when a line that starts with `partial` and has not ended yet will be
// longer than kMaxTextLine octets whatever follows: the shortest line it can
// still become (a final CR may start its CRLF; a leading dot is unstuffed).
bool partial_line_too_long(std::string_view partial) {
  if (partial.empty()) return false;
  const std::size_t min_length =
      partial.size() - (partial.back() == '\r' ? 1 : 0) - (partial.front() == '.' ? 1 : 0) + 2;
  return min_length > kMaxTextLine;
}

}  // namespace

constexpr auto kBodyTypeNames =
    std::to_array<std::string_view>({"unspecified", "7BIT", "8BITMIME"});
static_assert(util::names_cover(kBodyTypeNames, BodyType::eight_bit_mime));
std::string_view to_string(BodyType b) { return util::name_of(kBodyTypeNames, b); }

constexpr auto kAbortReasonNames =
    std::to_array<std::string_view>({"message_too_big", "line_too_long", "bare_lf", "bare_cr",
                                     "timeout", "shutdown", "connection_lost"});
static_assert(util::names_cover(kAbortReasonNames, AbortReason::connection_lost));
std::string_view to_string(AbortReason r) { return util::name_of(kAbortReasonNames, r); }

std::string too_many_connections_reply(std::string_view hostname) {
  return Reply{421, "4.3.2", std::string(hostname) + " Error: too many connections"}.to_wire();
}

Session::Session(SessionOptions options, RcptResolver resolver)
    : Session(std::move(options),
              resolver ? TransactionRcptResolver(
                             [r = std::move(resolver)](std::string_view mailbox,
                                                       const std::vector<std::string>&) {
                               return r(mailbox);
                             })
                       : TransactionRcptResolver(),
              TransactionTag{}) {}

Session Session::with_transaction_resolver(SessionOptions options,
                                           TransactionRcptResolver resolver) {
  return Session(std::move(options), std::move(resolver), TransactionTag{});
}

Session::Session(SessionOptions options, TransactionRcptResolver resolver, TransactionTag)
    : options_(std::move(options)), resolver_(std::move(resolver)) {
  if (!is_printable_token(options_.hostname) || options_.hostname.size() > 255) {
    throw std::invalid_argument("smtp::Session: hostname must be printable ASCII without spaces");
  }
  if (options_.max_message_size == 0 || options_.max_recipients == 0 || options_.max_errors == 0 ||
      options_.max_pending_input < kMaxMailCommandLine) {
    throw std::invalid_argument("smtp::Session: a limit is out of range");
  }
  if (!resolver_) throw std::invalid_argument("smtp::Session: no recipient resolver");
  send({220, "",
        options_.hostname +
            (options_.protocol == Protocol::lmtp ? " LMTP tlpmail" : " ESMTP tlpmail")});
}

// ---------------------------------------------------------------------------
// Input

void Session::feed(std::string_view bytes) {
  switch (phase_) {
    case Phase::closed:
    case Phase::awaiting_tls:
      return;  // after STARTTLS, plaintext bytes are never interpreted
    case Phase::awaiting_result:
      if (!pending_overflow_) hold_pending(input_.size(), bytes);
      return;
    case Phase::command:
    case Phase::data:
      break;
  }
  if (input_.empty()) {
    const std::size_t used = consume(bytes);
    keep_unconsumed(bytes.substr(used));
  } else {
    std::string buf = std::move(input_);
    input_.clear();
    buf.append(bytes);
    const std::size_t used = consume(buf);
    keep_unconsumed(std::string_view(buf).substr(used));
  }
}

void Session::keep_unconsumed(std::string_view rest) {
  switch (phase_) {
    case Phase::closed:
    case Phase::awaiting_tls:
      input_.clear();
      return;
    case Phase::awaiting_result:
      hold_pending(0, rest);
      return;
    case Phase::command:
    case Phase::data:
      input_.assign(rest);  // a partial line: bounded by the line limits
      return;
  }
}

// Pipelined bytes that arrive while the spool's result is awaited wait in
// input_ after its first `kept` bytes, at most max_pending_input in all;
// past that all of them are dropped and pending_overflow_ is set.
void Session::hold_pending(std::size_t kept, std::string_view more) {
  if (kept + more.size() > options_.max_pending_input) {
    pending_overflow_ = true;
    input_.clear();
    return;
  }
  input_.resize(kept);
  input_.append(more);
}

// Runs the command and data parsers over `in` until it is used up or the
// session must wait. Returns how many bytes were used; the rest is kept.
std::size_t Session::consume(std::string_view in) {
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t n = 0;
    if (phase_ == Phase::command) {
      n = consume_command(in.substr(pos));
    } else if (phase_ == Phase::data) {
      n = consume_data(in.substr(pos));
    } else {
      break;
    }
    if (n == 0) break;
    pos += n;
  }
  if (phase_ == Phase::awaiting_tls && starttls_event_pending_) {
    // RFC 3207 / CVE-2011-0411: whatever followed STARTTLS in this read
    // was sent in plaintext and must not be acted on after the handshake.
    emit<StartTlsRequested>(in.size() - pos);
    starttls_event_pending_ = false;
  }
  if (phase_ == Phase::closed || phase_ == Phase::awaiting_tls) return in.size();
  return pos;
}

// One command line (or the part of an over-long line that can be thrown
// away). Returns the bytes used, 0 when a complete line is not there yet.
std::size_t Session::consume_command(std::string_view in) {
  const std::size_t i = in.find_first_of("\r\n");
  if (i == std::string_view::npos) {
    if (skip_line_ || in.size() > kMaxMailCommandContent) {
      skip_line_ = true;
      return in.size();
    }
    return 0;
  }
  if (in[i] == '\n') {
    fatal_input("Error: bare LF in command is not allowed");
    return in.size();
  }
  if (i + 1 == in.size()) {  // a CR at the end: wait for the next byte
    if (skip_line_ || i > kMaxMailCommandContent) {
      skip_line_ = true;
      return i;
    }
    return 0;
  }
  if (in[i + 1] != '\n') {
    fatal_input("Error: bare CR in command is not allowed");
    return in.size();
  }
  const std::string_view line = in.substr(0, i);
  const bool is_mail = line.size() >= 5 && iequals(line.substr(0, 5), "MAIL ");
  if (skip_line_ || line.size() > (is_mail ? kMaxMailCommandContent : kMaxCommandContent)) {
    skip_line_ = false;
    refuse("", {500, "5.5.2", "Error: line too long"});
    return i + 2;
  }
  handle_command(line);
  return i + 2;
}

// Message lines up to the end of DATA. Only <CRLF>.<CRLF> ends the
// message: a line is whatever lies between two CRLFs, bare LFs and CRs
// included, so "\n.\n", "\r.\r", "\r\n.\n" or "\n.\r\n" never end it.
// Returns the bytes used; an incomplete last line is left for later.
std::size_t Session::consume_data(std::string_view in) {
  const char* base = in.data();
  std::size_t line_start = 0;
  std::size_t search = 0;
  std::size_t run = 0;  // first byte not yet copied into `chunk`
  std::string chunk;
  auto flush_run = [&](std::size_t end) {
    if (!data_bad_ && end > run) chunk.append(base + run, end - run);
    run = end;
  };
  auto emit_chunk = [&] {
    if (!data_bad_ && !chunk.empty()) emit<DataChunk>(std::move(chunk));
    chunk.clear();
  };

  while (search < in.size()) {
    const void* p = std::memchr(base + search, '\n', in.size() - search);
    if (p == nullptr) break;
    const std::size_t nl = static_cast<std::size_t>(static_cast<const char*>(p) - base);
    if (nl == line_start || base[nl - 1] != '\r') {
      // Part of the line, not its end. When the line was already over the
      // limit before this LF, a feed that ended there has refused it as too
      // long (below): the same reply whatever the split (found by fuzzing).
      abort_data(partial_line_too_long(in.substr(line_start, nl - line_start))
                     ? AbortReason::line_too_long
                     : AbortReason::bare_lf);
      search = nl + 1;
      continue;
    }
    const std::size_t next = nl + 1;
    const std::string_view content = in.substr(line_start, nl - 1 - line_start);
    if (skip_line_) {
      skip_line_ = false;  // the tail of an over-long line: already refused
    } else if (content == ".") {
      flush_run(line_start);
      emit_chunk();
      if (data_bad_) {
        finish_bad_data();
      } else {
        emit<DataEnded>(data_size_);
        phase_ = Phase::awaiting_result;
      }
      return next;
    } else if (!data_bad_) {
      const bool stuffed = !content.empty() && content.front() == '.';
      const std::size_t length = content.size() - (stuffed ? 1 : 0);
      // Too long before a bare CR: a read that ended inside a line over
      // the limit has refused it as too long already (below), and a bare CR
      // is seen only at the line's end (found by fuzzing).
      if (length + 2 > kMaxTextLine) {
        abort_data(AbortReason::line_too_long);
      } else if (std::memchr(content.data(), '\r', content.size()) != nullptr) {
        abort_data(AbortReason::bare_cr);
      } else if (length + 2 > options_.max_message_size - data_size_) {
        abort_data(AbortReason::message_too_big);
      } else {
        data_size_ += length + 2;
        if (stuffed) {  // RFC 5321 4.5.2: drop the first of the leading dots
          flush_run(line_start);
          run = line_start + 1;
        }
      }
    }
    line_start = search = next;
  }

  if (in.size() > line_start) {
    const bool ends_cr = in.back() == '\r';
    if (skip_line_ || partial_line_too_long(in.substr(line_start))) {
      abort_data(AbortReason::line_too_long);
      skip_line_ = true;
      flush_run(line_start);
      emit_chunk();
      return in.size() - (ends_cr ? 1 : 0);  // keep a CR that may start CRLF
    }
  }
  flush_run(line_start);
  emit_chunk();
  return line_start;
}

// ---------------------------------------------------------------------------
// Commands

void Session::handle_command(std::string_view line) {
  const std::size_t sp = line.find(' ');
  const std::string_view verb = line.substr(0, sp);
  const std::string_view args =
      sp == std::string_view::npos ? std::string_view() : trim_spaces(line.substr(sp + 1));

  if (iequals(verb, "EHLO") || iequals(verb, "HELO") || iequals(verb, "LHLO")) {
    return cmd_hello(line, verb, args);
  }
  // Every other verb by its handler.
  using Handler = void (Session::*)(std::string_view line, std::string_view args);
  static constexpr std::pair<std::string_view, Handler> kVerbs[] = {
      {"MAIL", &Session::cmd_mail},         {"RCPT", &Session::cmd_rcpt},
      {"DATA", &Session::cmd_data},         {"RSET", &Session::cmd_rset},
      {"NOOP", &Session::cmd_noop},         {"QUIT", &Session::cmd_quit},
      {"VRFY", &Session::cmd_vrfy},         {"HELP", &Session::cmd_help},
      {"STARTTLS", &Session::cmd_starttls},
  };
  for (const auto& [name, handler] : kVerbs) {
    if (iequals(verb, name)) return (this->*handler)(line, args);
  }
  if (is_not_implemented(verb)) {
    refuse(line, {502, "5.5.1", "Error: command not implemented"});
  } else {
    refuse(line, {500, "5.5.2", "Error: command not recognized"});
  }
}

std::string_view Session::hello_verb() const {
  return options_.protocol == Protocol::lmtp ? "LHLO" : "EHLO";
}

void Session::cmd_hello(std::string_view line, std::string_view verb, std::string_view args) {
  const bool lhlo = iequals(verb, "LHLO");
  const bool lmtp = options_.protocol == Protocol::lmtp;
  if (lmtp && !lhlo) return refuse(line, {502, "5.5.1", "Error: this is an LMTP server; use LHLO"});
  if (!lmtp && lhlo)
    return refuse(line, {502, "5.5.1", "Error: this is an SMTP server; use EHLO or HELO"});
  if (!is_printable_token(args))
    return refuse(line, {501, "5.5.4", "Syntax: " + ascii_upper(verb) + " hostname"});

  // RFC 5321 4.1.4: a new HELO/EHLO ends any transaction, like RSET.
  txn_.reset();
  helo_ = std::string(args);
  esmtp_ = !iequals(verb, "HELO");
  if (!esmtp_) return send({250, "", options_.hostname});

  std::vector<std::string> lines{options_.hostname, "PIPELINING",
                                 "SIZE " + std::to_string(options_.max_message_size)};
  if (options_.starttls_available && !tls_active_) lines.emplace_back("STARTTLS");
  lines.emplace_back("ENHANCEDSTATUSCODES");
  lines.emplace_back("8BITMIME");
  std::string wire;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    wire += i + 1 < lines.size() ? "250-" : "250 ";
    wire += lines[i];
    wire += "\r\n";
  }
  send_raw(wire);
}

void Session::cmd_mail(std::string_view line, std::string_view args) {
  if (!helo_)
    return refuse(line, {503, "5.5.1", "Error: send " + std::string(hello_verb()) + " first"});
  if (txn_) return refuse(line, {503, "5.5.1", "Error: nested MAIL command"});
  auto parsed = parse_path_argument(args, PathKind::reverse);
  if (!parsed) return refuse(line, path_error_reply(parsed.error(), PathKind::reverse));
  if (!parsed->params.empty() && !esmtp_) {
    return refuse(line, {555, "5.5.4", "Error: MAIL parameters require EHLO"});
  }
  Transaction txn;
  txn.mail_from = std::move(parsed->mailbox);
  bool seen_body = false;
  for (const EsmtpParam& p : parsed->params) {
    if (p.keyword == "SIZE") {
      if (txn.declared_size) return refuse(line, {501, "5.5.4", "Error: duplicate SIZE parameter"});
      const auto size = parse_size(p.value);
      if (!size) return refuse(line, {501, "5.5.4", "Error: bad SIZE value"});
      txn.declared_size = *size;
    } else if (p.keyword == "BODY") {
      if (seen_body) return refuse(line, {501, "5.5.4", "Error: duplicate BODY parameter"});
      seen_body = true;
      if (iequals(p.value, "7BIT")) {
        txn.body = BodyType::seven_bit;
      } else if (iequals(p.value, "8BITMIME")) {
        txn.body = BodyType::eight_bit_mime;
      } else {
        return refuse(line, {501, "5.5.4", "Error: bad BODY value (7BIT or 8BITMIME)"});
      }
    } else {
      return refuse(
          line, {555, "5.5.4",
                 "Error: unsupported MAIL parameter " + p.keyword.substr(0, kMaxEchoedKeyword)});
    }
  }
  if (txn.declared_size && *txn.declared_size > options_.max_message_size) {
    return refuse(line, {552, "5.3.4",
                         "Error: message size exceeds the limit of " +
                             std::to_string(options_.max_message_size) + " bytes"});
  }
  txn_ = std::move(txn);
  send({250, "2.1.0", "Ok"});
}

void Session::cmd_rcpt(std::string_view line, std::string_view args) {
  if (!txn_) return refuse(line, {503, "5.5.1", "Error: need MAIL command"});
  txn_->rcpt_attempted = true;
  auto parsed = parse_path_argument(args, PathKind::forward);
  if (!parsed) return refuse(line, path_error_reply(parsed.error(), PathKind::forward));
  if (!parsed->params.empty()) {
    return refuse(line, {555, "5.5.4",
                         "Error: unsupported RCPT parameter " +
                             parsed->params.front().keyword.substr(0, kMaxEchoedKeyword)});
  }
  if (txn_->recipients.size() >= options_.max_recipients) {
    // Not counted as an error: RFC 5321 4.5.3.1.10 expects the client to
    // send the rest in a later transaction.
    return refuse(line, {452, "4.5.3", "Error: too many recipients"}, false);
  }
  RcptDecision decision;
  try {
    decision = resolver_(parsed->mailbox, txn_->recipients);
  } catch (...) {
    return refuse(line, internal_rcpt_error());
  }
  if (!decision.accepted) {
    const Reply& r = decision.reply;
    if (r.code < 400 || !is_valid_reply(r)) return refuse(line, internal_rcpt_error());
    // A temporary refusal (e.g. 452 4.5.3 one list per message) is not an
    // error, like "too many recipients": the client is expected to send
    // that recipient in a later transaction, and a message to more lists
    // than max_errors must not end the connection.
    return refuse(line, r, r.code >= 500);
  }
  txn_->recipients.push_back(std::move(parsed->mailbox));
  send({250, "2.1.5", "Ok"});
}

void Session::cmd_data(std::string_view line, std::string_view args) {
  if (!args.empty()) return refuse(line, {501, "5.5.4", "Syntax: DATA"});
  if (!txn_) return refuse(line, {503, "5.5.1", "Error: need MAIL command"});
  if (txn_->recipients.empty()) {
    if (!txn_->rcpt_attempted) return refuse(line, {503, "5.5.1", "Error: need RCPT command"});
    // RFC 2033 4.2 requires 503 for LMTP; RFC 5321 3.3 allows 554 for SMTP.
    const int code = options_.protocol == Protocol::lmtp ? 503 : 554;
    return refuse(line, {code, "5.5.1", "Error: no valid recipients"});
  }
  send({354, "", "End data with <CR><LF>.<CR><LF>"});
  phase_ = Phase::data;
  data_size_ = 0;
  data_bad_ = false;
  skip_line_ = false;
  emit<DataStarted>(make_envelope());
}

void Session::cmd_rset(std::string_view line, std::string_view args) {
  if (!args.empty()) return refuse(line, {501, "5.5.4", "Syntax: RSET"});
  txn_.reset();
  send({250, "2.0.0", "Ok"});
}

void Session::cmd_noop(std::string_view, std::string_view) { send({250, "2.0.0", "Ok"}); }

void Session::cmd_quit(std::string_view line, std::string_view args) {
  if (!args.empty()) return refuse(line, {501, "5.5.4", "Syntax: QUIT"});
  close_with({221, "2.0.0", "Bye"});
}

void Session::cmd_vrfy(std::string_view line, std::string_view args) {
  if (args.empty()) return refuse(line, {501, "5.5.4", "Syntax: VRFY address"});
  send({252, "2.0.0", "Cannot VRFY user; use RCPT to find out"});
}

void Session::cmd_help(std::string_view, std::string_view) {
  std::string text = options_.protocol == Protocol::lmtp ? "Commands: LHLO" : "Commands: EHLO HELO";
  text += " MAIL RCPT DATA RSET NOOP QUIT VRFY HELP";
  if (options_.starttls_available && !tls_active_) text += " STARTTLS";
  send({214, "2.0.0", text});
}

void Session::cmd_starttls(std::string_view line, std::string_view args) {
  if (!options_.starttls_available)
    return refuse(line, {502, "5.5.1", "Error: STARTTLS not available"});
  if (tls_active_) return refuse(line, {503, "5.5.1", "Error: TLS already active"});
  if (!args.empty()) return refuse(line, {501, "5.5.4", "Syntax: STARTTLS"});
  if (txn_)
    return refuse(line, {503, "5.5.1", "Error: STARTTLS not allowed during a mail transaction"});
  send({220, "2.0.0", "Ready to start TLS"});
  phase_ = Phase::awaiting_tls;
  starttls_event_pending_ = true;
}

// ---------------------------------------------------------------------------
// Output and state helpers

void Session::send(const Reply& r) { output_ += r.to_wire(); }

void Session::send_raw(std::string_view wire) { output_ += wire; }

void Session::refuse(std::string_view command, Reply r, bool counts_as_error) {
  send(r);
  emit<Refused>(std::string(command.substr(0, kMaxCommandLine)), r);
  if (counts_as_error && ++errors_ >= options_.max_errors) {
    Reply bye{421, "4.7.0", options_.hostname + " Error: too many errors"};
    emit<Refused>("", bye);
    close_with(bye);
  }
}

void Session::close_with(const Reply& r) {
  send(r);
  phase_ = Phase::closed;
  input_.clear();
}

void Session::fatal_input(std::string_view what) {
  // Postfix's smtpd_forbid_bare_newline does the same: a client that ends
  // lines with a bare LF or CR is out of sync with us; answer and hang up.
  Reply r{500, "5.5.2", std::string(what)};
  emit<Refused>("", r);
  close_with(r);
}

void Session::abort_data(AbortReason reason) {
  if (data_bad_) return;
  data_bad_ = true;
  data_bad_reason_ = reason;
  emit<DataAborted>(reason);
}

Reply Session::data_refusal(AbortReason reason) const {
  switch (reason) {
    case AbortReason::message_too_big:
      return {552, "5.3.4",
              "Error: message size exceeds the limit of " +
                  std::to_string(options_.max_message_size) + " bytes"};
    case AbortReason::line_too_long:
      return {554, "5.6.0", "Error: message has a line longer than 1000 octets"};
    case AbortReason::bare_lf:
      return {554, "5.6.0", "Error: bare LF in message data is not allowed"};
    case AbortReason::bare_cr:
      return {554, "5.6.0", "Error: bare CR in message data is not allowed"};
    case AbortReason::timeout:
    case AbortReason::shutdown:
    case AbortReason::connection_lost:
      break;
  }
  return internal_queue_error();  // not reached: those reasons close the session
}

void Session::finish_bad_data() {
  const Reply r = data_refusal(data_bad_reason_);
  const std::size_t n = options_.protocol == Protocol::lmtp ? txn_->recipients.size() : 1;
  for (std::size_t i = 0; i < n; ++i) send(r);
  emit<Refused>("DATA", r);
  end_transaction();
  phase_ = Phase::command;
}

void Session::end_transaction() {
  txn_.reset();
  data_bad_ = false;
  data_size_ = 0;
  skip_line_ = false;
}

Envelope Session::make_envelope() const {
  Envelope e;
  e.helo = helo_.value_or("");
  e.esmtp = esmtp_;
  e.tls = tls_active_;
  if (txn_) {
    e.mail_from = txn_->mail_from;
    e.body = txn_->body;
    e.declared_size = txn_->declared_size;
    e.recipients = txn_->recipients;
  }
  return e;
}

// ---------------------------------------------------------------------------
// Calls from the server

std::string Session::take_output() { return std::exchange(output_, std::string()); }

std::vector<Event> Session::take_events() { return std::exchange(events_, std::vector<Event>()); }

std::size_t Session::expected_result_count() const {
  if (phase_ != Phase::awaiting_result) return 0;
  return options_.protocol == Protocol::lmtp ? txn_->recipients.size() : 1;
}

bool Session::complete_data(const DataResult& result) {
  if (phase_ != Phase::awaiting_result) return false;
  const std::size_t n = expected_result_count();
  bool ok = result.replies.size() == n;
  for (std::size_t i = 0; ok && i < n; ++i) ok = is_valid_reply(result.replies[i]);
  for (std::size_t i = 0; i < n; ++i) send(ok ? result.replies[i] : internal_queue_error());
  end_transaction();
  phase_ = Phase::command;

  if (deferred_close_) {
    close_with(*deferred_close_);
    return ok;
  }
  if (pending_overflow_) {
    Reply r{421, "4.5.0", options_.hostname + " Error: too much pipelined input"};
    emit<Refused>("", r);
    close_with(r);
    return ok;
  }
  std::string buf = std::move(input_);
  input_.clear();
  const std::size_t used = consume(buf);
  keep_unconsumed(std::string_view(buf).substr(used));
  return ok;
}

void Session::tls_started() {
  if (phase_ != Phase::awaiting_tls) return;
  tls_active_ = true;
  helo_.reset();
  esmtp_ = false;
  txn_.reset();
  input_.clear();
  skip_line_ = false;
  phase_ = Phase::command;
}

void Session::timeout() {
  close_early({421, "4.4.2", options_.hostname + " Error: timeout exceeded"}, AbortReason::timeout);
}

void Session::shutdown() {
  close_early(
      {421, "4.3.2", options_.hostname + " Error: service shutting down, closing connection"},
      AbortReason::shutdown);
}

void Session::close_early(Reply r, AbortReason reason) {
  if (phase_ == Phase::closed) return;
  if (phase_ == Phase::awaiting_result) {
    if (!deferred_close_) deferred_close_ = std::move(r);
    return;
  }
  if (phase_ == Phase::data) abort_data(reason);
  close_with(r);
}

void Session::connection_lost() {
  if (phase_ == Phase::closed) return;
  if (phase_ == Phase::data) abort_data(AbortReason::connection_lost);
  phase_ = Phase::closed;
  input_.clear();
}

bool Session::wants_close() const { return phase_ == Phase::closed; }

bool Session::wants_input() const { return phase_ == Phase::command || phase_ == Phase::data; }

bool Session::awaiting_data_result() const { return phase_ == Phase::awaiting_result; }

bool Session::awaiting_tls() const { return phase_ == Phase::awaiting_tls; }

bool Session::in_data() const { return phase_ == Phase::data; }

bool Session::tls_active() const { return tls_active_; }

}  // namespace tlpmail::smtp
