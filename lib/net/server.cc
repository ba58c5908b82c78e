// Listening sockets, accept loops, the connection limits (admission.h),
// the overload state and graceful stop.
#include "net/server.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <exception>
#include <utility>

#include "log/log.h"
#include "net/admission.h"
#include "net/connection.h"
#include "smtp/session.h"

namespace tlpmail::net {

using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using boost::system::error_code;
using spdlog::level::level_enum;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string written(const config::ListenAddress& a) {
  bool v6 = a.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + a.host + "]" : a.host;
  return host + ":" + std::to_string(a.port);
}

// Out of descriptors or memory: accepting again at once would spin.
bool is_resource_shortage(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

}  // namespace

std::string format_endpoint(const tcp::endpoint& e) {
  std::string host = e.address().to_string();
  if (e.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(e.port());
}

Server::Server(asio::io_context& io, asio::any_io_executor worker, Timeouts timeouts)
    : io_(io), core_{std::move(worker), timeouts, {}}, idle_(io) {
  idle_.expires_at(asio::steady_timer::time_point::max());
}

Server::~Server() = default;

Result<void> Server::listen(const std::vector<config::ListenAddress>& addresses) {
  tcp::resolver resolver(io_);
  std::vector<tcp::endpoint> seen;
  for (const auto& a : addresses) {
    error_code ec;
    auto results = resolver.resolve(a.host, std::to_string(a.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (!ec && results.empty()) ec = asio::error::host_not_found;
    if (ec) {
      acceptors_.clear();
      return Unexpected(Error::permanent("cannot listen on " + written(a) + ": " + ec.message()));
    }
    for (const auto& r : results) {
      tcp::endpoint ep = r.endpoint();
      if (std::find(seen.begin(), seen.end(), ep) != seen.end()) continue;
      seen.push_back(ep);
      tcp::acceptor acceptor(io_);
      acceptor.open(ep.protocol(), ec);
      if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec && ep.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
      if (!ec) acceptor.bind(ep, ec);
      if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        acceptors_.clear();
        return Unexpected(
            Error::permanent("cannot listen on " + format_endpoint(ep) + ": " + ec.message()));
      }
      acceptors_.push_back(std::move(acceptor));
    }
  }
  return {};
}

std::vector<tcp::endpoint> Server::local_endpoints() const {
  std::vector<tcp::endpoint> out;
  for (const auto& a : acceptors_) {
    error_code ec;
    auto ep = a.local_endpoint(ec);
    if (!ec) out.push_back(ep);
  }
  return out;
}

void Server::set_settings(std::shared_ptr<const Settings> settings) {
  settings_ = std::move(settings);
}

void Server::start() {
  for (auto& acceptor : acceptors_) {
    asio::co_spawn(io_, accept_loop(acceptor), [](const std::exception_ptr& e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::event(level_enum::critical, "-", "error",
                   {{"where", "accept loop"}, {"reason", ex.what()}});
      }
    });
  }
}

asio::awaitable<void> Server::accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (stopping_ || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      std::string what = ec.message();
      log::event(level_enum::warn, "-", "accept", {{"status", "failed"}, {"error", what}});
      if (is_resource_shortage(ec)) {
        asio::steady_timer pause(io_, std::chrono::milliseconds(100));
        co_await pause.async_wait(kTuple);
      }
      continue;
    }
    std::uint64_t serial = ++next_serial_;
    std::string id = "s" + std::to_string(serial);
    std::shared_ptr<const Settings> settings = settings_;
    error_code rec;
    auto remote = socket.remote_endpoint(rec);
    std::string client = rec ? std::string("unknown") : remote.address().to_string();
    std::vector<OpenSession> open;
    open.reserve(active_);
    for (const auto& [s, c] : connections_) {
      if (!c->is_evicted()) open.push_back({s, c->client(), c->is_waiting(), c->last_progress()});
    }
    AdmissionLimits limits{settings->max_connections, settings->max_connections_per_client};
    Admission admission = decide_admission(limits, client, open, Clock::now());
    if (admission.kind == Admission::Kind::busy) {
      reject(std::move(socket), id, smtp::too_many_connections_reply(settings->hostname),
             "too many connections", settings->max_connections);
      continue;
    }
    if (admission.kind == Admission::Kind::client_busy) {
      unsigned limit = settings->max_connections_per_client;
      reject(std::move(socket), id,
             too_many_connections_from_reply(settings->hostname, client, limit),
             "too many connections from this client", limit);
      continue;
    }
    if (admission.kind == Admission::Kind::evict) {
      evict(admission.victim, id, admission.for_client_limit);
    }
    std::shared_ptr<Connection> connection;
    try {
      connection = std::make_shared<Connection>(core_, settings, std::move(socket), id);
    } catch (const std::exception& ex) {
      log::event(level_enum::err, id, "error", {{"where", "new session"}, {"reason", ex.what()}});
      continue;
    }
    connections_.emplace(serial, connection);
    ++active_;
    update_overload();
    auto done = [this, serial, id](const std::exception_ptr& e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::event(level_enum::err, id, "error", {{"where", "session"}, {"reason", ex.what()}});
        }
      }
      on_closed(serial);
    };
    asio::co_spawn(io_, Connection::run(connection), std::move(done));
  }
}

