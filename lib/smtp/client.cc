// The sans-I/O SMTP client session (see client.h): reply parsing, the
// EHLO/HELO/STARTTLS handshake, lockstep and pipelined transactions, and
// the mapping of replies to per-copy results through classify().
// No I/O, no timers, no retry policy.
#include "smtp/client.h"

#include <stdexcept>

#include "util/enum_names.h"
#include "util/text.h"

namespace tlpmail::smtp {

namespace {

// Length of a leading enhanced status code "c.s.d " matching `cls`
// (including the space), or 0.
std::size_t enhanced_prefix(std::string_view text, int cls) {
  const auto end = text.find(' ');
  if (!is_enhanced_code(text.substr(0, end), cls)) return 0;
  return end == std::string_view::npos ? text.size() : end + 1;
}

// Relay text is untrusted: anything but printable ASCII becomes '?'.
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

// One Reply from the lines' texts (after "250-" / "250 "): the enhanced
// code of the first line, the texts joined by single spaces.
Reply make_reply(int code, const std::vector<std::string>& lines) {
  Reply r;
  r.code = code;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view t = lines[i];
    const std::size_t skip = enhanced_prefix(t, code / 100);
    if (i == 0 && skip > 0) r.enhanced = std::string(trim(t.substr(0, skip)));
    t = t.substr(skip);
    if (t.empty()) continue;
    if (!r.text.empty()) r.text += ' ';
    r.text += printable(t);
  }
  return r;
}

bool has_8bit_text(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

bool is_crlf_text(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 >= s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return true;
}

}  // namespace

BodyPart::BodyPart(std::string text)
    : BodyPart(std::make_shared<const std::string>(std::move(text))) {}

BodyPart::BodyPart(std::shared_ptr<const std::string> text)
    : text_(std::move(text)),
      crlf_only_(is_crlf_text(*text_)),
      has_8bit_(has_8bit_text(*text_)),
      has_dot_line_(text_->find("\n.") != std::string::npos) {}

MessageBody::MessageBody(std::string text) { append(std::move(text)); }

void MessageBody::append(std::string text) {
  if (text.empty()) return;
  append(std::make_shared<const BodyPart>(std::move(text)));
}

void MessageBody::append(std::shared_ptr<const BodyPart> part) {
  if (!part || part->text().empty()) return;
  size_ += part->text().size();
  parts_.push_back(std::move(part));
}

bool MessageBody::crlf_only() const {
  for (const auto& p : parts_) {
    if (!p->crlf_only()) return false;
  }
  return true;
}

bool MessageBody::has_8bit() const {
  for (const auto& p : parts_) {
    if (p->has_8bit()) return true;
  }
  return false;
}

bool MessageBody::ends_with_lf() const {
  return !parts_.empty() && parts_.back()->text().back() == '\n';
}

std::string MessageBody::str() const {
  std::string out;
  out.reserve(size_);
  for (const auto& p : parts_) out += p->text();
  return out;
}

namespace {

// A mailbox we are willing to put between <>: printable ASCII without
// spaces or angle brackets (so no command can be injected), at most 256.
bool is_sendable_mailbox(std::string_view m) {
  if (m.size() > 256) return false;
  for (char c : m) {
    if (c <= 0x20 || c > 0x7e || c == '<' || c == '>') return false;
  }
  return true;
}

Reply local_reply(int code, std::string enhanced, std::string_view reason) {
  return {code, std::move(enhanced), "local: " + printable(reason)};
}

constexpr std::string_view kConnectionLost = "connection to the relay lost";
constexpr std::string_view kClosing = "connection closing";

}  // namespace

constexpr auto kStartTlsPolicyNames =
    std::to_array<std::string_view>({"off", "opportunistic", "required"});
static_assert(util::names_cover(kStartTlsPolicyNames, StartTlsPolicy::required));
std::string_view to_string(StartTlsPolicy p) { return util::name_of(kStartTlsPolicyNames, p, "?"); }

constexpr auto kOutcomeNames = std::to_array<std::string_view>({"delivered", "deferred", "failed"});
static_assert(util::names_cover(kOutcomeNames, Outcome::failed));
std::string_view to_string(Outcome o) { return util::name_of(kOutcomeNames, o, "?"); }

Outcome classify(const Reply& r) {
  if (r.code >= 200 && r.code <= 299) return Outcome::delivered;
  if (r.code >= 500 && r.code <= 599) return Outcome::failed;
  return Outcome::deferred;
}

ClientSession::ClientSession(ClientOptions options) : options_(std::move(options)) {
  if (options_.helo_name.empty() || options_.helo_name.size() > 255) {
    throw std::invalid_argument("ClientOptions::helo_name must be 1..255 octets");
  }
  for (char c : options_.helo_name) {
    if (c <= 0x20 || c > 0x7e) {
      throw std::invalid_argument(
          "ClientOptions::helo_name must be printable ASCII without spaces");
    }
  }
  tls_active_ = options_.tls_active;
}

TransactionId ClientSession::submit(OutboundEnvelope envelope) {
  Transaction t;
  t.id = next_id_++;
  t.envelope = std::move(envelope);
  if (phase_ == Phase::closed || quit_requested_) {
    finish_local(std::move(t), local_reply(421, "4.4.0", kClosing), std::string(kClosing));
    return next_id_ - 1;
  }
  queue_.push_back(std::move(t));
  advance();
  return next_id_ - 1;
}

std::string ClientSession::take_output() {
  if (output_.empty()) pump_body();
  return std::exchange(output_, {});
}

std::vector<ClientEvent> ClientSession::take_events() { return std::exchange(events_, {}); }

bool ClientSession::is_idle() const {
  return phase_ == Phase::ready && !current_ && queue_.empty() && !quit_requested_;
}

void ClientSession::send(std::string_view line) {
  output_.append(line);
  output_.append("\r\n");
}

// --- Reply parsing ---

void ClientSession::feed(std::string_view bytes) {
  if (phase_ == Phase::closed || bytes.empty()) return;
  if (phase_ == Phase::awaiting_tls) {
    fault("relay sent data after its reply to STARTTLS", false, false);
    return;
  }
  input_.append(bytes);
  parse_input();
}

void ClientSession::parse_input() {
  std::size_t pos = 0;
  while (phase_ != Phase::closed && phase_ != Phase::awaiting_tls) {
    const auto lf = input_.find('\n', pos);
    if (lf == std::string::npos) {
      if (input_.size() - pos >= kMaxReplyLine) {
        fault("protocol error: reply line too long", false, false);
        return;
      }
      break;
    }
    std::string_view line(input_.data() + pos, lf + 1 - pos);
    pos = lf + 1;
    if (line.size() > kMaxReplyLine) {
      fault("protocol error: reply line too long", false, false);
      return;
    }
    if (line.size() < 2 || line[line.size() - 2] != '\r') {
      fault("protocol error: bare LF in reply", false, false);
      return;
    }
    line.remove_suffix(2);
    if (line.find('\r') != std::string_view::npos) {
      fault("protocol error: bare CR in reply", false, false);
      return;
    }
    if (line.size() < 3 || !is_digits(line.substr(0, 3), 3, 3) || line[0] < '2' || line[0] > '5' ||
        line[1] > '5' || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
      fault("protocol error: malformed reply \"" + escape_for_log(line, 80) + "\"", false, false);
      return;
    }
    const int code = std::stoi(std::string(line.substr(0, 3)));
    if (!reply_lines_.empty() && code != reply_code_) {
      fault("protocol error: multi-line reply changes its code", false, false);
      return;
    }
    reply_code_ = code;
    reply_size_ += line.size() + 2;
    if (reply_size_ > kMaxClientReplySize) {
      fault("protocol error: reply too long", false, false);
      return;
    }
    reply_lines_.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view{});
    if (line.size() > 3 && line[3] == '-') continue;
    std::vector<std::string> lines = std::exchange(reply_lines_, {});
    reply_size_ = 0;
    handle_reply(code, lines);
  }
  if (phase_ == Phase::closed) return;
  input_.erase(0, pos);
  // RFC 3207 5: bytes after the 220 to STARTTLS could be injected by an
  // attacker in the clear; they must never be read as replies under TLS.
  if (phase_ == Phase::awaiting_tls && !input_.empty()) {
    fault("relay sent data after its reply to STARTTLS", false, false);
  }
}

