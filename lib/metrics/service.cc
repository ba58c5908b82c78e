// Wires the registry, collector, intake timer and listener; see service.h.
#include "metrics/service.h"

#include "metrics/intake_timer.h"

namespace tlpmail::metrics {

Service::Service(boost::asio::io_context& io, boost::asio::thread_pool& pool,
                 std::filesystem::path database)
    : collector_(std::make_shared<Collector>(registry_, std::move(database))),
      server_(io, pool, [c = collector_, r = &registry_] {
        c->refresh(std::time(nullptr));
        return r->render();
      }) {
  declare_intake_metrics(registry_);
}

Result<void> Service::start(const config::ListenAddress& address, std::time_t now) {
  if (auto r = server_.listen(address); !r) return r;
  collector_->start(now);
  server_.start();
  return {};
}

std::shared_ptr<const net::Settings> Service::instrument(
    const std::shared_ptr<const net::Settings>& settings) {
  auto copy = std::make_shared<net::Settings>(*settings);
  copy->intake = std::make_shared<TimedIntake>(settings->intake, registry_);
  return copy;
}

void Service::set_runtime(std::shared_ptr<const config::Config> config,
                          std::shared_ptr<const keyring::KeyReport> keys,
                          std::filesystem::path home) {
  collector_->set_runtime(std::move(config), std::move(keys), std::move(home));
}

}  // namespace tlpmail::metrics
