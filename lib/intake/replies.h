// Every reply the intake gives, in one place (docs/smtp.md points here).
// The session's own protocol replies (syntax, sequence, limits: 500, 501,
// 503, 552 for SIZE, ...) are lib/smtp/session.cc's; these are the ones
// that decide about mail:
//
//   at RCPT TO
//     550 5.1.1 <MAILBOX>: Recipient address rejected: not a list address on this server
//     452 4.5.3 one list per message, please send again for this recipient
//   at the end of DATA
//     250 2.0.0 Ok: queued as ID                 accepted and committed to the spool
//     250 2.0.0 Ok: already queued as ID         an exact retry of an accepted message
//     550 5.6.0 REASON                           refused: malformed, unsupported format,
//                                                  bad encrypted part, AEAD
//     552 5.3.4 decrypted content is too large (more than N bytes)
//     550 5.7.1 REASON                           every other refusal (docs/pipeline.md)
//     451 4.3.0 local error, please try again later   gpg or the database failed
//     452 4.3.1 not enough memory for this message now, please try again later
//                                                  the memory budget (max_message_memory)
//     451 / 452 spool failures                   queue::to_smtp_reply (lib/queue)
//
// Pure functions; no I/O.
#pragma once

#include <string_view>

#include "pipeline/verdict.h"
#include "queue/queue_id.h"
#include "queue/spool_error.h"
#include "smtp/reply.h"
#include "util/result.h"

namespace tlpmail::intake {

// RCPT TO an address that is no list's posting, -request or -bounces
// address: 550 5.1.1 (smtp::unknown_recipient_reply).
smtp::Reply unknown_recipient_reply(std::string_view mailbox);

// "452 4.5.3 one list per message, please send again for this recipient":
// a recipient that would put a second list (or a list beside its
// -request/-bounces addresses) into one transaction; the MTA sends it
// again in a transaction of its own, so that one message gets one verdict.
smtp::Reply one_list_reply();

// "250 2.0.0 Ok: queued as <id>".
smtp::Reply queued_reply(const queue::QueueId& id);

// "250 2.0.0 Ok: already queued as <id>" (an exact retry; its 250 was lost).
smtp::Reply duplicate_reply(std::string_view queue_id);

// The mapping refusal -> reply:
//   none                           250 2.0.0 "message accepted"
//   malformed, unsupported_format,
//   bad_encrypted_part,
//   aead_not_supported             550 5.6.0 REASON
//   decrypted_too_large            552 5.3.4 REASON
//   every other refusal            550 5.7.1 REASON
smtp::Reply reply_for(pipeline::RefusalKind kind, std::string_view reason);

// A verdict's reply: duplicate_reply() for an exact retry, else
// reply_for(refusal, reason). An accepted message's 250 at DATA is
// queued_reply() with its queue id; this one ("message accepted") goes
// into the audit log.
smtp::Reply reply_for(const pipeline::Verdict& v);

// The reply for a local fault (an error of verification or recording): a
// refused error (recording found a replay under its transaction) is
// 550 5.7.1 with the error's text; everything else (temporary, permanent,
// corrupt: gpg failed, database locked) is 451 4.3.0 "local error, please
// try again later" so the MTA retries. The fault's own text is for the log
// only, never the reply.
smtp::Reply reply_for_fault(const Error& fault);

// "452 4.3.1 not enough memory for this message now, please try again
// later": the message did not fit in [server] max_message_memory beside
// the messages being received and verified; its bytes were discarded.
smtp::Reply memory_budget_reply();

// A spool failure's 4xx (queue::to_smtp_reply, the one mapping of spool
// failures, lives with the spool).
smtp::Reply spool_failure_reply(const queue::SpoolError& e);

}  // namespace tlpmail::intake