void ClientSession::handle_reply(int code, const std::vector<std::string>& lines) {
  const Reply r = make_reply(code, lines);
  if (code == 421) {
    // Service closing: whatever was asked, nothing more will be answered.
    abort_all(r, "");
    phase_ = Phase::closed;
    emit<ConnectionFault>(
        "relay closed the connection: " + r.to_wire().substr(0, r.to_wire().size() - 2), false);
    return;
  }
  switch (phase_) {
    case Phase::greeting:
    case Phase::ehlo:
    case Phase::helo:
    case Phase::starttls:
      handle_handshake_reply(r, lines);
      return;
    case Phase::ready:
      if (pending_.empty()) {
        fault("protocol error: unexpected reply " + std::to_string(code), false, false);
        return;
      }
      handle_transaction_reply(r);
      return;
    case Phase::quitting:
      // The reply to QUIT, whatever it says.
      phase_ = Phase::closed;
      return;
    case Phase::awaiting_tls:
    case Phase::closed:
      return;
  }
}

// --- Handshake ---

void ClientSession::handle_handshake_reply(const Reply& r, const std::vector<std::string>& lines) {
  const std::string said = " (" + std::to_string(r.code) + " " + r.text + ")";
  switch (phase_) {
    case Phase::greeting:
      if (r.code != 220) {
        fault("relay refused the session" + said, false, true);
        return;
      }
      phase_ = Phase::ehlo;
      send("EHLO " + options_.helo_name);
      return;
    case Phase::ehlo:
      if (r.code == 250) {
        after_ehlo(lines);
        return;
      }
      if (r.code >= 500) {
        phase_ = Phase::helo;
        send("HELO " + options_.helo_name);
        return;
      }
      fault("relay refused EHLO" + said, false, true);
      return;
    case Phase::helo:
      if (r.code != 250) {
        fault("relay refused HELO" + said, r.code >= 500, true);
        return;
      }
      esmtp_ = false;
      extensions_ = Extensions{};
      if (!tls_active_ && options_.starttls == StartTlsPolicy::required) {
        fault("relay does not offer STARTTLS", true, true);
        return;
      }
      establish();
      return;
    case Phase::starttls:
      if (r.code == 220) {
        phase_ = Phase::awaiting_tls;
        emit<StartTlsReady>();
        return;
      }
      if (options_.starttls == StartTlsPolicy::required) {
        fault("relay refused STARTTLS" + said, r.code >= 500, true);
        return;
      }
      establish();  // opportunistic: go on in the clear
      return;
    default:
      return;
  }
}

