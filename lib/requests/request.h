// requests::process: a message to LIST-request@ taken from the spool and
// answered (docs/requests.md). The sender is verified like a poster
// (pipeline::Verifier::verify_request: pinned key, From = signer, age,
// replay); the commands are the lines of the signed text (commands.h). A
// member gets one reply, signed by the list key and encrypted to their own
// key, from LIST-request@ (Auto-Submitted: auto-replied). Someone the list
// cannot encrypt to (not a member, or unsigned) who asks for `key` gets the
// list's public key in clear, at most once a day per address; every other
// such request gets no reply. Every request leaves an audit row (verdict
// 'request') and a log line; the reply, the replay digest, the audit row
// and the spool's `done` are written in one transaction. No sockets.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "config/config.h"
#include "fanout/distribute.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "queue/spool.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::requests {

// What process() works with: the fan-out's references (the KeyReport
// loaded into the home of the Context passed to process()).
using Env = fanout::FanoutEnv;

// What one call did, for the log (no content, no subject).
struct Processed {
  std::string list;     // the list's address
  std::string from;     // the verified signer, or the From address of unverified mail
  std::string signer;   // primary fingerprint when verified
  std::string outcome;  // "replied", "key sent in clear", "ignored", "not processed"
  std::string reason;   // why (for ignored ones: the refusal or the rule)
  std::vector<std::string> commands;  // as understood
  bool skipped = false;  // not a -request message, or not waiting: left alone
  // update-key stored a member's key (state_dir/keys.d): the daemon must
  // load its keys again before it relies on them (docs/keys.md).
  bool keys_changed = false;
};

// Processes the spooled -request message `id`. Errors: temporary for local
// faults (gpg, database, spool): nothing was written, the message stays
// received and is tried again. REQUIRES: `gpg` is used by this thread only.
Result<Processed> process(openpgp::Context& gpg, const Env& env, const queue::QueueId& id,
                          std::time_t now);

}  // namespace tlpmail::requests
