// The relay client driver (see relay.h): the shared job queue, connections
// opened on demand and reused, and per connection one coroutine that
// connects, feeds smtp::ClientSession, does STARTTLS and QUITs when idle or
// stopping; every wait has a deadline. Logs event "relay" (debug: normal
// work, warn: faults), never bodies; relay text is escaped by log::event.
#include "delivery/relay.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "log/log.h"
#include "util/text.h"

namespace tlpmail::delivery {

using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using boost::system::error_code;
using spdlog::level::level_enum;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadBufferSize = std::size_t{16} * 1024;
constexpr std::string_view kStopping = "relay client stopping";
// smtp/client.cc's reason for connection_lost(); replaced by what we know.
constexpr std::string_view kSessionLost = "connection to the relay lost";

// Reasons may quote the relay or OpenSSL; replies carry printable ASCII only.
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

std::string duration_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

// A copy that never reached a session: a local 451 naming the reason.
smtp::TransactionResult local_result(const smtp::OutboundEnvelope& e, std::string enhanced,
                                     const std::string& reason) {
  smtp::TransactionResult res;
  res.final = smtp::Reply{451, std::move(enhanced), "local: " + printable(reason)};
  res.outcome = smtp::classify(res.final);
  res.local_reason = reason;
  for (const auto& m : e.recipients) res.recipients.push_back({m, res.final, res.outcome});
  return res;
}

// The session said "connection to the relay lost"; we know more.
void replace_lost_reason(smtp::TransactionResult& res, const std::string& reason) {
  const smtp::Reply old = res.final;
  res.final.text = "local: " + printable(reason);
  res.local_reason = reason;
  for (auto& r : res.recipients) {
    if (r.reply == old) r.reply = res.final;
  }
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

bool is_eof(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

std::string tls_error_text(const error_code& ec) {
  std::string r = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    if (const char* s = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) r = s;
  }
  return r;
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_relay_tls_context() {
  namespace ssl = asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  ctx->set_verify_mode(ssl::verify_none);
  return ctx;
}

namespace detail {

// One connection to the relay and what its coroutine knows about it.
struct Link {
  Link(const asio::any_io_executor& io, std::uint64_t n)
      : serial(n),
        id("r" + std::to_string(n)),
        resolver(io),
        socket(io),
        deadline(io),
        wake(io),
        buffer(kReadBufferSize) {}

  std::uint64_t serial;
  std::string id;  // log id: r1, r2, ...
  tcp::resolver resolver;
  tcp::socket socket;
  std::optional<asio::ssl::stream<tcp::socket&>> tls;
  asio::steady_timer deadline;  // of the current step; cancelled by abort()
  asio::steady_timer wake;      // cancelled to wake an idle connection
  std::optional<smtp::ClientSession> session;
  std::vector<char> buffer;
  std::string out;  // being written (a member: the write refers to it)

  bool established = false;   // the session said Established
  bool idle_waiting = false;  // in idle_wait(), may be woken
  bool woken = false;         // woken for a queued job, not resumed yet
  bool closing = false;       // idle too long: QUIT when idle
  bool quit_sent = false;
  bool tls_pending = false;      // StartTlsReady seen, handshake not done
  bool expect_data_end = false;  // the body went out: data_end applies
  bool aborted = false;          // cut by stop() or the destructor
  std::string abort_reason;
  std::string fault;        // why the connection failed (empty: it did not)
  std::string loss_reason;  // replaces kSessionLost in the session's results
  std::optional<std::uint64_t> job;  // the job the session is running
  std::size_t jobs_done = 0;
  Clock::time_point idle_until;
};

class RelayCore : public std::enable_shared_from_this<RelayCore> {
 public:
  RelayCore(asio::any_io_executor io, RelayOptions options, Completion on_done)
      : io_(std::move(io)),
        options_(std::move(options)),
        on_done_(std::move(on_done)),
        idle_(io_),
        relay_(address_text()),
        port_text_(std::to_string(options_.port)) {
    if (options_.host.empty()) throw std::invalid_argument("RelayOptions::host is empty");
    if (options_.max_connections == 0) {
      throw std::invalid_argument("RelayOptions::max_connections must be at least 1");
    }
    client_.helo_name = options_.helo_name;
    // Without a context, opportunistic means clear text; required never
    // gets a session (open() refuses).
    client_.starttls = options_.tls ? options_.starttls : smtp::StartTlsPolicy::off;
    smtp::ClientSession probe(client_);  // throws on a bad helo_name
    idle_.expires_at(asio::steady_timer::time_point::max());
  }

  void submit(Job job) {
    if (stopping_) {
      post_completion(job.id, local_result(job.envelope, "4.3.0", std::string(kStopping)));
      return;
    }
    queue_.push_back(std::move(job));
    dispatch(1);
  }

  std::size_t queued() const { return queue_.size(); }
  std::size_t in_flight() const { return in_flight_; }
  std::size_t connections() const { return links_.size(); }

  asio::awaitable<void> stop(std::chrono::milliseconds grace) {
    if (!stopping_) {
      stopping_ = true;
      std::string queued_text = std::to_string(queue_.size());
      std::string running_text = std::to_string(in_flight_);
      log::event(level_enum::debug, "-", "relay",
                 {{"action", "stop"}, {"queued", queued_text}, {"in_flight", running_text}});
      fail_queue_later();
      for (auto& [serial, link] : links_) {
        if (!link->established) {
          abort(*link, std::string(kStopping));
        } else if (link->idle_waiting) {
          link->wake.cancel();  // it sees stopping_ and sends QUIT
        }
      }
    }
    asio::steady_timer grace_timer(io_, grace);
    bool cut = false;
    while (!links_.empty() || posted_ > 0) {
      if (cut) {
        co_await idle_.async_wait(kTuple);
        continue;
      }
      auto r = co_await (idle_.async_wait(kTuple) || grace_timer.async_wait(kTuple));
      if (r.index() == 1) {
        cut = true;  // the grace is over (also when only posted completions remain)
        if (links_.empty()) continue;
        std::string left = std::to_string(links_.size());
        log::event(level_enum::warn, "-", "relay",
                   {{"action", "stop"}, {"cutting", left}, {"reason", "grace period over"}});
        for (auto& [serial, link] : links_) abort(*link, std::string(kStopping));
      }
    }
  }

  // The Relay is destroyed: cut everything; completions still run (posted
  // or from the coroutines, which keep this core alive).
  void abandon() {
    stopping_ = true;
    fail_queue_later();
    for (auto& [serial, link] : links_) abort(*link, std::string(kStopping));
  }

 private:
  std::string address_text() const {
    const bool v6 = options_.host.find(':') != std::string::npos;
    return (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(options_.port);
  }

  // "relay does not offer STARTTLS" -> "relay 127.0.0.1:25 does not offer
  // STARTTLS"; anything else gets "relay H:P: " in front.
  std::string named(const std::string& reason) const {
    if (reason.rfind("relay ", 0) == 0) return "relay " + relay_ + reason.substr(5);
    return "relay " + relay_ + ": " + reason;
  }

  std::string lost_text(const error_code& ec) const {
    if (is_eof(ec)) return "relay " + relay_ + " closed the connection";
    return "connection to relay " + relay_ + " lost: " + ec.message();
  }

  // --- the queue ---

  // Wakes idle connections and opens at most `max_new` new ones, so that
  // as many connections are coming for the queue as jobs wait in it.
  void dispatch(std::size_t max_new) {
    if (stopping_) return;
    std::size_t coming = 0;
    for (const auto& [serial, link] : links_) {
      if (link->aborted) continue;
      if (!link->established || link->woken) ++coming;
    }
    for (auto& [serial, link] : links_) {
      if (coming >= queue_.size()) break;
      if (link->idle_waiting && !link->woken && !link->aborted) {
        link->woken = true;
        link->wake.cancel();
        ++coming;
      }
    }
    while (max_new > 0 && coming < queue_.size() && links_.size() < options_.max_connections) {
      open_link();
      ++coming;
      --max_new;
    }
  }

  void open_link() {
    auto link = std::make_shared<Link>(io_, ++next_serial_);
    links_.emplace(link->serial, link);
    asio::co_spawn(io_, run(shared_from_this(), link), [](const std::exception_ptr&) {});
  }

  bool take_job(Link& l) {
    if (queue_.empty()) return false;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    l.job = job.id;
    ++in_flight_;
    std::string job_text = std::to_string(job.id);
    std::string rcpts = std::to_string(job.envelope.recipients.size());
    std::string size = std::to_string(job.envelope.body.size());
    log::event(level_enum::debug, l.id, "relay",
               {{"action", "send"}, {"job", job_text}, {"rcpts", rcpts}, {"size", size}});
    l.session->submit(std::move(job.envelope));
    return true;
  }

  void complete(std::uint64_t job_id, const smtp::TransactionResult& result) {
    try {
      if (on_done_) on_done_(job_id, result);
    } catch (const std::exception& e) {
      std::string job_text = std::to_string(job_id);
      log::event(level_enum::err, "-", "relay",
                 {{"action", "completion"}, {"job", job_text}, {"error", e.what()}});
    } catch (...) {
      std::string job_text = std::to_string(job_id);
      log::event(level_enum::err, "-", "relay",
                 {{"action", "completion"}, {"job", job_text}, {"error", "unknown exception"}});
    }
  }

  void post_completion(std::uint64_t job_id, smtp::TransactionResult result) {
    ++posted_;
    asio::post(io_, [self = shared_from_this(), job_id, r = std::move(result)] {
      self->complete(job_id, r);
      --self->posted_;
      self->idle_.cancel();
    });
  }

  void fail_queue_later() {
    std::deque<Job> jobs = std::exchange(queue_, {});
    for (auto& j : jobs) {
      post_completion(j.id, local_result(j.envelope, "4.3.0", std::string(kStopping)));
    }
  }

  // --- one connection ---

  static asio::awaitable<void> run(std::shared_ptr<RelayCore> self, std::shared_ptr<Link> link) {
    std::string failure;
    try {
      co_await self->drive(*link);
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    if (!failure.empty()) {
      log::event(level_enum::err, link->id, "relay", {{"action", "error"}, {"error", failure}});
      self->lose(*link, "internal error in the relay client: " + failure);
    }
    self->handle_events(*link);
    if (link->job) {  // not expected: the closed session finished every copy
      std::uint64_t id = *std::exchange(link->job, std::nullopt);
      --self->in_flight_;
      self->complete(id, local_result({}, "4.3.0", "relay client lost track of the copy"));
    }
    co_await self->close(*link);
    self->link_closed(*link);
  }

  asio::awaitable<void> drive(Link& l) {
    if (!co_await open(l)) co_return;
    l.session.emplace(client_);
    for (;;) {
      handle_events(l);
      if (l.aborted && !l.session->wants_close()) {
        lose(l, l.abort_reason);
        continue;
      }
      l.out = l.session->take_output();
      if (!l.out.empty()) {
        // Commands never end in CRLF "." CRLF; the body's last chunk always
        // does (and no earlier chunk can: a "." line is stuffed).
        const bool body = l.out == ".\r\n" ||
                          (l.out.size() >= 5 && l.out.compare(l.out.size() - 5, 5, "\r\n.\r\n") == 0);
        if (!co_await write(l)) continue;
        if (body) l.expect_data_end = true;
        // The rest of a large body: written chunk by chunk, never whole.
        if (l.session->has_output()) continue;
      }
      if (l.tls_pending) {
        l.tls_pending = false;
        if (co_await handshake(l)) l.session->tls_started();
        continue;
      }
      if (l.session->wants_close()) break;
      if (l.session->is_idle()) {
        if (!l.closing && !stopping_ && take_job(l)) continue;
        if (l.closing || stopping_) {
          l.quit_sent = true;
          l.session->quit();
          continue;
        }
        co_await idle_wait(l);
        continue;
      }
      if (!l.session->wants_input()) {
        lose(l, "internal error: the session neither reads nor closes");
        continue;
      }
      co_await read(l);
    }
  }

  // Resolve and connect within timeouts.connect. False: l.fault says why.
  asio::awaitable<bool> open(Link& l) {
    if (options_.starttls == smtp::StartTlsPolicy::required && !options_.tls) {
      l.fault = "STARTTLS to relay " + relay_ + " required but no TLS client context";
      co_return false;
    }
    const auto limit = options_.timeouts.connect;
    l.deadline.expires_after(limit);
    std::vector<tcp::endpoint> endpoints;
    error_code ec;
    const auto literal = asio::ip::make_address(options_.host, ec);
    if (!ec) {
      endpoints.emplace_back(literal, options_.port);
    } else {
      auto r = co_await (l.resolver.async_resolve(options_.host, port_text_,
                                                  tcp::resolver::numeric_service, kTuple) ||
                         l.deadline.async_wait(kTuple));
      if (l.aborted) {
        l.fault = l.abort_reason;
        co_return false;
      }
      if (r.index() == 1) {
        l.fault = "cannot resolve relay " + relay_ + ": no answer within " + duration_text(limit);
        co_return false;
      }
      auto [rec, results] = std::get<0>(std::move(r));
      if (!rec && results.empty()) rec = asio::error::host_not_found;
      if (rec) {
        l.fault = "cannot resolve relay " + relay_ + ": " + rec.message();
        co_return false;
      }
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    auto c = co_await (asio::async_connect(l.socket, endpoints, kTuple) ||
                       l.deadline.async_wait(kTuple));
    if (l.aborted) {
      l.fault = l.abort_reason;
      co_return false;
    }
    if (c.index() == 1) {
      l.fault = "cannot connect to relay " + relay_ + ": no connection within " +
                duration_text(limit);
      co_return false;
    }
    auto [cec, endpoint] = std::get<0>(c);
    if (cec) {
      l.fault = "cannot connect to relay " + relay_ + ": " + cec.message();
      co_return false;
    }
    l.socket.set_option(tcp::no_delay(true), ec);
    std::string address = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    log::event(level_enum::debug, l.id, "relay",
               {{"action", "connect"}, {"relay", relay_}, {"address", address}});
    co_return true;
  }

  void handle_events(Link& l) {
    if (!l.session) return;
    for (;;) {
      std::vector<smtp::ClientEvent> events = l.session->take_events();
      if (events.empty()) return;
      for (auto& event : events) {
        if (auto* est = std::get_if<smtp::Established>(&event)) {
          l.established = true;
          l.idle_until = Clock::now() + options_.timeouts.idle_close;
          log::event(level_enum::debug, l.id, "relay",
                     {{"action", "established"},
                      {"tls", est->tls ? "yes" : "no"},
                      {"esmtp", est->esmtp ? "yes" : "no"},
                      {"pipelining", est->extensions.pipelining ? "yes" : "no"},
                      {"8bitmime", est->extensions.eightbitmime ? "yes" : "no"}});
        } else if (std::holds_alternative<smtp::StartTlsReady>(event)) {
          l.tls_pending = true;
        } else if (auto* done = std::get_if<smtp::TransactionDone>(&event)) {
          finish_job(l, std::move(done->result));
        } else if (auto* fault = std::get_if<smtp::ConnectionFault>(&event)) {
          l.fault = named(fault->reason);
          if (l.established) {  // otherwise establish_failed() logs it
            log::event(level_enum::warn, l.id, "relay",
                       {{"action", "fault"},
                        {"reason", l.fault},
                        {"permanent", fault->permanent ? "yes" : "no"}});
          }
        }
      }
    }
  }

  void finish_job(Link& l, smtp::TransactionResult result) {
    if (!l.job) {
      log::event(level_enum::err, l.id, "relay",
                 {{"action", "error"}, {"error", "a result for no job"}});
      return;
    }
    const std::uint64_t job_id = *std::exchange(l.job, std::nullopt);
    --in_flight_;
    ++l.jobs_done;
    l.expect_data_end = false;
    l.idle_until = Clock::now() + options_.timeouts.idle_close;
    if (!l.loss_reason.empty() && result.local_reason == kSessionLost) {
      replace_lost_reason(result, l.loss_reason);
    }
    std::string job_text = std::to_string(job_id);
    std::string reply = result.final.to_string();
    log::event(level_enum::debug, l.id, "relay",
               {{"action", "result"},
                {"job", job_text},
                {"outcome", smtp::to_string(result.outcome)},
                {"reply", reply},
                {"reason", result.local_reason}});
    complete(job_id, result);
  }

  // The connection is gone or must not be used: the session finishes what
  // it holds (deferred, with `reason` instead of its generic text).
  // `is_fault`: false for the relay closing an idle connection or a QUIT
  // that got no answer.
  void lose(Link& l, const std::string& reason, bool is_fault = true) {
    if (!l.session || l.session->wants_close()) return;
    l.loss_reason = reason;
    if (is_fault && !l.quit_sent && l.fault.empty()) {
      l.fault = reason;
      if (l.established && !l.aborted) {  // otherwise establish_failed() logs it
        log::event(level_enum::warn, l.id, "relay", {{"action", "fault"}, {"reason", reason}});
      }
    }
    l.session->connection_lost();
  }

  void abort(Link& l, std::string reason) {
    if (l.aborted) return;
    l.aborted = true;
    l.abort_reason = std::move(reason);
    error_code ec;
    l.resolver.cancel();
    l.socket.close(ec);
    l.deadline.cancel();
    l.wake.cancel();
  }

  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(Link& l) {
    auto buffer = asio::buffer(l.buffer);
    if (l.tls) co_return co_await l.tls->async_read_some(buffer, kTuple);
    co_return co_await l.socket.async_read_some(buffer, kTuple);
  }

  asio::awaitable<std::tuple<error_code, std::size_t>> write_all(Link& l) {
    auto buffer = asio::buffer(l.out);
    if (l.tls) co_return co_await asio::async_write(*l.tls, buffer, kTuple);
    co_return co_await asio::async_write(l.socket, buffer, kTuple);
  }

  asio::awaitable<void> read(Link& l) {
    auto limit = options_.timeouts.reply;
    if (l.quit_sent) {
      limit = options_.timeouts.quit;
    } else if (l.expect_data_end) {
      limit = options_.timeouts.data_end;
    }
    l.deadline.expires_after(limit);
    auto r = co_await (read_some(l) || l.deadline.async_wait(kTuple));
    if (r.index() == 0) {
      auto [ec, n] = std::get<0>(r);
      if (n > 0) l.session->feed(std::string_view(l.buffer.data(), n));
      if (ec) {
        std::string reason = l.aborted ? l.abort_reason : lost_text(ec);
        lose(l, reason);
      }
      co_return;
    }
    auto [ec] = std::get<1>(r);
    if (ec || l.aborted) {
      std::string reason = l.aborted ? l.abort_reason : std::string("interrupted");
      lose(l, reason);
      co_return;
    }
    if (l.quit_sent) {
      lose(l, "no reply to QUIT", false);
      co_return;
    }
    lose(l, "no reply from relay " + relay_ + " within " + duration_text(limit));
  }

  asio::awaitable<bool> write(Link& l) {
    const auto limit = options_.timeouts.reply;
    l.deadline.expires_after(limit);
    auto r = co_await (write_all(l) || l.deadline.async_wait(kTuple));
    if (r.index() == 0) {
      auto [ec, n] = std::get<0>(r);
      if (!ec) co_return true;
      std::string reason = l.aborted ? l.abort_reason : lost_text(ec);
      lose(l, reason);
      co_return false;
    }
    auto [ec] = std::get<1>(r);
    if (ec || l.aborted) {
      std::string reason = l.aborted ? l.abort_reason : std::string("interrupted");
      lose(l, reason);
    } else {
      lose(l, "writing to relay " + relay_ + " timed out after " + duration_text(limit));
    }
    co_return false;
  }

  asio::awaitable<bool> handshake(Link& l) {
    l.tls.emplace(l.socket, *options_.tls);
    if (!is_ip_literal(options_.host)) {
      SSL_set_tlsext_host_name(l.tls->native_handle(), options_.host.c_str());
    }
    const auto limit = options_.timeouts.reply;
    l.deadline.expires_after(limit);
    auto r = co_await (l.tls->async_handshake(asio::ssl::stream_base::client, kTuple) ||
                       l.deadline.async_wait(kTuple));
    std::string failure;
    if (r.index() == 0) {
      auto [ec] = std::get<0>(r);
      if (!ec) {
        SSL* ssl = l.tls->native_handle();
        std::string version = SSL_get_version(ssl);
        const char* cipher_name = SSL_get_cipher_name(ssl);
        std::string cipher = cipher_name ? cipher_name : "unknown";
        log::event(level_enum::debug, l.id, "relay",
                   {{"action", "starttls"}, {"version", version}, {"cipher", cipher}});
        co_return true;
      }
      failure = tls_error_text(ec);
    } else {
      failure = "no answer within " + duration_text(limit);
    }
    l.tls.reset();  // nothing more goes over this connection
    std::string reason =
        l.aborted ? l.abort_reason : "TLS handshake with relay " + relay_ + " failed: " + failure;
    lose(l, reason);
    co_return false;
  }

  // Idle and established: wait for a job (wake), the relay (a 421 or a
  // close) or the idle deadline, whichever first.
  asio::awaitable<void> idle_wait(Link& l) {
    l.idle_waiting = true;
    l.wake.expires_at(asio::steady_timer::time_point::max());
    l.deadline.expires_at(l.idle_until);
    auto r = co_await (read_some(l) || l.wake.async_wait(kTuple) || l.deadline.async_wait(kTuple));
    l.idle_waiting = false;
    l.woken = false;
    if (l.aborted) {
      lose(l, l.abort_reason);
      co_return;
    }
    switch (r.index()) {
      case 0: {
        auto [ec, n] = std::get<0>(r);
        if (n > 0) l.session->feed(std::string_view(l.buffer.data(), n));
        if (ec) lose(l, lost_text(ec), false);
        co_return;
      }
      case 1:
        co_return;  // woken: a job or stop()
      default: {
        auto [ec] = std::get<2>(r);
        if (!ec) l.closing = true;
        co_return;
      }
    }
  }

  asio::awaitable<void> close(Link& l) {
    error_code ec;
    if (l.tls && !l.aborted && l.socket.is_open()) {
      // Our close_notify, then a short wait for the relay's.
      l.deadline.expires_after(options_.timeouts.quit);
      co_await (l.tls->async_shutdown(kTuple) || l.deadline.async_wait(kTuple));
    }
    l.socket.shutdown(tcp::socket::shutdown_both, ec);
    l.socket.close(ec);
  }

  // Out of links_ first: completions called from here may submit(), and
  // dispatch() must not count this connection as coming.
  void link_closed(Link& l) {
    std::string jobs = std::to_string(l.jobs_done);
    const char* why = l.aborted ? "stopping" : !l.fault.empty() ? "fault" : "done";
    log::event(level_enum::debug, l.id, "relay", {{"action", "close"}, {"jobs", jobs}, {"why", why}});
    links_.erase(l.serial);
    if (!l.established) establish_failed(l);
    // After a connection that worked, one new one for the waiting jobs;
    // after a failed one, only idle connections are woken.
    if (!queue_.empty()) dispatch(l.established ? 1 : 0);
    idle_.cancel();  // wakes stop(), if it waits
  }

  // The connection never got to transactions. When no other connection is
  // established, the relay is down (or refuses us): every waiting job is
  // deferred with the reason. Never a new attempt from here.
  void establish_failed(Link& l) {
    std::string reason = l.fault.empty() ? "relay " + relay_ + ": connection failed" : l.fault;
    if (l.aborted) return;
    const bool other_up = std::any_of(links_.begin(), links_.end(), [](const auto& entry) {
      return entry.second->established && !entry.second->aborted;
    });
    std::string waiting = std::to_string(queue_.size());
    log::event(level_enum::warn, l.id, "relay",
               {{"action", "fault"},
                {"reason", reason},
                {"deferred", other_up ? std::string_view("0") : std::string_view(waiting)}});
    if (other_up) return;
    std::deque<Job> jobs = std::exchange(queue_, {});
    for (auto& j : jobs) complete(j.id, local_result(j.envelope, "4.4.1", reason));
  }

  asio::any_io_executor io_;
  RelayOptions options_;
  Completion on_done_;
  asio::steady_timer idle_;  // cancelled when a link closes or a posted completion ran
  std::string relay_;        // "host:port" for reasons and logs
  std::string port_text_;
  smtp::ClientOptions client_;

  std::deque<Job> queue_;
  std::map<std::uint64_t, std::shared_ptr<Link>> links_;
  std::uint64_t next_serial_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t posted_ = 0;  // completions posted, not yet called
  bool stopping_ = false;
};

}  // namespace detail

Relay::Relay(asio::any_io_executor io, RelayOptions options, Completion on_done)
    : core_(std::make_shared<detail::RelayCore>(std::move(io), std::move(options),
                                                std::move(on_done))) {}

// abandon() builds reason strings, posts completions and cancels timers
// and the resolver: bad_alloc is what can escape (asio's cancel() throws
// only on errors epoll does not have); terminating is then the right end.
// NOLINTNEXTLINE(bugprone-exception-escape): see above
Relay::~Relay() {
  if (core_) core_->abandon();
}

void Relay::submit(Job job) { core_->submit(std::move(job)); }
std::size_t Relay::queued() const { return core_->queued(); }
std::size_t Relay::in_flight() const { return core_->in_flight(); }
std::size_t Relay::connections() const { return core_->connections(); }

asio::awaitable<void> Relay::stop(std::chrono::milliseconds grace) {
  std::shared_ptr<detail::RelayCore> core = core_;
  co_await core->stop(grace);
}

}  // namespace tlpmail::delivery
