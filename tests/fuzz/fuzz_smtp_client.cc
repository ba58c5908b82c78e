// libFuzzer target: the relay client session (smtp::ClientSession,
// lib/smtp/client.h) with copies submitted and a hostile relay's replies
// fed in pieces the input chooses (fuzz_util.h): the class of bug behind
// OpenSMTPD's CVE-2020-8794 (a server reply that takes over the client).
// Checks what client.h promises: each copy finished exactly once with
// outcome == classify(reply), commands well formed, and (when no TLS
// handshake is involved) the same output and events as one piece.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "fuzz_util.h"
#include "smtp/client.h"

namespace {

using namespace tlpmail;
using tlpmail::fuzz::SplitInput;

struct Trace {
  std::string output;
  std::vector<std::string> events;
  bool tls = false;
};

std::string describe(const smtp::TransactionResult& r) {
  std::string s = "done " + std::to_string(r.id) + " " + std::string(smtp::to_string(r.outcome)) +
                  " " + r.final.to_string() + " " + r.local_reason;
  for (const auto& rr : r.recipients) s += " | " + rr.mailbox + " " + rr.reply.to_string();
  return s;
}

smtp::OutboundEnvelope envelope(int i, std::uint8_t flags) {
  smtp::OutboundEnvelope e;
  e.from = (i == 1) ? "" : "ops-bounces+t" + std::to_string(i) + "@lists.example.org";
  for (int r = 0; r <= i; ++r) e.recipients.push_back("m" + std::to_string(r) + "@csirt.example");
  std::string body = "Subject: x\r\n\r\nhello\r\n.leading dot\r\n";
  if (flags & 0x40) body += "8bit \xc3\xa9\r\n";
  if (i == 2) body += std::string(2000, 'a') + "\r\n";
  e.body = std::move(body);
  return e;
}

Trace run(const SplitInput& in, bool split) {
  smtp::ClientOptions opts;
  opts.helo_name = "lists.example.org";
  opts.starttls = static_cast<smtp::StartTlsPolicy>((in.flags & 3) % 3);
  opts.tls_active = (in.flags & 4) != 0;
  smtp::ClientSession c(opts);
  Trace t;
  const int copies = 1 + ((in.flags >> 3) & 3);
  std::map<smtp::TransactionId, smtp::OutboundEnvelope> open;
  for (int i = 0; i < copies; ++i) {
    smtp::OutboundEnvelope e = envelope(i, in.flags);
    const auto id = c.submit(e);
    FUZZ_CHECK(id == static_cast<smtp::TransactionId>(i + 1));
    open.emplace(id, std::move(e));
  }
  if (in.flags & 0x20) c.quit();

  auto drain = [&] {
    for (int guard = 0; guard < 1000; ++guard) {
      for (auto& e : c.take_events()) {
        if (auto* d = std::get_if<smtp::TransactionDone>(&e)) {
          const auto& r = d->result;
          auto it = open.find(r.id);
          FUZZ_CHECK(it != open.end());  // finished once, and only what was submitted
          FUZZ_CHECK(r.outcome == smtp::classify(r.final));
          FUZZ_CHECK(r.recipients.size() == it->second.recipients.size());
          for (std::size_t i = 0; i < r.recipients.size(); ++i) {
            FUZZ_CHECK(r.recipients[i].mailbox == it->second.recipients[i]);
            FUZZ_CHECK(r.recipients[i].outcome == smtp::classify(r.recipients[i].reply));
          }
          open.erase(it);
          t.events.push_back(describe(r));
        } else if (auto* est = std::get_if<smtp::Established>(&e)) {
          if (opts.starttls == smtp::StartTlsPolicy::required) FUZZ_CHECK(est->tls);
          t.events.push_back(std::string("established") + (est->tls ? " tls" : ""));
        } else if (std::holds_alternative<smtp::StartTlsReady>(e)) {
          t.events.push_back("starttls");
        } else if (auto* f = std::get_if<smtp::ConnectionFault>(&e)) {
          FUZZ_CHECK(c.wants_close());
          t.events.push_back("fault " + f->reason);
        }
      }
      const std::string out = c.take_output();
      // Commands: CRLF lines; no reply text ever reaches the relay.
      if (!out.empty()) FUZZ_CHECK(out.ends_with("\r\n"));
      t.output += out;
      if (!c.awaiting_tls()) return;
      t.tls = true;
      c.tls_started();
      FUZZ_CHECK(c.tls_active());
    }
    FUZZ_CHECK(!"client never settles");
  };

  tlpmail::fuzz::feed_stream(c, in, split, drain);
  c.connection_lost();
  drain();
  FUZZ_CHECK(c.wants_close());
  FUZZ_CHECK(open.empty());  // every copy got its TransactionDone
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // client.h: output and events do not depend on the split; bytes after
  // the 220 to STARTTLS are a protocol error, so not across a handshake.
  return tlpmail::fuzz::split_and_whole(
      data, size, run, [](const SplitInput&, const Trace& t) { return !t.tls; },
      [](const Trace& split, const Trace& whole) {
        FUZZ_CHECK(split.output == whole.output);
        FUZZ_CHECK(split.events == whole.events);
      });
}
