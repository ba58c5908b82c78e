// The members' key lifecycle as it runs by itself (docs/keys.md, "The key
// check"): the periodic key check, which sends a member whose key (or its
// encryption or signing subkey) stops being usable within 30, 7 and 1 days
// one notice per threshold (from LIST-request@, signed by the list key,
// encrypted to the member) telling them how to extend the key and send it
// with update-key; and the members' keys section of the admins' daily
// digest (expiring, expired, revoked, weak, no encryption subkey, ...).
// Keys are judged at `now`, not at their last load. Not here: loading
// keys (lib/keyring), when jobs run (lib/maintenance, daemon/tlpmaild/jobs.cc).
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <vector>

#include "config/config.h"
#include "digest/digest.h"
#include "directory/directory.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::keylife {

// What one key check did, for the log.
struct KeyCheck {
  std::size_t expiring = 0;  // keys usable now that stop being usable within 30 days
  std::size_t unusable = 0;  // pinned keys not usable now
  std::size_t notices = 0;   // expiry notices queued
  std::vector<std::string> failed;  // "EMAIL (why)": gpg would not encrypt to the key
};

// For every person of the directory who is a member or admin of a list
// and whose key is usable now but not in 30 days: sends the notice that
// keylife::notice_due names, from the first list (directory order) they
// are on, and records it (table key_expiry_notices) in the same
// transaction, so a notice is never sent twice, also across restarts.
// Errors: temporary (gpg, database); notices queued before stay queued.
// REQUIRES: `gpg` is this thread's context on the daemon's home.
Result<KeyCheck> run_key_check(openpgp::Context& gpg, const config::Config& config,
                               const keyring::KeyReport& keys, store::Database& db,
                               std::time_t now);

// The text of an expiry notice to `name` for key `k`, which stops being
// usable at `usable_until`, sent by `list`. Pure.
std::string expiry_notice_text(const directory::MailingList& list, const std::string& name,
                               const keyring::PersonKey& k, std::time_t usable_until,
                               std::time_t now);

// The digest section "Members' keys" for ctx.list: one line per member or
// admin whose key is not usable now (with the messages of the list they
// were withheld from since the previous digest) or stops being usable
// within 30 days, unusable ones first. Reads the audit log.
Result<digest::Section> key_problems_section(const digest::SectionContext& ctx);

}  // namespace tlpmail::keylife
