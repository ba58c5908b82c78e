// Rule: exactly one From header field holding exactly one address
// (mime::Message::single_from, strict RFC 5322). The envelope sender,
// Sender and Reply-To never count. Whether the address is the signer's is
// rule_sender.cc's question.
#include "pipeline/rules.h"

namespace tlpmail::pipeline::rules {

Outcome check_single_from(Evidence& ev) {
  auto from = ev.message.single_from();
  if (!from) return Refusal{RefusalKind::not_one_from, std::string(kReasonOneFrom)};
  ev.from = std::move(from).value();
  return std::nullopt;
}

}  // namespace tlpmail::pipeline::rules
