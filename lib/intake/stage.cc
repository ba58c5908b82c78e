// intake::Stage (see stage.h): session options and the RCPT resolver from
// the configuration, one intake::Message per DATA.
#include "intake/stage.h"

#include <utility>

#include "intake/recipients.h"

namespace tlpmail::intake {

Stage::Stage(Context context, std::shared_ptr<MemoryBudget> memory)
    : context_(std::make_shared<const Context>(std::move(context))), memory_(std::move(memory)) {}

smtp::SessionOptions Stage::session_options(bool starttls_available) const {
  return intake::session_options(*context_->config, starttls_available);
}

smtp::Session::TransactionRcptResolver Stage::recipient_resolver() const {
  return transaction_resolver(context_->config);
}

std::shared_ptr<net::MessageIntake> Stage::begin(const std::string& session_id,
                                                 const smtp::Envelope& envelope) const {
  return std::make_shared<Message>(context_, memory_, session_id, envelope);
}

net::DataOutcome Stage::unavailable(const std::string& session_id, const smtp::Envelope& envelope,
                                    std::string detail, std::uint64_t size) const {
  Outcome out =
      Outcome::spool_failure(queue::SpoolError{queue::SpoolErrorCode::unavailable, std::move(detail)});
  log_outcome(session_id, envelope, size, out);
  return net::DataOutcome{out.reply, false};
}

}  // namespace tlpmail::intake
