// Messages the list writes itself, to one person, from its -request
// address: admin notices, replies to requests, key notices. Each is signed
// by the list key and encrypted to its recipient alone (or, for the list's
// public key sent to someone it cannot encrypt to, plain), and becomes an
// outbox message the delivery scheduler sends like any copy. Also the
// small pieces the fan-out shares with them. No SQL, no sockets.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compose/compose.h"
#include "config/config.h"
#include "directory/directory.h"
#include "openpgp/context.h"
#include "openpgp/fanout.h"
#include "queue/outbox.h"
#include "util/result.h"

namespace tlpmail::fanout {

// The list as lib/compose sees it.
compose::ListFacts list_facts(const directory::MailingList& l);

// "tlpmail.<seed>.<12 random hex digits>@<hostname>".
std::string new_message_id(const config::Config& c, std::string_view seed);

// The list's key. Errors: temporary (a list without its key cannot work
// until it is back).
Result<openpgp::KeyFacts> list_key_of(openpgp::Context& gpg, const directory::MailingList& l);

// Signs `plaintext` with the list key and encrypts it once to every
// recipient; the outbox row for it (id, kind and frame still to fill in),
// each copy with a fresh VERP token (util/random_token.h). Keys in
// `known` (the members' keys listed at load; may be null) are not listed
// again.
Result<queue::NewOutgoing> seal(openpgp::Context& gpg, const directory::MailingList& list,
                                const std::string& list_fpr, std::string_view plaintext,
                                const std::vector<std::string>& emails,
                                const std::vector<std::string>& fingerprints,
                                const openpgp::KeyHandles* known = nullptr);
// The same signed by several keys (a rotation's announcement: old and new).
Result<queue::NewOutgoing> seal(openpgp::Context& gpg, const directory::MailingList& list,
                                const std::vector<std::string>& signers, std::string_view plaintext,
                                const std::vector<std::string>& emails,
                                const std::vector<std::string>& fingerprints,
                                const openpgp::KeyHandles* known = nullptr);

// compose::notice_entity(f) signed by the list key and encrypted to
// `fingerprint` (f.to's key), framed by compose::notice_frame(f): the
// outbox message `id` of `kind` (kind reply without a VERP token).
// REQUIRES: `gpg` used by this thread only.
Result<queue::NewOutgoing> sealed_letter(openpgp::Context& gpg, const directory::MailingList& list,
                                         const std::string& list_fpr,
                                         const compose::NoticeFacts& f,
                                         const std::string& fingerprint, const std::string& id,
                                         queue::OutgoingKind kind);

// compose::plain_message(f), unencrypted: the outbox message `id` of kind
// plain. Only for what may travel in clear (the list's public key).
queue::NewOutgoing plain_letter(const directory::MailingList& list, const compose::NoticeFacts& f,
                                const std::string& id);

}  // namespace tlpmail::fanout
