// One connection: the read / feed / write loop around smtp::Session, the
// STARTTLS handshake, and the message's way to the intake (begin, batched
// writes and the end of DATA on the worker executor; the intake's outcome
// is the reply). Logs connect, reject (commands the session refused),
// starttls, abort, timeout (phase command, data, write or session) and
// disconnect; the intake logs what it decides about a message. Never
// message content or subjects.
#include "net/connection.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <utility>
#include <variant>

#include "log/log.h"
#include "net/admission.h"
#include "util/offload.h"

namespace tlpmail::net {

using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using boost::system::error_code;
using spdlog::level::level_enum;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// One read at most; the session asks for at most max_pending_input (64 KiB).
constexpr std::size_t kReadBufferSize = std::size_t{16} * 1024;

// Waiting for the peer's close_notify after ours, at most.
constexpr std::chrono::milliseconds kTlsCloseWait{1000};
// How often a reply held by flow control looks whether it may go.
constexpr std::chrono::milliseconds kFlowStep{50};

bool is_lost_connection(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

Connection::Connection(const ServerCore& core, std::shared_ptr<const Settings> settings,
                       tcp::socket socket, std::string id)
    : core_(core),
      settings_(std::move(settings)),
      socket_(std::move(socket)),
      id_(std::move(id)),
      session_(smtp::Session::with_transaction_resolver(
          settings_->intake->session_options(settings_->tls != nullptr),
          settings_->intake->recipient_resolver())),
      deadline_(socket_.get_executor()),
      read_buffer_(kReadBufferSize),
      started_(steady_clock::now()),
      session_deadline_(started_ + settings_->max_session_time),
      last_progress_(started_),
      read_started_(started_) {
  error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("unknown") : format_endpoint(remote);
  client_ = ec ? std::string("unknown") : remote.address().to_string();
  socket_.set_option(tcp::no_delay(true), ec);
}

// Only post() can throw here (bad_alloc): terminating is then the right end.
// NOLINTNEXTLINE(bugprone-exception-escape)
Connection::~Connection() {
  if (job_) {
    asio::post(core_.worker, [job = std::move(job_)] { job->abort(); });
  }
}

asio::awaitable<void> Connection::run(std::shared_ptr<Connection> self) { co_await self->serve(); }

void Connection::stop() {
  if (stop_requested_) return;
  stop_requested_ = true;
  if (reading_) deadline_.cancel();  // interrupts the read; serve() sends the 421
}

void Connection::close() {
  closed_ = true;
  error_code ec;
  socket_.close(ec);
  deadline_.cancel();
}

void Connection::evict() {
  if (evicted_) return;
  evicted_ = true;
  end_reply_ = idle_connection_closed_reply(settings_->hostname);
  if (reading_) deadline_.cancel();  // interrupts the read; serve() sends the 421
}

void Connection::rearm() {
  if (reading_) deadline_.cancel();  // watch_read() computes the deadline again
}

bool Connection::is_waiting() const {
  return reading_ && !session_.in_data() && !stop_requested_ && !end_reply_ && !closed_;
}

milliseconds Connection::write_limit() const {
  milliseconds limit = core_.timeouts.command;
  if (stop_requested_ || end_reply_) return std::min(limit, core_.timeouts.shutdown_grace);
  // Never much past the session time limit; the last reply still gets the
  // shutdown grace to go out.
  auto left = std::chrono::duration_cast<milliseconds>(session_deadline_ - steady_clock::now());
  return std::min(limit, std::max(left, milliseconds(0)) + core_.timeouts.shutdown_grace);
}

asio::awaitable<void> Connection::serve() {
  error_code ec;
  auto local = socket_.local_endpoint(ec);
  std::string local_text = ec ? std::string("unknown") : format_endpoint(local);
  log::event(level_enum::info, id_, "connect", {{"client", peer_}, {"listen", local_text}});

  for (;;) {
    co_await handle_events();
    out_ = session_.take_output();
    if (!out_.empty() && !closed_) {
      bool written = co_await write_output();
      if (!written) {
        session_.connection_lost();
        co_await handle_events();
        break;
      }
    }
    if (tls_pending_) {
      tls_pending_ = false;
      bool secured = co_await start_tls();
      if (!secured) break;
      session_.tls_started();
      continue;
    }
    if (session_.wants_close()) break;
    if (closed_) {
      session_.connection_lost();
      continue;  // handles the DataAborted, then wants_close()
    }
    if (stop_requested_ && !shutdown_sent_) {
      shutdown_sent_ = true;
      session_.shutdown();
      continue;
    }
    if (end_reply_ && !end_sent_) {
      end_sent_ = true;
      session_.close_early(*end_reply_, smtp::AbortReason::shutdown);
      continue;
    }
    if (!session_.wants_input()) {
      log::event(level_enum::err, id_, "error", {{"reason", "session neither reads nor closes"}});
      break;
    }
    co_await read_and_feed();
  }

  co_await close_gracefully();
  auto ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started_).count();
  std::string duration = std::to_string(ms);
  std::string messages = std::to_string(messages_);
  log::event(level_enum::info, id_, "disconnect",
             {{"client", peer_}, {"messages", messages}, {"duration_ms", duration}});
}

asio::awaitable<void> Connection::read_and_feed() {
  read_started_ = steady_clock::now();
  if (read_started_ >= session_deadline_) {
    // Checked before reading: a client that always has the next command
    // ready must not win the race against the limit.
    std::string limit = std::to_string(settings_->max_session_time.count());
    log::event(level_enum::info, id_, "timeout",
               {{"client", peer_}, {"phase", "session"}, {"limit_s", limit}});
    session_.close_early(session_time_limit_reply(settings_->hostname), smtp::AbortReason::timeout);
    co_return;
  }
  reading_ = true;
  read_cut_ = false;
  auto result = co_await (read_some() || watch_read());
  reading_ = false;
  if (result.index() == 0) {
    auto [ec, n] = std::get<0>(result);
    if (n > 0) session_.feed(std::string_view(read_buffer_.data(), n));
    if (ec) {
      if (!is_lost_connection(ec) && ec != asio::error::operation_aborted) {
        std::string what = ec.message();
        log::event(level_enum::info, id_, "lost", {{"client", peer_}, {"error", what}});
      }
      session_.connection_lost();
    }
    co_return;
  }
  ReadEnd end = std::get<1>(result);
  if (end == ReadEnd::interrupted) co_return;  // stop(), close() or evict(): serve() decides
  if (end == ReadEnd::session_limit) {
    std::string limit = std::to_string(settings_->max_session_time.count());
    log::event(level_enum::info, id_, "timeout",
               {{"client", peer_}, {"phase", "session"}, {"limit_s", limit}});
    session_.close_early(session_time_limit_reply(settings_->hostname), smtp::AbortReason::timeout);
    co_return;
  }
  const char* phase = session_.in_data() ? "data" : "command";
  const bool in_data = session_.in_data();
  if (read_timeout(core_.timeouts, in_data, read_cut_) < read_timeout(core_.timeouts, in_data)) {
    log::event(level_enum::info, id_, "timeout",
               {{"client", peer_}, {"phase", phase}, {"overload", "yes"}});
  } else {
    log::event(level_enum::info, id_, "timeout", {{"client", peer_}, {"phase", phase}});
  }
  session_.timeout();
}

asio::awaitable<Connection::ReadEnd> Connection::watch_read() {
  for (;;) {
    // A read cut while the server was overloaded stays cut: the overload
    // ending (below 90 % of the limit) as the first cut reads expire must
    // not give the others their minutes back.
    read_cut_ = read_cut_ || core_.overloaded;
    auto now = steady_clock::now();
    auto idle_due = read_started_ + read_timeout(core_.timeouts, session_.in_data(), read_cut_);
    if (now >= session_deadline_) co_return ReadEnd::session_limit;
    if (now >= idle_due) co_return ReadEnd::idle;
    deadline_.expires_at(std::min(idle_due, session_deadline_));
    co_await deadline_.async_wait(kTuple);
    // The read completed (the || cancels this branch), or stop(), close()
    // or evict() interrupt; else rearm() woke it early or the deadline
    // passed: compute it again.
    auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
    if (cancelled != asio::cancellation_type::none) co_return ReadEnd::interrupted;
    if (stop_requested_ || closed_ || end_reply_) co_return ReadEnd::interrupted;
  }
}

asio::awaitable<std::tuple<error_code, std::size_t>> Connection::read_some() {
  auto buffer = asio::buffer(read_buffer_);
  if (tls_) co_return co_await tls_->async_read_some(buffer, kTuple);
  co_return co_await socket_.async_read_some(buffer, kTuple);
}

asio::awaitable<std::tuple<error_code, std::size_t>> Connection::write_all(std::string_view bytes) {
  auto buffer = asio::buffer(bytes.data(), bytes.size());
  if (tls_) co_return co_await asio::async_write(*tls_, buffer, kTuple);
  co_return co_await asio::async_write(socket_, buffer, kTuple);
}

asio::awaitable<bool> Connection::write_output() {
  deadline_.expires_after(write_limit());
  auto result = co_await (write_all(out_) || deadline_.async_wait(kTuple));
  if (result.index() == 0) {
    auto [ec, n] = std::get<0>(result);
    if (!ec) co_return true;
    if (!is_lost_connection(ec) && !closed_) {
      std::string what = ec.message();
      log::event(level_enum::info, id_, "lost", {{"client", peer_}, {"error", what}});
    }
    co_return false;
  }
  if (!closed_) {
    log::event(level_enum::info, id_, "timeout", {{"client", peer_}, {"phase", "write"}});
  }
  co_return false;
}

asio::awaitable<bool> Connection::start_tls() {
  if (!settings_->tls) co_return false;
  tls_.emplace(socket_, *settings_->tls);
  deadline_.expires_after(write_limit());
  auto result = co_await (tls_->async_handshake(asio::ssl::stream_base::server, kTuple) ||
                          deadline_.async_wait(kTuple));
  std::string failure;
  if (result.index() == 0) {
    auto [ec] = std::get<0>(result);
    if (!ec) {
      SSL* ssl = tls_->native_handle();
      std::string version = SSL_get_version(ssl);
      const char* cipher_name = SSL_get_cipher_name(ssl);
      std::string cipher = cipher_name ? cipher_name : "unknown";
      log::event(level_enum::info, id_, "starttls", {{"version", version}, {"cipher", cipher}});
      co_return true;
    }
    failure = ec.message();
  } else {
    failure = "handshake timed out";
  }
  log::event(level_enum::warn, id_, "starttls", {{"status", "failed"}, {"error", failure}});
  tls_.reset();  // nothing more is sent on this connection
  co_return false;
}

asio::awaitable<void> Connection::close_gracefully() {
  if (tls_ && !closed_) {
    // Our close_notify, then a short wait for the peer's.
    deadline_.expires_after(std::min(kTlsCloseWait, core_.timeouts.command));
    co_await (tls_->async_shutdown(kTuple) || deadline_.async_wait(kTuple));
  }
  closed_ = true;
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

asio::awaitable<void> Connection::handle_events() {
  for (;;) {
    std::vector<smtp::Event> events = session_.take_events();
    if (events.empty()) co_return;
    for (auto& event : events) {
      if (auto* chunk = std::get_if<smtp::DataChunk>(&event)) {
        if (job_ && job_->is_discarding()) continue;  // refused already: nothing is kept
        batch_.append(chunk->bytes);
        if (batch_.is_full()) co_await flush_batch();
      } else if (auto* started = std::get_if<smtp::DataStarted>(&event)) {
        start_data(started->envelope);
      } else if (auto* ended = std::get_if<smtp::DataEnded>(&event)) {
        co_await finish_data(ended->size);
      } else if (auto* aborted = std::get_if<smtp::DataAborted>(&event)) {
        abort_data(aborted->reason);
      } else if (auto* tls = std::get_if<smtp::StartTlsRequested>(&event)) {
        // Every read is fed to the session whole, so the server holds no
        // input of its own: what followed STARTTLS in that read has been
        // discarded by the session, and the handshake reads the socket.
        tls_pending_ = true;
        if (tls->discarded_bytes > 0) {
          // RFC 3207 / CVE-2011-0411: input pipelined behind STARTTLS.
          std::string n = std::to_string(tls->discarded_bytes);
          log::event(level_enum::warn, id_, "starttls",
                     {{"status", "discarded"}, {"bytes", n}, {"client", peer_}});
        }
      } else if (auto* refused = std::get_if<smtp::Refused>(&event)) {
        std::string reply = refused->reply.to_string();
        log::event(level_enum::info, id_, "reject",
                   {{"command", refused->command}, {"reply", reply}});
      }
    }
  }
}

void Connection::start_data(const smtp::Envelope& envelope) {
  if (job_) {  // not expected: the session ends every message before the next
    asio::post(core_.worker, [job = std::move(job_)] { job->abort(); });
  }
  envelope_ = envelope;
  batch_.clear();
  spool_stalled_ = false;
  job_ = settings_->intake->begin(id_, envelope);
  std::string count = std::to_string(envelope.recipients.size());
  log::event(level_enum::debug, id_, "data", {{"from", envelope.mail_from}, {"rcpts", count}});
}

asio::awaitable<void> Connection::flush_batch() {
  if (!job_ || spool_stalled_) {
    batch_.clear();
    co_return;
  }
  // Named locals, not temporaries inside the co_await (g++ 12, offload.h).
  auto work = [job = job_, bytes = batch_.take()]() mutable { return job->write(std::move(bytes)); };
  auto task = start_offload(core_.worker, socket_.get_executor(), std::move(work),
                            core_.timeouts.data_termination);
  Offloaded<bool> done = co_await task->wait();
  if (!done.value) {
    spool_stalled_ = true;
    std::string why = done.timed_out ? std::string("spool write timed out") : done.failure;
    log::event(level_enum::err, id_, "spool", {{"status", "stalled"}, {"error", why}});
  }
}

asio::awaitable<void> Connection::finish_data(std::uint64_t size) {
  std::size_t count = session_.expected_result_count();
  std::optional<DataOutcome> outcome;
  std::string unavailable;
  if (!job_) {
    unavailable = "no spool transaction";
  } else if (spool_stalled_) {
    unavailable = "an earlier spool write did not finish in time";
  } else {
    auto work = [job = job_, bytes = batch_.take(), size]() mutable {
      return job->finish(std::move(bytes), size);
    };
    auto task = start_offload(core_.worker, socket_.get_executor(), std::move(work),
                              core_.timeouts.data_termination);
    Offloaded<DataOutcome> done = co_await task->wait();
    if (done.value) {
      outcome = std::move(*done.value);
    } else if (done.timed_out) {
      unavailable = "commit did not finish within " +
                    std::to_string(core_.timeouts.data_termination.count()) + " ms";
    } else {
      unavailable = "commit failed: " + done.failure;
    }
  }
  if (!outcome) outcome = settings_->intake->unavailable(id_, envelope_, unavailable, size);
  job_.reset();
  batch_.clear();
  last_progress_ = steady_clock::now();
  if (outcome->new_message) {
    ++messages_;
    if (core_.on_spooled) core_.on_spooled();
    co_await hold_reply();
  }
  session_.complete_data(smtp::DataResult{std::vector<smtp::Reply>(count, outcome->reply)});
}

asio::awaitable<void> Connection::hold_reply() {
  const std::chrono::milliseconds limit = settings_->in_flow_delay;
  if (limit.count() <= 0 || !core_.congested || !core_.congested()) co_return;
  const auto start = steady_clock::now();
  const auto until = start + limit;
  asio::steady_timer timer(socket_.get_executor());
  for (auto now = start; now < until && !stop_requested_ && !closed_ && core_.congested();
       now = steady_clock::now()) {
    timer.expires_at(std::min(until, now + kFlowStep));
    co_await timer.async_wait(kTuple);
  }
  if (core_.on_flow_delayed) {
    core_.on_flow_delayed(
        std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - start));
  }
}

void Connection::abort_data(smtp::AbortReason reason) {
  batch_.clear();
  if (job_) {
    asio::post(core_.worker, [job = std::move(job_)] { job->abort(); });
    job_.reset();
  }
  log::event(level_enum::info, id_, "abort", {{"reason", smtp::to_string(reason)}});
}

}  // namespace tlpmail::net
