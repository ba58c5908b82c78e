// Rules on the person behind the signature: the From address, and the
// signed (protected) From when there is one, must be the signer's directory
// address (ASCII case-insensitive; key user IDs never count); signed To/Cc,
// when present, must name the list (what stops a member re-sending someone
// else's private signed message to the list: surreptitious forwarding);
// and the signer must be a member of the list the message was sent to.
// REQUIRES: check_signing_key passed (ev.key and ev.person are set).
#include "pipeline/rules.h"
#include "util/text.h"

namespace tlpmail::pipeline::rules {

Outcome check_from_matches_signer(const Evidence& ev) {
  if (!ev.person || !iequals(ev.from.address, ev.person->email)) {
    return Refusal{RefusalKind::from_mismatch, std::string(kReasonFromMismatch)};
  }
  return std::nullopt;
}

Outcome check_protected_from(const Evidence& ev) {
  const mime::ProtectedHeaders& p = ev.protected_headers;
  if (!p.has_from) return std::nullopt;
  if (p.from_unparsable || !ev.person || !iequals(p.from.address, ev.person->email)) {
    return Refusal{RefusalKind::protected_from_mismatch, std::string(kReasonProtectedFrom)};
  }
  return std::nullopt;
}

Outcome check_addressed_to(const Evidence& ev, std::string_view address) {
  const mime::ProtectedHeaders& p = ev.protected_headers;
  if (!p.has_to_cc) return std::nullopt;
  if (!p.to_cc_unparsable) {
    for (const mime::Mailbox& m : p.to_cc) {
      if (iequals(m.address, address)) return std::nullopt;
    }
  }
  return Refusal{RefusalKind::not_addressed_to_list, std::string(kReasonNotAddressed)};
}

Outcome check_membership(const Evidence& ev, const directory::MailingList& list) {
  if (!ev.person || !list.has_member(ev.person->email)) {
    return Refusal{RefusalKind::not_a_member, std::string(kReasonNotMember)};
  }
  return std::nullopt;
}

}  // namespace tlpmail::pipeline::rules
