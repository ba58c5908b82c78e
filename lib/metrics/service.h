// metrics::Service: what tlpmaild runs when [metrics] listen is set — the
// registry, the collector reading tlpmail.db at each scrape, the timer
// around the intake and the /metrics listener (docs/monitoring.md). The
// daemon creates it, instruments each new server settings with it (start
// and reload), tells it the runtime in force and stops it with the server.
// Thread safety: none; construct and call on the io thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include "config/config.h"
#include "keyring/keyring.h"
#include "metrics/collector.h"
#include "metrics/registry.h"
#include "metrics/server.h"
#include "net/server.h"
#include "util/result.h"

namespace tlpmail::metrics {

class Service {
 public:
  Service(boost::asio::io_context& io, boost::asio::thread_pool& pool,
          std::filesystem::path database);

  // Binds `address`, sets the collector's cursors to now and starts
  // serving. Errors: the address cannot be bound (temporary).
  Result<void> start(const config::ListenAddress& address, std::time_t now);
  // "127.0.0.1:9465" as bound.
  std::string address() const { return server_.local_address(); }

  // `settings` with its intake wrapped in a TimedIntake.
  std::shared_ptr<const net::Settings> instrument(
      const std::shared_ptr<const net::Settings>& settings);
  void set_runtime(std::shared_ptr<const config::Config> config,
                   std::shared_ptr<const keyring::KeyReport> keys, std::filesystem::path home);
  void stop() { server_.stop(); }

  Registry& registry() { return registry_; }

 private:
  Registry registry_;
  std::shared_ptr<Collector> collector_;
  HttpServer server_;
};

}  // namespace tlpmail::metrics
