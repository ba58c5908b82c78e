// The intake's replies (see replies.h for the whole list).
#include "intake/replies.h"

#include <string>

namespace tlpmail::intake {

smtp::Reply unknown_recipient_reply(std::string_view mailbox) {
  return smtp::unknown_recipient_reply(mailbox);
}

smtp::Reply one_list_reply() {
  return smtp::Reply{452, "4.5.3", "one list per message, please send again for this recipient"};
}

smtp::Reply queued_reply(const queue::QueueId& id) {
  return smtp::Reply{250, "2.0.0", "Ok: queued as " + id};
}

smtp::Reply duplicate_reply(std::string_view queue_id) {
  return {250, "2.0.0", "Ok: already queued as " + std::string(queue_id)};
}

smtp::Reply reply_for(pipeline::RefusalKind kind, std::string_view reason) {
  switch (kind) {
    case pipeline::RefusalKind::none:
      return {250, "2.0.0", "message accepted"};
    case pipeline::RefusalKind::malformed:
    case pipeline::RefusalKind::unsupported_format:
    case pipeline::RefusalKind::bad_encrypted_part:
    case pipeline::RefusalKind::aead_not_supported:
      return {550, "5.6.0", std::string(reason)};
    case pipeline::RefusalKind::decrypted_too_large:
      return {552, "5.3.4", std::string(reason)};
    default:
      return {550, "5.7.1", std::string(reason)};
  }
}

smtp::Reply reply_for(const pipeline::Verdict& v) {
  if (v.is_duplicate()) return duplicate_reply(v.duplicate_of);
  return reply_for(v.refusal, v.reason);
}

smtp::Reply reply_for_fault(const Error& fault) {
  if (fault.kind == ErrorClass::refused) return {550, "5.7.1", fault.message};
  return {451, "4.3.0", "local error, please try again later"};
}

smtp::Reply memory_budget_reply() {
  return {452, "4.3.1", "not enough memory for this message now, please try again later"};
}

smtp::Reply spool_failure_reply(const queue::SpoolError& e) { return queue::to_smtp_reply(e); }

}  // namespace tlpmail::intake
