// libFuzzer target: the SMTP/LMTP server session (lib/smtp/session.h) fed
// a client's byte stream cut into pieces the input chooses (fuzz_util.h),
// with the spool's results and TLS handshakes simulated. Checks what
// session.h promises: replies well formed, chunks whole CRLF lines that add
// up to DataEnded::size, and (when no STARTTLS is involved) the same
// replies, events and messages as the stream fed in one piece.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_util.h"
#include "smtp/session.h"

namespace {

using namespace tlpmail;
using tlpmail::fuzz::SplitInput;

struct Trace {
  std::string output;
  std::vector<std::string> events;    // every event but DataChunk, described
  std::vector<std::string> messages;  // content of each message that reached DataEnded
  bool starttls = false;
};

smtp::SessionOptions options_for(std::uint8_t flags) {
  smtp::SessionOptions o;
  o.hostname = "lists.example.org";
  o.protocol = (flags & 1) ? smtp::Protocol::lmtp : smtp::Protocol::smtp;
  o.starttls_available = (flags & 2) != 0;
  const int rc = (flags >> 4) & 3;
  o.max_recipients = rc == 0 ? 100 : static_cast<std::size_t>(rc);
  if (flags & 0x40) o.max_message_size = 300;
  if (flags & 0x80) o.max_errors = 3;
  return o;
}

smtp::RcptDecision resolve(std::string_view mailbox) {
  if (!mailbox.empty() && mailbox[0] == 'r') {
    return smtp::RcptDecision::reject(smtp::unknown_recipient_reply(mailbox));
  }
  if (!mailbox.empty() && mailbox[0] == 'q') {
    return smtp::RcptDecision::reject({452, "4.5.3", "Error: one list per message"});
  }
  return smtp::RcptDecision::accept();
}

// The n-th message's result: accepted, refused, deferred, or (every fifth)
// a malformed result that the session must turn into a 451.
smtp::DataResult result_for(std::size_t n, std::size_t count) {
  static const smtp::Reply kReplies[] = {{250, "2.0.0", "Ok: queued as 3F2A9"},
                                         {550, "5.7.1", "Error: message is not signed"},
                                         {451, "4.3.0", "Error: local fault, try again later"}};
  smtp::DataResult r;
  if (n % 5 == 4) {
    r.replies.push_back({250, "", "bad\r\ninjected"});
    return r;
  }
  for (std::size_t i = 0; i < count; ++i) r.replies.push_back(kReplies[(n + i) % 3]);
  return r;
}

void check_output(std::string_view out) {
  // Every line a reply line: three digits, ' ' or '-', CRLF-terminated.
  while (!out.empty()) {
    const auto end = out.find("\r\n");
    FUZZ_CHECK(end != std::string_view::npos);
    const std::string_view line = out.substr(0, end);
    FUZZ_CHECK(line.size() >= 3);
    for (int i = 0; i < 3; ++i) FUZZ_CHECK(line[i] >= '0' && line[i] <= '9');
    FUZZ_CHECK(line.size() == 3 || line[3] == ' ' || line[3] == '-');
    FUZZ_CHECK(line.find('\r') == std::string_view::npos);
    FUZZ_CHECK(line.find('\n') == std::string_view::npos);
    out.remove_prefix(end + 2);
  }
}

Trace run(const SplitInput& in, bool split) {
  const smtp::SessionOptions opts = options_for(in.flags);
  smtp::Session s(opts, resolve);
  Trace t;
  bool in_message = false;
  std::string message;
  std::size_t results = 0;

  auto drain = [&] {
    for (int guard = 0; guard < 10000; ++guard) {
      bool again = false;
      for (auto& e : s.take_events()) {
        if (auto* c = std::get_if<smtp::DataChunk>(&e)) {
          FUZZ_CHECK(in_message);
          FUZZ_CHECK(c->bytes.size() >= 2);
          FUZZ_CHECK(c->bytes.ends_with("\r\n"));
          message += c->bytes;
          continue;
        }
        if (auto* d = std::get_if<smtp::DataStarted>(&e)) {
          FUZZ_CHECK(!in_message);
          FUZZ_CHECK(!d->envelope.recipients.empty());
          FUZZ_CHECK(d->envelope.recipients.size() <= opts.max_recipients);
          in_message = true;
          message.clear();
          t.events.push_back("started " + std::to_string(d->envelope.recipients.size()));
        } else if (auto* d = std::get_if<smtp::DataEnded>(&e)) {
          FUZZ_CHECK(in_message);
          FUZZ_CHECK(d->size == message.size());
          FUZZ_CHECK(d->size <= opts.max_message_size);
          // Whole lines, none over the limit, no bare CR or LF.
          std::size_t start = 0;
          while (start < message.size()) {
            const auto lf = message.find('\n', start);
            FUZZ_CHECK(lf != std::string::npos && lf > start && message[lf - 1] == '\r');
            FUZZ_CHECK(lf + 1 - start <= smtp::kMaxTextLine);
            FUZZ_CHECK(message.find('\r', start) == lf - 1);
            start = lf + 1;
          }
          in_message = false;
          t.messages.push_back(message);
          t.events.push_back("ended " + std::to_string(d->size));
        } else if (auto* a = std::get_if<smtp::DataAborted>(&e)) {
          in_message = false;
          t.events.push_back("aborted " + std::string(smtp::to_string(a->reason)));
        } else if (std::holds_alternative<smtp::StartTlsRequested>(e)) {
          t.starttls = true;
          t.events.push_back("starttls");
        } else if (auto* r = std::get_if<smtp::Refused>(&e)) {
          FUZZ_CHECK(r->reply.code >= 400 && r->reply.code <= 599);
          FUZZ_CHECK(r->command.size() <= smtp::kMaxCommandLine);
          t.events.push_back("refused " + r->reply.to_string());
        }
      }
      const std::string out = s.take_output();
      check_output(out);
      t.output += out;
      if (s.awaiting_data_result()) {
        const std::size_t want = s.expected_result_count();
        FUZZ_CHECK(want >= 1);
        s.complete_data(result_for(results++, want));
        again = true;
      } else if (s.awaiting_tls()) {
        s.tls_started();
        FUZZ_CHECK(s.tls_active());
        again = true;
      }
      if (!again) return;
    }
    FUZZ_CHECK(!"session never settles");
  };

  tlpmail::fuzz::feed_stream(s, in, split, drain);
  if (in.flags & 4) {
    s.shutdown();
  } else if (in.flags & 8) {
    s.timeout();
  } else {
    s.connection_lost();
  }
  drain();
  FUZZ_CHECK(s.wants_close());
  FUZZ_CHECK(!in_message);
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // session.h: replies, events other than DataChunk and the content of
  // every message that reaches DataEnded do not depend on the split. Not
  // across STARTTLS (bytes after it in the same feed are discarded), and
  // not when the pipelined input may overflow max_pending_input.
  auto comparable = [](const SplitInput& in, const Trace& t) {
    return !t.starttls && in.stream.size() < smtp::SessionOptions{}.max_pending_input;
  };
  return tlpmail::fuzz::split_and_whole(
      data, size, run, comparable, [](const Trace& split, const Trace& whole) {
        if (split.output != whole.output) {
          tlpmail::fuzz::show_difference("output, split", split.output, "whole", whole.output);
        }
        FUZZ_CHECK(split.output == whole.output);
        FUZZ_CHECK(split.events == whole.events);
        FUZZ_CHECK(split.messages == whole.messages);
      });
}
