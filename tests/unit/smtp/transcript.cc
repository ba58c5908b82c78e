// Test driver and transcript runner for smtp::Session (see transcript.h).
#include "transcript.h"

#include <sstream>
#include <type_traits>
#include <variant>

#include "directory/directory.h"
#include "util/text.h"

namespace tlpmail::smtp::testing {

SessionOptions default_options() {
  SessionOptions o;
  o.hostname = "lists.example.org";
  o.protocol = Protocol::smtp;
  o.max_message_size = 26214400;
  return o;
}

SessionOptions default_options_with(const std::function<void(SessionOptions&)>& change) {
  SessionOptions o = default_options();
  change(o);
  return o;
}

SessionOptions lmtp_options() {
  return default_options_with([](SessionOptions& o) { o.protocol = Protocol::lmtp; });
}

namespace {

// The resolver tlpmaild uses, over a directory holding just these lists.
Session::RcptResolver list_resolver(const std::vector<std::string>& addresses) {
  std::vector<directory::MailingList> lists;
  for (const auto& a : addresses) {
    directory::MailingList l;
    l.address = a;
    lists.push_back(std::move(l));
  }
  auto dir = std::make_shared<directory::Directory>(std::vector<directory::Person>{},
                                                    std::move(lists));
  return [dir](std::string_view mailbox) {
    return dir->match_list_address(mailbox) ? RcptDecision::accept()
                                            : RcptDecision::reject(unknown_recipient_reply(mailbox));
  };
}

}  // namespace

Driver::Driver(SessionOptions options, std::vector<std::string> lists)
    : session(std::move(options), list_resolver(lists)) {
  pump();
}

Driver::Driver(Session s) : session(std::move(s)) { pump(); }

void Driver::feed(std::string_view bytes) {
  session.feed(bytes);
  pump();
}

std::string Driver::answer(std::string_view bytes) {
  const std::size_t before = output.size();
  feed(bytes);
  return output.substr(before);
}

DataResult Driver::next_result() {
  if (!results.empty()) {
    DataResult r = std::move(results.front());
    results.pop_front();
    return r;
  }
  const std::string id = "Q" + std::to_string(++queued);
  DataResult r;
  for (std::size_t i = 0; i < session.expected_result_count(); ++i) {
    r.replies.push_back({250, "2.0.0", "Ok: queued as " + id});
  }
  return r;
}

void Driver::release() {
  if (!pending_end) return;
  pending_end = false;
  session.complete_data(next_result());
  pump();
}

void Driver::pump() {
  while (true) {
    std::vector<Event> events = session.take_events();
    output += session.take_output();
    if (events.empty()) break;
    for (Event& e : events) {
      std::visit(
          [&](auto& ev) {
            using T = std::decay_t<decltype(ev)>;
            if constexpr (std::is_same_v<T, DataStarted>) {
              messages.push_back(Message{ev.envelope, "", false, std::nullopt});
            } else if constexpr (std::is_same_v<T, DataChunk>) {
              messages.back().body += ev.bytes;
            } else if constexpr (std::is_same_v<T, DataEnded>) {
              messages.back().ended = true;
              EXPECT_EQ(ev.size, messages.back().body.size());
              pending_end = true;
            } else if constexpr (std::is_same_v<T, DataAborted>) {
              messages.back().aborted = ev.reason;
            } else if constexpr (std::is_same_v<T, StartTlsRequested>) {
              starttls_discards.push_back(ev.discarded_bytes);
            } else if constexpr (std::is_same_v<T, Refused>) {
              refusals.push_back(ev.command + "|" + ev.reply.to_wire());
            }
          },
          e);
    }
    if (pending_end && !hold) release();
    if (auto_tls && session.awaiting_tls()) session.tls_started();
  }
}

void PrintTo(const Message& m, std::ostream* os) {
  *os << "{from=" << m.envelope.mail_from << " rcpts=" << m.envelope.recipients.size() << " body=\""
      << escape_for_log(m.body, 300) << "\" ended=" << m.ended
      << " aborted=" << (m.aborted ? std::string(to_string(*m.aborted)) : "-") << "}";
}

namespace {
constexpr std::string_view kMailStep = ">MAIL FROM:<a@b.example>\n<250 2.1.0 Ok\n";
constexpr std::string_view kDataStep = ">DATA\n<354 End data with <CR><LF>.<CR><LF>\n";
std::string rcpt_step(std::string_view rcpt) {
  return ">RCPT TO:<" + std::string(rcpt) + ">\n<250 2.1.5 Ok\n";
}
}  // namespace

std::string opened(Upto upto, std::string_view rest) {
  std::string steps = "<220 lists.example.org ESMTP tlpmail\n";
  if (upto >= Upto::ehlo) steps += ">EHLO c.example\n<@ehlo\n";
  if (upto >= Upto::mail) steps += kMailStep;
  if (upto >= Upto::rcpt) steps += rcpt_step("ops@lists.example.org");
  if (upto >= Upto::data) steps += kDataStep;
  return steps + std::string(rest);
}

std::string transaction(std::string_view rcpt) {
  return std::string(kMailStep) + rcpt_step(rcpt) + std::string(kDataStep);
}

std::string unescape(std::string_view s, bool* crlf) {
  *crlf = true;
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    switch (c) {
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case '0':
        out += '\0';
        break;
      case '\\':
        out += '\\';
        break;
      case 'c':
        if (i + 1 == s.size()) *crlf = false;
        break;
      case 'x': {
        const std::string hex(s.substr(i + 1, 2));
        out += static_cast<char>(std::stoi(hex, nullptr, 16));
        i += 2;
        break;
      }
      default:
        out += '\\';
        out += c;
    }
  }
  if (*crlf) out += "\r\n";
  return out;
}

