// net::Server: tlpmaild's SMTP/LMTP listener on Boost.Asio C++20
// coroutines. One accept loop per listening socket, one coroutine per
// connection that drives an smtp::Session with a deadline on every read
// and write, STARTTLS, the connection limits (max_connections, per client
// address, an idle session's slot taken back for a newcomer: admission.h),
// shorter read deadlines while full, the session time limit, and graceful
// shutdown. What happens to a message is the injected intake's business
// (net/intake.h); its blocking work runs on a worker executor, never on
// the io_context thread. No configuration loading, no signals: the daemon
// does those and hands Settings in.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "net/intake.h"
#include "net/timeouts.h"
#include "util/result.h"

namespace tlpmail::net {

namespace asio = boost::asio;

class Connection;

// What a new session is built from. Immutable once handed to the server:
// a session keeps the Settings it started with for its whole life, so a
// reload (a new Settings) never changes a running session.
struct Settings {
  std::shared_ptr<const Intake> intake;     // REQUIRES: not null
  std::shared_ptr<asio::ssl::context> tls;  // null: no STARTTLS offered
  std::string hostname;                     // in the 421 for connections over the limit
  unsigned max_connections = 100;
  unsigned max_connections_per_client = 50;  // by the peer's IP address
  // From connect to "421 4.4.2 ... session time limit exceeded"; a DATA
  // being received is aborted, one being committed is answered first.
  std::chrono::seconds max_session_time{1800};
  // Flow control: while ServerCore::congested says so, the reply to a
  // newly spooled message waits, at most this long (0: never; checked
  // every 50 ms). See docs/delivery.md.
  std::chrono::milliseconds in_flow_delay{0};
};

// "127.0.0.1:10030", "[::1]:10030".
std::string format_endpoint(const asio::ip::tcp::endpoint& e);

// What the worker side of a connection needs; owned by the Server and
// shared with its connections.
struct ServerCore {
  asio::any_io_executor worker;  // the intake's blocking work runs here
  Timeouts timeouts;
  // Called on the io_context thread after the intake committed a new
  // message (DataOutcome::new_message); the fan-out is woken with it. May
  // be empty.
  std::function<void()> on_spooled;
  // Whether the stages after the intake are behind (the fan-out's oldest
  // waiting posting is older than the configured backlog): replies to new
  // messages then wait (Settings::in_flow_delay). May be empty: never.
  std::function<bool()> congested{};
  // Called on the io_context thread after a reply waited for congestion,
  // with how long it waited (for metrics). May be empty.
  std::function<void(std::chrono::milliseconds)> on_flow_delayed{};
  // The server is at max_connections: reads wait at most
  // timeouts.overload. Set by the Server, read by its connections.
  bool overloaded = false;
};

// Thread safety: none. REQUIRES: the io_context is run by exactly one
// thread, and every method is called on that thread (or before run()).
// The worker executor must outlive the Server and keep running until the
// io_context has stopped.
class Server {
 public:
  Server(asio::io_context& io, asio::any_io_executor worker, Timeouts timeouts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on every address; a host name binds every address
  // it resolves to. Errors (permanent) name the address and the reason:
  // "cannot listen on 127.0.0.1:10030: Address already in use". Nothing
  // stays bound after an error.
  Result<void> listen(const std::vector<config::ListenAddress>& addresses);
  // The addresses actually bound (port 0 resolved), in listen order.
  std::vector<asio::ip::tcp::endpoint> local_endpoints() const;

  // New connections use `settings` from now on. REQUIRES: not null, intake
  // not null.
  void set_settings(std::shared_ptr<const Settings> settings);
  // See ServerCore::on_spooled. Call before start().
  void set_on_spooled(std::function<void()> hook) { core_.on_spooled = std::move(hook); }
  // See ServerCore::congested. Call before start().
  void set_congested(std::function<bool()> check) { core_.congested = std::move(check); }
  // See ServerCore::on_flow_delayed. Call before start().
  void set_on_flow_delayed(std::function<void(std::chrono::milliseconds)> hook) {
    core_.on_flow_delayed = std::move(hook);
  }
  std::shared_ptr<const Settings> settings() const { return settings_; }

  // Starts the accept loops. REQUIRES: listen() succeeded and
  // set_settings() was called.
  void start();

  // Graceful stop: stops accepting, asks every session to finish (a DATA
  // being committed gets its reply, a DATA being received is aborted;
  // then 421 4.3.2 and close) and, after Timeouts::shutdown_grace, closes
  // whatever is still open. Completes when no connection is left. Later
  // calls only wait.
  asio::awaitable<void> stop();
  // Closes every connection now (a second SIGTERM). Commits already on a
  // worker thread still finish; their clients see the connection drop.
  void close_all();

  std::size_t connection_count() const { return connections_.size(); }
  bool is_stopping() const { return stopping_; }

 private:
  asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor);
  // Writes `reply` (a 421) without blocking, closes, logs the reject.
  void reject(asio::ip::tcp::socket socket, const std::string& id, const std::string& reply,
              const char* reason, unsigned limit);
  // Tells the session `serial` to give its slot up to `for_id`.
  void evict(std::uint64_t serial, const std::string& for_id, bool for_client_limit);
  void on_closed(std::uint64_t serial);
  // Recomputes core_.overloaded; on the way in, every waiting read is cut
  // to the overload limit.
  void update_overload();

  asio::io_context& io_;
  ServerCore core_;
  std::list<asio::ip::tcp::acceptor> acceptors_;
  std::shared_ptr<const Settings> settings_;
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections_;
  std::size_t active_ = 0;  // connections_ minus those told to give their slot up
  std::uint64_t next_serial_ = 0;
  bool stopping_ = false;
  asio::steady_timer idle_;  // cancelled when the last connection is gone while stopping
};

}  // namespace tlpmail::net
