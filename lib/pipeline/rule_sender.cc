// Rules on the person behind the signature: the From address must be the
// signer's directory address (ASCII case-insensitive; key user IDs never
// count), and the signer must be a member of the list the message was sent
// to. REQUIRES: check_signing_key passed (ev.key and ev.person are set).
#include "pipeline/rules.h"
#include "util/text.h"

namespace tlpmail::pipeline::rules {

Outcome check_from_matches_signer(const Evidence& ev) {
  if (!ev.person || !iequals(ev.from.address, ev.person->email)) {
    return Refusal{RefusalKind::from_mismatch, std::string(kReasonFromMismatch)};
  }
  return std::nullopt;
}

Outcome check_membership(const Evidence& ev, const directory::MailingList& list) {
  if (!ev.person || !list.has_member(ev.person->email)) {
    return Refusal{RefusalKind::not_a_member, std::string(kReasonNotMember)};
  }
  return std::nullopt;
}

}  // namespace tlpmail::pipeline::rules
