// The Beast side of the /metrics endpoint: accept, read one bounded
// request under a deadline, answer (http.h), close.
#include "metrics/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "log/log.h"
#include "metrics/http.h"
#include "util/offload.h"

namespace tlpmail::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using spdlog::level::level_enum;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kDeadline = std::chrono::seconds(5);
constexpr auto kRenderLimit = std::chrono::seconds(10);
constexpr int kMaxConnections = 8;
constexpr std::uint32_t kMaxHeader = 8192;

}  // namespace

HttpServer::HttpServer(asio::io_context& io, asio::thread_pool& pool,
                       std::function<std::string()> render)
    : io_(io), pool_(pool), render_(std::move(render)), acceptor_(io) {}

HttpServer::~HttpServer() = default;

Result<void> HttpServer::listen(const config::ListenAddress& address) {
  const std::string where = address.host + ":" + std::to_string(address.port);
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address.host, ec);
  if (ec) {
    tcp::resolver resolver(io_);
    auto found = resolver.resolve(address.host, std::to_string(address.port), ec);
    if (ec || found.empty()) {
      return Unexpected(Error::temporary("metrics: cannot resolve " + where));
    }
    ip = found.begin()->endpoint().address();
  }
  tcp::endpoint ep(ip, address.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Unexpected(Error::temporary("metrics: cannot listen on " + where + ": " + ec.message()));
  return {};
}

std::string HttpServer::local_address() const {
  boost::system::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  if (ec) return {};
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

void HttpServer::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void HttpServer::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
}

asio::awaitable<void> HttpServer::accept_loop() {
  while (!stopped_) {
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (ec) {
      if (stopped_ || ec == asio::error::operation_aborted) co_return;
      continue;  // EMFILE and the like: the next client may fare better
    }
    if (connections_ >= kMaxConnections) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    ++connections_;
    auto done = [this](const std::exception_ptr&) { --connections_; };
    asio::co_spawn(io_, serve(std::move(socket)), std::move(done));
  }
}

asio::awaitable<void> HttpServer::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(kDeadline);
  beast::flat_buffer buffer(kMaxHeader);
  http::request_parser<http::empty_body> parser;
  parser.header_limit(kMaxHeader);
  auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
  (void)n;
  if (ec) co_return;  // timed out, too large, not HTTP: just close
  const auto& req = parser.get();

  HttpAnswer a;
  const std::string method(req.method_string());
  const std::string target(req.target());
  if (wants_metrics(method, target)) {
    auto render = render_;
    auto task = start_offload(
        pool_.get_executor(), stream.get_executor(), [render] { return render(); }, kRenderLimit);
    Offloaded<std::string> done = co_await task->wait();
    if (!done.value) {
      log::event(level_enum::warn, "-", "metrics",
                 {{"status", "failed"}, {"reason", done.timed_out ? "timed out" : done.failure}});
      a.status = 503;
      a.content_type = "text/plain; charset=utf-8";
      a.body = "metrics unavailable\n";
      a.content_length = a.body.size();
    } else {
      std::string body = std::move(*done.value);
      a = answer(method, target, [&body] { return std::move(body); });
    }
  } else {
    a = answer(method, target, [] { return std::string(); });
  }

  http::response<http::string_body> res{static_cast<http::status>(a.status), req.version()};
  res.set(http::field::server, "tlpmaild");
  res.set(http::field::content_type, a.content_type);
  res.set(http::field::connection, "close");
  if (!a.allow.empty()) res.set(http::field::allow, a.allow);
  res.body() = std::move(a.body);
  res.content_length(a.content_length);
  res.keep_alive(false);
  stream.expires_after(kDeadline);
  co_await http::async_write(stream, res, kTuple);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace tlpmail::metrics
