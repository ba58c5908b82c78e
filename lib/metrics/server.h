// metrics::HttpServer: the /metrics listener on the daemon's io_context,
// with Boost.Beast. One request per connection (Connection: close), a
// 5-second deadline on the whole exchange, requests of at most 8 KiB
// with no body, at most 8 connections at once (more are closed at
// once). The answer comes from http.h; `render` runs on the worker pool
// (it reads the database) with a 10-second limit. Meant for 127.0.0.1 or
// a monitoring network: there is no authentication and no TLS.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "util/result.h"

namespace tlpmail::metrics {

// Thread safety: none; construct and call on the io thread.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, boost::asio::thread_pool& pool,
             std::function<std::string()> render);
  ~HttpServer();

  // Binds `address` (port 0: any free one). Errors: temporary, naming it.
  Result<void> listen(const config::ListenAddress& address);
  // "127.0.0.1:9465" as bound.
  std::string local_address() const;
  void start();
  // Closes the listener; connections in progress end within their deadline.
  void stop();

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::thread_pool& pool_;
  std::function<std::string()> render_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int connections_ = 0;
  bool stopped_ = false;
};

}  // namespace tlpmail::metrics
