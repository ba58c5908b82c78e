// The timing wrapper around each MessageIntake; see intake_timer.h.
#include "metrics/intake_timer.h"

#include <chrono>

namespace tlpmail::metrics {
namespace {

std::string reply_class(const smtp::Reply& r) {
  const int code = r.code;
  return code >= 200 && code < 600 ? std::to_string(code / 100) + "xx" : "other";
}

class TimedMessage final : public net::MessageIntake {
 public:
  TimedMessage(std::shared_ptr<net::MessageIntake> inner, Registry& registry)
      : inner_(std::move(inner)), registry_(registry) {}
  bool write(std::string bytes) override { return inner_->write(std::move(bytes)); }
  net::DataOutcome finish(std::string bytes, std::uint64_t size) override {
    const auto start = std::chrono::steady_clock::now();
    net::DataOutcome out = inner_->finish(std::move(bytes), size);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    registry_.observe("tlpmail_intake_seconds", {}, took.count());
    registry_.add("tlpmail_intake_replies_total", {{"class", reply_class(out.reply)}}, 1);
    return out;
  }
  void abort() override { inner_->abort(); }
  bool is_discarding() const override { return inner_->is_discarding(); }

 private:
  std::shared_ptr<net::MessageIntake> inner_;
  Registry& registry_;
};

}  // namespace

void declare_intake_metrics(Registry& registry) {
  registry.declare("tlpmail_intake_seconds", Type::histogram,
                   "Time from the end of DATA to its reply: verification, spool commit, audit.",
                   {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  registry.declare("tlpmail_intake_replies_total", Type::counter,
                   "Replies to the end of DATA by class (2xx accepted, 4xx try later, 5xx "
                   "refused).");
  registry.declare("tlpmail_intake_flow_delayed_total", Type::counter,
                   "Replies to a new message held back because the fan-out was behind "
                   "([server] in_flow_backlog, in_flow_delay_ms).");
  registry.declare("tlpmail_intake_flow_delay_seconds_total", Type::counter,
                   "Time those replies were held back, in all.");
}

std::shared_ptr<net::MessageIntake> TimedIntake::begin(const std::string& session_id,
                                                       const smtp::Envelope& envelope) const {
  auto inner = inner_->begin(session_id, envelope);
  if (!inner) return inner;
  return std::make_shared<TimedMessage>(std::move(inner), registry_);
}

net::DataOutcome TimedIntake::unavailable(const std::string& session_id,
                                          const smtp::Envelope& envelope, std::string detail,
                                          std::uint64_t size) const {
  net::DataOutcome out = inner_->unavailable(session_id, envelope, std::move(detail), size);
  registry_.add("tlpmail_intake_replies_total", {{"class", reply_class(out.reply)}}, 1);
  return out;
}

}  // namespace tlpmail::metrics
