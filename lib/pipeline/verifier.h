// pipeline::Verifier: the verification of one received message for one
// list (docs/pipeline.md, "Rules in order") as an ordered set of small
// rules (rules.h, one file each), giving a typed Verdict. It reads the
// replay digests and the thread index (tables.h) but writes nothing: the
// stage that acts on a verdict records it (lib/intake/record.h). Not here:
// SMTP, replies, the spool, building and encrypting the copies.
#pragma once

#include <chrono>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "directory/directory.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "pipeline/verdict.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::pipeline {

struct Options {
  // A signature older than this (creation time before now - max) is
  // refused as too old. No configuration key yet (the lead decides).
  std::chrono::seconds max_signature_age = std::chrono::hours(24 * 7);
  // A signature dated up to this far after `now` is still accepted
  // (senders' clocks drift); later is "dated in the future".
  std::chrono::seconds clock_skew = std::chrono::minutes(5);
};

// What a verified request says: exactly the bytes the signature covers.
// Plaintext: keep it in memory only, never log or store it.
struct RequestContent {
  std::string entity;     // the verified MIME entity, or the text of an inline message
  bool is_mime = false;   // `entity` is a MIME entity (else plain text)
  std::string body_text;  // its first text part, decoded (at most mime::kBodyHeadMax bytes)
  std::string message_id;                            // of the received message
  std::vector<std::string> in_reply_to, references;  // outer and signed (protected) ids
};

class Verifier {
 public:
  // Keeps references: config, keys and db must outlive the Verifier.
  // `keys` must come from keyring::load_keys into the GnuPG home that the
  // Contexts passed to verify() use (that home also holds the lists'
  // secret keys).
  Verifier(const config::Config& config, const keyring::KeyReport& keys, store::Database& db,
           Options options = {});

  // Runs every rule on `raw` (the message as received, CRLF or LF) sent to
  // `list` and returns the verdict at time `now`: accepted with a label and
  // a policy::Decision, or refused with the first refusal in rule order and
  // its reply, or (once the signature is verified) a duplicate: an exact
  // retry of a message accepted and spooled for this list with the same
  // Message-ID (Verdict::duplicate_of). Reads the database (replay
  // digests, thread index) but never writes it.
  // Errors: local faults only (gpg failing, a list key that cannot be
  // found, the database busy or broken); the intake answers 451 4.3.0 so
  // the MTA retries.
  // Thread safety: const; may run concurrently on different threads, each
  // with its own Context. REQUIRES: `gpg` is used by this thread only.
  Result<Verdict> verify(openpgp::Context& gpg, const directory::MailingList& list,
                         std::string_view raw, std::time_t now) const;

  // The same rules for a message to the list's -request address, up to
  // and including replay: structure, From, decryption with the list key,
  // one good signature by a pinned, usable key, From (and the signed From)
  // the signer, the signed To/Cc (when present) naming the -request
  // address, signature age, replay. Not: exact retries, membership (the
  // commands decide what a non-member may ask), TLP. Accepted means the
  // sender is verified; the caller records the digest (replays of
  // requests are refused too). Errors and thread safety as verify().
  // `content` (may be null) receives what was verified, when accepted.
  Result<Verdict> verify_request(openpgp::Context& gpg, const directory::MailingList& list,
                                 std::string_view raw, std::time_t now,
                                 RequestContent* content) const;

  const Options& options() const { return options_; }

 private:
  enum class Purpose { post, request };
  Result<Verdict> run(openpgp::Context& gpg, const directory::MailingList& list,
                      std::string_view raw, std::time_t now, Purpose purpose,
                      RequestContent* content) const;

  const config::Config& config_;
  const keyring::KeyReport& keys_;
  store::Database& db_;
  Options options_;
};

}  // namespace tlpmail::pipeline