void ClientSession::after_ehlo(const std::vector<std::string>& lines) {
  esmtp_ = true;
  extensions_ = Extensions{};
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = trim(lines[i]);
    const auto sp = line.find(' ');
    const std::string_view keyword = line.substr(0, sp);
    const std::string_view param =
        sp == std::string_view::npos ? std::string_view{} : trim(line.substr(sp + 1));
    if (iequals(keyword, "PIPELINING")) {
      extensions_.pipelining = true;
    } else if (iequals(keyword, "8BITMIME")) {
      extensions_.eightbitmime = true;
    } else if (iequals(keyword, "STARTTLS")) {
      extensions_.starttls = true;
    } else if (iequals(keyword, "ENHANCEDSTATUSCODES")) {
      extensions_.enhanced_status_codes = true;
    } else if (iequals(keyword, "SIZE")) {
      extensions_.size = true;
      if (is_digits(param, 1, 19)) {
        const std::uint64_t n = std::stoull(std::string(param));
        if (n > 0) extensions_.max_size = n;
      }
    }
  }
  if (!tls_active_ && options_.starttls != StartTlsPolicy::off) {
    if (extensions_.starttls) {
      phase_ = Phase::starttls;
      send("STARTTLS");
      return;
    }
    if (options_.starttls == StartTlsPolicy::required) {
      fault("relay does not offer STARTTLS", true, true);
      return;
    }
  }
  establish();
}

void ClientSession::tls_started() {
  if (phase_ != Phase::awaiting_tls) return;
  tls_active_ = true;
  extensions_ = Extensions{};
  phase_ = Phase::ehlo;
  send("EHLO " + options_.helo_name);
}

