// The list's own messages about its key (docs/keys.md, "List keys"): the
// announcement of a new list key to every member and admin after a
// rotation (tlpmailctl rotate-list-key), and the admins' notice that the
// list key expires soon or that a replaced key's grace period ended
// (list_key_notices; tlpmaild's daily job list-key-notices queues them,
// daemon/tlpmaild/jobs.cc). Each is signed by the list key (the
// announcement by the old and the new key) and encrypted; nothing here is
// ever sent in clear. Builds outbox messages; no SQL, no sockets.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "config/config.h"
#include "directory/directory.h"
#include "fanout/distribute.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "openpgp/list_key.h"
#include "queue/outbox.h"
#include "util/result.h"

namespace tlpmail::fanout {

// What a rotation changed.
struct KeyChange {
  std::string old_fingerprint;
  std::string new_fingerprint;
  std::string new_key_armored;  // the new public key with the old key's certification
  std::time_t grace_until = 0;  // when mail to the old key stops being accepted
  std::time_t now = 0;
};

// The announcement's text (LF lines): both fingerprints in groups of four,
// what a member does now, and until when mail encrypted to the old key is
// accepted. Pure.
std::string announcement_text(const directory::MailingList& list, const KeyChange& change);

struct Announcement {
  queue::NewOutgoing message;      // kind notice, id "listkey.NEWFPR", one copy per recipient
  std::vector<Withheld> not_reached;  // members and admins whose key cannot be used now
};

// The announcement of `change` to every member and admin of `list` whose
// pinned key is usable at change.now (the others are `not_reached`): from
// LIST-request@, To the list, the text above with the new public key
// attached as application/pgp-keys (LOCAL.asc), signed by the old and the
// new list key in one OpenPGP message encrypted once to all of them (one
// PKESK each, lib/openpgp/fanout.h). `gpg` must hold both secret keys and
// the recipients' public keys (`keys` loaded into its home).
// Errors: permanent when nobody can be reached; gpg errors as
// sign_and_encrypt_once.
Result<Announcement> announce_new_list_key(openpgp::Context& gpg, const config::Config& config,
                                           const keyring::KeyReport& keys,
                                           const directory::MailingList& list,
                                           const KeyChange& change);

// A list key expires within this many days: `tlpmailctl lists` and `keys`
// warn, and the admins are told (list_key_notices).
inline constexpr int kListKeyWarningDays = 60;
// The admins are told when so many days are left (each threshold once).
inline constexpr int kListKeyNoticeDays[] = {60, 30, 7, 1};

// The threshold of kListKeyNoticeDays due for a key that expires at
// `expires` in the interval (since, now]: the smallest one whose moment
// (expires - days) lies in it (a daemon that was down for weeks says
// "7 days", not "60"); 0 when none does or the key never expires. since
// <= 0 or > now (first run, clock set back) counts as now - 1 day. Pure.
int list_key_notice_due(std::time_t expires, std::time_t since, std::time_t now);

// The admins' notices about the list keys for the interval (since, now]
// (the last run of the daily job and this one): for each list whose
// current key has a threshold due (list_key_notice_due), and for each
// replaced key whose grace period ended in the interval, one notice per
// usable admin, signed by the current list key and encrypted to that
// admin. Each notice's outbox id names what it is about and whom it goes
// to, "listkey-expiry.FPR.EXPIRES.DAYS.ADMIN" and
// "listkey-grace.OLDFPR.ENDED.ADMIN", so that the outbox refuses it a
// second time (a run repeated after a failure, a lost job record): the
// caller skips those. `summary` gets one phrase per notice for the log.
// Errors: temporary (gpg).
Result<std::vector<queue::NewOutgoing>> list_key_notices(openpgp::Context& gpg,
                                                         const config::Config& config,
                                                         const keyring::KeyReport& keys,
                                                         std::time_t since, std::time_t now,
                                                         std::vector<std::string>& summary);

}  // namespace tlpmail::fanout
