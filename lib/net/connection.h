// One client connection of net::Server: a coroutine that drives an
// smtp::Session over a TCP socket (and, after STARTTLS, a TLS stream on
// it), with a deadline on every read, write and handshake (shorter while
// the server is overloaded, never past the session time limit), and that
// hands message bytes to the injected intake (net/intake.h) on the worker
// executor. Internal to lib/net; the Server creates, tracks, evicts and
// stops connections.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "net/intake.h"
#include "net/server.h"
#include "smtp/session.h"

namespace tlpmail::net {

// Thread safety: none; lives on the io_context thread. run() is started
// once; stop() and close() may be called at any time from that thread.
class Connection {
 public:
  Connection(const ServerCore& core, std::shared_ptr<const Settings> settings,
             asio::ip::tcp::socket socket, std::string id);
  ~Connection();  // NOLINT(bugprone-exception-escape): see connection.cc
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Serves the client until the session closes or the connection fails.
  // REQUIRES: `self` owns this connection (it keeps it alive meanwhile).
  static asio::awaitable<void> run(std::shared_ptr<Connection> self);

  // Graceful: the session answers what it is committing, then 421 4.3.2.
  void stop();
  // Closes the socket now; pending operations fail and run() ends.
  void close();
  // The slot goes to a newcomer: 421 4.3.2 (idle_connection_closed_reply)
  // and close, as stop() does. is_evicted() from now on.
  void evict();
  // The overload state changed: a waiting read takes its new deadline.
  void rearm();

  const std::string& id() const { return id_; }
  const std::string& peer() const { return peer_; }      // "address:port"
  const std::string& client() const { return client_; }  // the address alone
  // Waiting for the client's next command (see OpenSession::waiting).
  bool is_waiting() const;
  bool is_evicted() const { return evicted_; }
  std::chrono::steady_clock::time_point last_progress() const { return last_progress_; }

 private:
  asio::awaitable<void> serve();
  asio::awaitable<void> handle_events();
  asio::awaitable<void> flush_batch();
  asio::awaitable<void> finish_data(std::uint64_t size);
  // Flow control: waits while ServerCore::congested() holds, at most
  // Settings::in_flow_delay (the session is answering; stop() ends it).
  asio::awaitable<void> hold_reply();
  void start_data(const smtp::Envelope& envelope);
  void abort_data(smtp::AbortReason reason);

  // Each returns false when the connection is unusable afterwards.
  // write_output() writes out_ (a member, not a parameter: no string
  // temporaries in co_await expressions, g++ 12).
  asio::awaitable<bool> write_output();
  asio::awaitable<bool> start_tls();
  asio::awaitable<void> close_gracefully();
  // Reads once (bounded by the read buffer) with the deadline of the
  // session's phase; feeds the session or tells it what happened
  // (timeout, session time limit, lost connection). Returns early when
  // stop(), close() or evict() interrupt.
  asio::awaitable<void> read_and_feed();
  enum class ReadEnd { idle, session_limit, interrupted };
  // The read's deadline, re-evaluated whenever rearm() wakes it.
  asio::awaitable<ReadEnd> watch_read();
  // How long a write (or handshake) may take from now.
  std::chrono::milliseconds write_limit() const;

  asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some();
  asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> write_all(
      std::string_view bytes);

  const ServerCore& core_;
  std::shared_ptr<const Settings> settings_;
  asio::ip::tcp::socket socket_;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
  std::string id_;
  std::string peer_;
  std::string client_;
  smtp::Session session_;
  asio::steady_timer deadline_;
  std::vector<char> read_buffer_;
  std::string out_;  // replies being written
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point session_deadline_;  // started_ + max_session_time
  std::chrono::steady_clock::time_point last_progress_;     // started_, then each DATA answered
  std::chrono::steady_clock::time_point read_started_;

  bool stop_requested_ = false;
  bool shutdown_sent_ = false;
  bool reading_ = false;  // a read is pending: stop() may interrupt it
  bool read_cut_ = false;  // this read's limit is Timeouts::overload
  bool closed_ = false;
  bool evicted_ = false;
  std::optional<smtp::Reply> end_reply_;  // evict(): the 421 the session is to send
  bool end_sent_ = false;
  bool tls_pending_ = false;  // StartTlsRequested seen; handshake after the 220 is written

  // The message being received.
  smtp::Envelope envelope_;
  DataBatch batch_;
  std::shared_ptr<MessageIntake> job_;
  bool spool_stalled_ = false;  // an intake write did not finish in time
  std::size_t messages_ = 0;    // committed with 2xx on this connection
};

}  // namespace tlpmail::net