void ClientSession::establish() {
  phase_ = Phase::ready;
  emit<Established>(extensions_, tls_active_, esmtp_);
  advance();
}

void ClientSession::quit() {
  if (phase_ == Phase::closed || quit_requested_) return;
  quit_requested_ = true;
  if (phase_ == Phase::greeting && queue_.empty()) {
    // Nothing said yet and nothing to do: just close.
    phase_ = Phase::closed;
    return;
  }
  advance();
}

void ClientSession::connection_lost() {
  if (phase_ == Phase::closed) return;
  abort_all(local_reply(451, "4.4.2", kConnectionLost), std::string(kConnectionLost));
  phase_ = Phase::closed;
}

// --- Transactions ---

void ClientSession::advance() {
  if (phase_ != Phase::ready || current_) return;
  while (!queue_.empty() && !current_) {
    Transaction t = std::move(queue_.front());
    queue_.pop_front();
    start_transaction(std::move(t));
  }
  if (!current_ && quit_requested_) {
    phase_ = Phase::quitting;
    send("QUIT");
  }
}

std::string ClientSession::mail_command(const Transaction& t) const {
  std::string cmd = "MAIL FROM:<" + t.envelope.from + ">";
  if (extensions_.size) cmd += " SIZE=" + std::to_string(t.envelope.body.size());
  if (extensions_.eightbitmime && t.envelope.body.has_8bit()) cmd += " BODY=8BITMIME";
  return cmd;
}

bool ClientSession::start_transaction(Transaction t) {
  const OutboundEnvelope& e = t.envelope;
  // Refusals decided here, before a byte is sent; each names its reason.
  if (e.recipients.empty()) {
    finish_local(std::move(t), local_reply(554, "5.5.1", "no recipients"), "no recipients");
    return false;
  }
  bool addresses_ok = e.from.empty() || is_sendable_mailbox(e.from);
  for (const auto& rcpt : e.recipients)
    addresses_ok = addresses_ok && !rcpt.empty() && is_sendable_mailbox(rcpt);
  if (!addresses_ok) {
    finish_local(std::move(t), local_reply(553, "5.1.3", "address not sendable"),
                 "address not sendable");
    return false;
  }
  if (!e.body.crlf_only()) {
    finish_local(std::move(t), local_reply(554, "5.6.0", "body has a bare CR or LF"),
                 "body has a bare CR or LF");
    return false;
  }
  if (e.body.has_8bit() && !extensions_.eightbitmime) {
    // Converting to 7 bit would break signatures: refuse rather than guess.
    finish_local(std::move(t), local_reply(554, "5.6.3", "relay lacks 8BITMIME"),
                 "relay lacks 8BITMIME");
    return false;
  }
  if (extensions_.max_size && e.body.size() > *extensions_.max_size) {
    finish_local(std::move(t), local_reply(552, "5.3.4", "message exceeds the relay's SIZE limit"),
                 "message exceeds the relay's SIZE limit");
    return false;
  }
  t.rcpt_replies.assign(e.recipients.size(), std::nullopt);
  current_ = std::move(t);
  pipelined_ = extensions_.pipelining;
  pending_.clear();
  if (pipelined_) {
    // RFC 2920 3.1: RSET, MAIL and RCPT may appear anywhere in a group;
    // DATA ends it.
    if (needs_rset_) {
      send("RSET");
      pending_.push_back({Expect::rset});
    }
    send(mail_command(*current_));
    pending_.push_back({Expect::mail});
    for (std::size_t i = 0; i < current_->envelope.recipients.size(); ++i) {
      send("RCPT TO:<" + current_->envelope.recipients[i] + ">");
      pending_.push_back({Expect::rcpt, i});
    }
    send("DATA");
    pending_.push_back({Expect::data});
  } else if (needs_rset_) {
    send("RSET");
    pending_.push_back({Expect::rset});
  } else {
    send(mail_command(*current_));
    pending_.push_back({Expect::mail});
  }
  needs_rset_ = false;
  return true;
}

