// intake::Stage: the intake as the server's net::Intake. tlpmaild makes
// one per configuration (at start and on each reload) and hands it to the
// server inside net::Settings; sessions keep the one they started with.
// Every Stage of the daemon charges the same memory budget.
#pragma once

#include <memory>
#include <string>

#include "intake/message.h"
#include "net/intake.h"

namespace tlpmail::intake {

// Immutable; every method may be called from any thread.
class Stage final : public net::Intake {
 public:
  // REQUIRES: context->config and context->spool not null. `memory`: the
  // daemon's budget of message bytes in memory (null: none, for tests).
  explicit Stage(Context context, std::shared_ptr<MemoryBudget> memory = nullptr);

  smtp::SessionOptions session_options(bool starttls_available) const override;
  smtp::Session::TransactionRcptResolver recipient_resolver() const override;
  std::shared_ptr<net::MessageIntake> begin(const std::string& session_id,
                                            const smtp::Envelope& envelope) const override;
  // The spool's "unavailable" reply (451 4.3.0), logged as a spool failure.
  net::DataOutcome unavailable(const std::string& session_id, const smtp::Envelope& envelope,
                               std::string detail, std::uint64_t size) const override;

  const Context& context() const { return *context_; }

 private:
  std::shared_ptr<const Context> context_;
  std::shared_ptr<MemoryBudget> memory_;
};

}  // namespace tlpmail::intake
