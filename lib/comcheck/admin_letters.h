// Letters of the comcheck stage to a list's admins (a member's correction,
// a check's report), each sealed to the admin's own key and signed by the
// list key: who can receive one now, why not, and the loop that seals one
// letter per admin. The texts are composed by the callers, not here.
#pragma once

#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "compose/compose.h"
#include "directory/directory.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "queue/outbox.h"
#include "util/result.h"

namespace tlpmail::comcheck {

// A key that can be encrypted to at `now` (present, usable, not expired).
bool usable_now(const keyring::PersonKey* k, std::time_t now);

// Why `k` cannot be encrypted to at `now`: "no key", "key expired", ...
std::string key_problem(const keyring::PersonKey* k, std::time_t now);

// One letter per admin of `list` whose key in `keys` is usable at `now`,
// from the list to the admin, dated `now`: letter(f) writes the rest
// (subject, body, Message-ID, attachments), name(n) names the n-th outbox
// message (n counts from 1), the body is wiped once it is sealed. An admin without a
// usable key gets nothing and is passed to skipped(admin, key or nullptr).
// Errors: the list key is missing, or sealing fails (nothing is returned).
Result<std::vector<queue::NewOutgoing>> letters_to_admins(
    openpgp::Context& gpg, const keyring::KeyReport& keys, const directory::MailingList& list,
    std::time_t now, const std::function<void(compose::NoticeFacts& f)>& letter,
    const std::function<std::string(int n)>& name,
    const std::function<void(const std::string& admin, const keyring::PersonKey* key)>& skipped);

}  // namespace tlpmail::comcheck