// Lockstep: the command after the one just answered.
void ClientSession::send_next_lockstep() {
  Transaction& t = *current_;
  if (!t.mail_reply) {
    send(mail_command(t));
    pending_.push_back({Expect::mail});
    return;
  }
  if (t.next_rcpt < t.envelope.recipients.size()) {
    send("RCPT TO:<" + t.envelope.recipients[t.next_rcpt] + ">");
    pending_.push_back({Expect::rcpt, t.next_rcpt});
    ++t.next_rcpt;
    return;
  }
  send("DATA");
  pending_.push_back({Expect::data});
}

void ClientSession::send_body() {
  body_ = BodyCursor{current_->id};
  pump_body();
}

void ClientSession::pump_body() {
  // Dot-stuffing (RFC 5321 4.5.2): a line starting with '.' gets one more.
  // Copied in runs between such lines (a copy is mostly armor, which has
  // none), not byte by byte, about kBodyChunk bytes per call, so a large
  // body is never copied whole. A '.' is always written together with the
  // one stuffed before it.
  if (!body_ || !current_ || current_->id != body_->id) {
    body_.reset();  // the transaction ended (a 421, a fault) meanwhile
    return;
  }
  const MessageBody& body = current_->envelope.body;
  BodyCursor& c = *body_;
  const std::size_t limit = output_.size() + kBodyChunk;
  while (c.part < body.parts().size() && output_.size() < limit) {
    const std::string& text = body.parts()[c.part]->text();
    std::size_t pos = c.offset;
    if (c.line_start && text[pos] == '.') {
      output_ += "..";
      ++pos;
    }
    const bool stuffing = body.parts()[c.part]->has_dot_line();
    while (pos < text.size() && output_.size() < limit) {
      const std::size_t end = std::min(text.size(), pos + (limit - output_.size()));
      // A part without "\n." (the armor) is copied without looking.
      const std::size_t dot = stuffing ? text.find("\n.", pos) : std::string::npos;
      if (dot == std::string::npos || dot + 1 >= end) {
        output_.append(text, pos, end - pos);
        pos = end;
      } else {
        output_.append(text, pos, dot + 1 - pos);
        output_ += "..";
        pos = dot + 2;
      }
    }
    // The next byte starts a line when the last one written was LF.
    c.line_start = text[pos - 1] == '\n';
    c.offset = pos;
    if (c.offset == text.size()) {
      ++c.part;
      c.offset = 0;
    }
  }
  if (c.part < body.parts().size()) return;  // more on the next take_output()
  if (!body.empty() && !body.ends_with_lf()) output_ += "\r\n";
  output_ += ".\r\n";
  body_.reset();
}

void ClientSession::handle_transaction_reply(const Reply& r) {
  const Pending p = pending_.front();
  pending_.pop_front();
  Transaction& t = *current_;
  const bool ok = r.code >= 200 && r.code <= 299;
  const auto any_accepted = [&t] {
    if (!t.mail_reply || classify(*t.mail_reply) != Outcome::delivered) return false;
    for (const auto& rr : t.rcpt_replies) {
      if (rr && classify(*rr) == Outcome::delivered) return true;
    }
    return false;
  };
  const auto not_final = [&r] { return r.code < 200 || (r.code >= 300 && r.code <= 399); };
  switch (p.kind) {
    case Expect::rset:
      if (!ok) {
        fault("relay refused RSET (" + std::to_string(r.code) + " " + r.text + ")", false, true);
        return;
      }
      if (!pipelined_) send_next_lockstep();
      return;
    case Expect::mail:
      if (not_final()) break;
      t.mail_reply = r;
      if (!pipelined_) {
        if (ok) {
          send_next_lockstep();
        } else {
          finish_transaction();
        }
      }
      return;
    case Expect::rcpt:
      if (not_final()) break;
      t.rcpt_replies[p.index] = r;
      if (!pipelined_) {
        if (t.next_rcpt < t.envelope.recipients.size() || any_accepted()) {
          send_next_lockstep();
        } else {
          finish_transaction();
        }
      }
      return;
    case Expect::data:
      if (r.code == 354) {
        if (any_accepted()) {
          send_body();
          pending_.push_back({Expect::body});
        } else {
          // RFC 2920 3.1: DATA accepted although no recipient was; send
          // an empty message's end and ignore its reply.
          output_ += ".\r\n";
          pending_.push_back({Expect::body_discard});
        }
        return;
      }
      if (not_final() || ok) break;
      t.data_reply = r;
      finish_transaction();
      return;
    case Expect::body:
      if (not_final()) break;
      t.end_reply = r;
      finish_transaction();
      return;
    case Expect::body_discard:
      finish_transaction();
      return;
  }
  fault("protocol error: unexpected reply " + std::to_string(r.code), false, false);
}

