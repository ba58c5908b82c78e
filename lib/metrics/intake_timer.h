// metrics::TimedIntake: a net::Intake that hands everything to the real
// intake and times each message's end of DATA (verification, spool commit
// and the reply decided) into tlpmail_intake_seconds, and counts the
// replies by class (2xx, 4xx, 5xx) into tlpmail_intake_replies_total.
// Adds no decision and sees no content: only durations and reply codes.
#pragma once

#include <memory>

#include "metrics/registry.h"
#include "net/intake.h"

namespace tlpmail::metrics {

// Declares the two families in `registry`.
void declare_intake_metrics(Registry& registry);

class TimedIntake final : public net::Intake {
 public:
  // REQUIRES: `registry` outlives every message begun here.
  TimedIntake(std::shared_ptr<const net::Intake> inner, Registry& registry)
      : inner_(std::move(inner)), registry_(registry) {}

  smtp::SessionOptions session_options(bool starttls_available) const override {
    return inner_->session_options(starttls_available);
  }
  smtp::Session::TransactionRcptResolver recipient_resolver() const override {
    return inner_->recipient_resolver();
  }
  std::shared_ptr<net::MessageIntake> begin(const std::string& session_id,
                                            const smtp::Envelope& envelope) const override;
  net::DataOutcome unavailable(const std::string& session_id, const smtp::Envelope& envelope,
                               std::string detail, std::uint64_t size) const override;

 private:
  std::shared_ptr<const net::Intake> inner_;
  Registry& registry_;
};

}  // namespace tlpmail::metrics
