// Rule: the signature's creation time lies within [now - max_signature_age,
// now + clock_skew], and the signature itself has not expired. Pure.
#include "pipeline/rules.h"

namespace tlpmail::pipeline::rules {

Outcome check_signature_age(const openpgp::SignatureFacts& sig, std::time_t now,
                            const Options& options) {
  const auto skew = static_cast<std::time_t>(options.clock_skew.count());
  const auto max_age = static_cast<std::time_t>(options.max_signature_age.count());
  if (sig.created > now + skew) {
    return Refusal{RefusalKind::signature_in_future, std::string(kReasonFuture)};
  }
  if (sig.created < now - max_age) {
    return Refusal{RefusalKind::signature_too_old, std::string(kReasonTooOld)};
  }
  if (sig.signature_expired || (sig.expires != 0 && sig.expires <= now)) {
    return Refusal{RefusalKind::signature_expired, std::string(kReasonSignatureExpired)};
  }
  return std::nullopt;
}

}  // namespace tlpmail::pipeline::rules