void ClientSession::finish_transaction() {
  Transaction t = std::move(*current_);
  current_.reset();
  pending_.clear();
  TransactionResult res;
  res.id = t.id;
  const bool mail_ok = t.mail_reply && classify(*t.mail_reply) == Outcome::delivered;
  if (t.end_reply) {
    res.final = *t.end_reply;
  } else if (!mail_ok) {
    res.final = *t.mail_reply;
  } else {
    const Reply* first = nullptr;
    const Reply* first_4xx = nullptr;
    bool accepted = false;
    for (const auto& rr : t.rcpt_replies) {
      if (!rr) continue;
      if (classify(*rr) == Outcome::delivered) accepted = true;
      if (!first) first = &*rr;
      if (!first_4xx && classify(*rr) == Outcome::deferred) first_4xx = &*rr;
    }
    if (accepted && t.data_reply) {
      res.final = *t.data_reply;
    } else {
      res.final = first_4xx ? *first_4xx : *first;
    }
  }
  res.outcome = classify(res.final);
  for (std::size_t i = 0; i < t.envelope.recipients.size(); ++i) {
    RecipientResult rr;
    rr.mailbox = t.envelope.recipients[i];
    if (!mail_ok) {
      rr.reply = *t.mail_reply;
      rr.outcome = classify(rr.reply);
    } else if (t.rcpt_replies[i] && classify(*t.rcpt_replies[i]) != Outcome::delivered) {
      rr.reply = *t.rcpt_replies[i];
      rr.outcome = classify(rr.reply);
    } else {
      rr.reply = res.final;
      rr.outcome = res.outcome;
    }
    res.recipients.push_back(std::move(rr));
  }
  needs_rset_ = res.outcome != Outcome::delivered;
  emit<TransactionDone>(std::move(res));
  advance();
}

void ClientSession::finish_local(Transaction t, Reply final, std::string reason) {
  TransactionResult res;
  res.id = t.id;
  res.final = std::move(final);
  res.outcome = classify(res.final);
  res.local_reason = std::move(reason);
  for (auto& m : t.envelope.recipients) {
    res.recipients.push_back({std::move(m), res.final, res.outcome});  // t ends here
  }
  emit<TransactionDone>(std::move(res));
}

// Every unfinished copy ends with `final` (deferred); a recipient the relay
// already refused for good keeps its refusal.
void ClientSession::abort_all(const Reply& final, const std::string& reason) {
  if (current_) {
    Transaction t = std::move(*current_);
    current_.reset();
    pending_.clear();
    TransactionResult res;
    res.id = t.id;
    res.final = final;
    res.outcome = classify(final);
    res.local_reason = reason;
    const bool mail_ok = t.mail_reply && classify(*t.mail_reply) == Outcome::delivered;
    for (std::size_t i = 0; i < t.envelope.recipients.size(); ++i) {
      RecipientResult rr{t.envelope.recipients[i], final, res.outcome};
      if (mail_ok && t.rcpt_replies[i] && classify(*t.rcpt_replies[i]) == Outcome::failed) {
        rr.reply = *t.rcpt_replies[i];
        rr.outcome = Outcome::failed;
      }
      res.recipients.push_back(std::move(rr));
    }
    emit<TransactionDone>(std::move(res));
  }
  while (!queue_.empty()) {
    Transaction t = std::move(queue_.front());
    queue_.pop_front();
    finish_local(std::move(t), final, reason);
  }
}

void ClientSession::fault(std::string reason, bool permanent, bool send_quit) {
  abort_all(local_reply(451, permanent ? "4.7.0" : "4.4.0", reason), reason);
  if (send_quit) send("QUIT");
  phase_ = Phase::closed;
  input_.clear();
  emit<ConnectionFault>(std::move(reason), permanent);
}

}  // namespace tlpmail::smtp