void Server::reject(tcp::socket socket, const std::string& id, const std::string& reply,
                    const char* reason, unsigned limit) {
  error_code ec;
  auto remote = socket.remote_endpoint(ec);
  std::string peer = ec ? std::string("unknown") : format_endpoint(remote);
  // A fresh socket's send buffer takes these few bytes at once; without
  // blocking, a peer that cannot take them just misses the reply.
  socket.non_blocking(true, ec);
  asio::write(socket, asio::buffer(reply), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  std::string limit_text = std::to_string(limit);
  std::string code = reply.substr(0, std::min<std::size_t>(reply.size(), 9));  // "421 4.x.y"
  log::event(level_enum::warn, id, "reject",
             {{"client", peer}, {"reason", reason}, {"limit", limit_text}, {"reply", code}});
}

void Server::evict(std::uint64_t serial, const std::string& for_id, bool for_client_limit) {
  auto it = connections_.find(serial);
  if (it == connections_.end() || it->second->is_evicted()) return;
  Connection& victim = *it->second;
  auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - victim.last_progress());
  std::string waited_text = std::to_string(waited.count());
  const char* reason =
      for_client_limit ? "too many connections from this client" : "too many connections";
  log::event(level_enum::info, victim.id(), "evict",
             {{"client", victim.peer()},
              {"reason", reason},
              {"for", for_id},
              {"idle_ms", waited_text},
              {"reply", "421 4.3.2"}});
  victim.evict();
  --active_;
}

void Server::update_overload() {
  if (!settings_) return;
  // On at the limit, off below 90 % of it: a server that hovers at the
  // limit does not flap (nor log) at every connection.
  const std::size_t limit = settings_->max_connections;
  const bool now = core_.overloaded ? active_ * 10 >= limit * 9 : active_ >= limit;
  if (now == core_.overloaded) return;
  core_.overloaded = now;
  std::string active = std::to_string(active_);
  std::string limit_text = std::to_string(limit);
  if (now) {
    std::string read_ms = std::to_string(core_.timeouts.overload.count());
    log::event(level_enum::warn, "-", "overload",
               {{"status", "on"},
                {"connections", active},
                {"limit", limit_text},
                {"read_timeout_ms", read_ms}});
    for (auto& [serial, connection] : connections_) connection->rearm();
  } else {
    log::event(level_enum::info, "-", "overload",
               {{"status", "off"}, {"connections", active}, {"limit", limit_text}});
  }
}

void Server::on_closed(std::uint64_t serial) {
  auto it = connections_.find(serial);
  if (it != connections_.end()) {
    if (!it->second->is_evicted()) --active_;
    connections_.erase(it);
  }
  update_overload();
  if (connections_.empty()) idle_.cancel();  // wakes stop(), if it waits
}

asio::awaitable<void> Server::stop() {
  if (!stopping_) {
    stopping_ = true;
    for (auto& acceptor : acceptors_) {
      error_code ec;
      acceptor.close(ec);
    }
    for (auto& [serial, connection] : connections_) connection->stop();
  }
  if (connections_.empty()) co_return;
  asio::steady_timer grace(io_, core_.timeouts.shutdown_grace);
  co_await (idle_.async_wait(kTuple) || grace.async_wait(kTuple));
  if (connections_.empty()) co_return;
  std::string left = std::to_string(connections_.size());
  log::event(level_enum::warn, "-", "stopping",
             {{"closing", left}, {"reason", "grace period over"}});
  close_all();
  while (!connections_.empty()) co_await idle_.async_wait(kTuple);
}

void Server::close_all() {
  for (auto& [serial, connection] : connections_) connection->close();
}

}  // namespace tlpmail::net