DataResult parse_result(std::string_view spec) {
  DataResult r;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t bar = spec.find(" | ", start);
    std::string_view one = trim(spec.substr(start, bar == spec.npos ? spec.npos : bar - start));
    Reply reply;
    const auto sp1 = one.find(' ');
    reply.code = std::stoi(std::string(one.substr(0, sp1)));
    const auto sp2 = one.find(' ', sp1 + 1);
    reply.enhanced = std::string(one.substr(sp1 + 1, sp2 - sp1 - 1));
    reply.text = sp2 == one.npos ? "" : std::string(one.substr(sp2 + 1));
    r.replies.push_back(reply);
    if (bar == spec.npos) break;
    start = bar + 3;
  }
  return r;
}

namespace {

std::vector<std::string_view> script_lines(std::string_view script) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < script.size()) {
    std::size_t nl = script.find('\n', start);
    if (nl == script.npos) nl = script.size();
    std::string_view line = script.substr(start, nl - start);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (!line.empty() && line.front() != '#') lines.push_back(line);
    start = nl + 1;
  }
  return lines;
}

std::string show(std::string_view s) { return escape_for_log(s, 100000); }

// Server bytes of a '<' line; "<@ehlo" and "<@ehlo-tls" stand for the EHLO
// reply under default_options() without and with STARTTLS.
std::string server_bytes(std::string_view rest) {
  if (rest == "@ehlo" || rest == "@ehlo-tls") {
    return std::string("250-lists.example.org\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n") +
           (rest == "@ehlo-tls" ? "250-STARTTLS\r\n" : "") +
           "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n";
  }
  bool crlf = true;
  return unescape(rest, &crlf);
}

}  // namespace

::testing::AssertionResult run_transcript(Driver& d, std::string_view script) {
  std::size_t cursor = 0;
  int step = 0;
  for (std::string_view line : script_lines(script)) {
    ++step;
    const char kind = line.front();
    std::string_view rest = line.substr(1);
    if (kind == '>') {
      if (cursor != d.output.size()) {
        return ::testing::AssertionFailure()
               << "step " << step << " (" << show(line) << "): unexpected server output \""
               << show(std::string_view(d.output).substr(cursor)) << "\"";
      }
      bool crlf = true;
      d.feed(unescape(rest, &crlf));
    } else if (kind == '<') {
      const std::string want = server_bytes(rest);
      const std::string got = d.output.substr(cursor, want.size());
      if (got != want) {
        return ::testing::AssertionFailure()
               << "step " << step << ": want \"" << show(want) << "\", got \""
               << show(std::string_view(d.output).substr(cursor)) << "\"";
      }
      cursor += want.size();
    } else if (kind == '!') {
      const std::string_view action = trim(rest.substr(0, rest.find(' ')));
      const std::string_view arg =
          rest.find(' ') == rest.npos ? "" : trim(rest.substr(rest.find(' ')));
      if (action == "timeout") {
        d.session.timeout();
      } else if (action == "shutdown") {
        d.session.shutdown();
      } else if (action == "lost") {
        d.session.connection_lost();
      } else if (action == "tls") {
        d.session.tls_started();
      } else if (action == "hold") {
        d.hold = true;
      } else if (action == "release") {
        d.hold = false;
        d.release();
      } else if (action == "result") {
        d.results.push_back(parse_result(arg));
      } else if (action == "close") {
        if (!d.session.wants_close()) {
          return ::testing::AssertionFailure()
                 << "step " << step << ": session does not want to close";
        }
      } else if (action == "open") {
        if (d.session.wants_close()) {
          return ::testing::AssertionFailure() << "step " << step << ": session wants to close";
        }
      } else {
        return ::testing::AssertionFailure()
               << "step " << step << ": unknown action " << show(action);
      }
      d.pump();
    } else {
      return ::testing::AssertionFailure() << "step " << step << ": bad script line " << show(line);
    }
  }
  if (cursor != d.output.size()) {
    return ::testing::AssertionFailure() << "unexpected server output at the end: \""
                                         << show(std::string_view(d.output).substr(cursor)) << "\"";
  }
  return ::testing::AssertionSuccess();
}

Flat flatten(std::string_view script) {
  Flat f;
  for (std::string_view line : script_lines(script)) {
    bool crlf = true;
    if (line.front() == '>') f.client += unescape(line.substr(1), &crlf);
    if (line.front() == '<') f.server += server_bytes(line.substr(1));
  }
  return f;
}

}  // namespace tlpmail::smtp::testing
