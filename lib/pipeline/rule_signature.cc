// Rules on the signatures gpg found: exactly one; made with a hash that is
// not MD5 or SHA-1; mathematically good; a key gpg does not have counts as
// not pinned (keys_dir is the only source of keys). A signature gpg could
// not check because it is dated in the future is reported as such.
#include "pipeline/rules.h"
#include "util/text.h"

namespace tlpmail::pipeline::rules {
namespace {

bool is_weak_hash(std::string_view name) { return iequals(name, "MD5") || iequals(name, "SHA1"); }

}  // namespace

Outcome check_signature(Evidence& ev, std::time_t now, const Options& options) {
  if (ev.signatures.empty()) {
    return Refusal{RefusalKind::unsigned_message, std::string(kReasonUnsigned)};
  }
  if (ev.signatures.size() > 1) {
    return Refusal{RefusalKind::several_signatures, std::string(kReasonSeveralSignatures)};
  }
  const openpgp::SignatureFacts& s = ev.signatures.front();
  switch (s.status) {
    case openpgp::SignatureStatus::weak_hash_refused:
      // gpg refuses MD5 outright (it names no other algorithm this way).
      return Refusal{RefusalKind::weak_hash,
                     weak_hash_reason(s.hash_algorithm.empty() ? "MD5" : s.hash_algorithm)};
    case openpgp::SignatureStatus::no_public_key:
      return Refusal{RefusalKind::key_not_pinned, std::string(kReasonNotPinned)};
    case openpgp::SignatureStatus::bad:
      return Refusal{RefusalKind::bad_signature, std::string(kReasonBadSignature)};
    case openpgp::SignatureStatus::error: {
      // gpg will not check a signature made after "now" (time conflict);
      // name that instead of calling it invalid.
      const auto skew = static_cast<std::time_t>(options.clock_skew.count());
      if (s.created > now + skew) {
        return Refusal{RefusalKind::signature_in_future, std::string(kReasonFuture)};
      }
      return Refusal{RefusalKind::bad_signature, std::string(kReasonBadSignature)};
    }
    case openpgp::SignatureStatus::good:
      break;
  }
  if (is_weak_hash(s.hash_algorithm)) {
    return Refusal{RefusalKind::weak_hash, weak_hash_reason(ascii_upper(s.hash_algorithm))};
  }
  if (s.primary_fingerprint.empty() || s.replay_digest.empty()) {
    return Refusal{RefusalKind::bad_signature, std::string(kReasonBadSignature)};
  }
  ev.signature = &s;
  return std::nullopt;
}

}  // namespace tlpmail::pipeline::rules
