// update-key (docs/keys.md, "Keys updated by mail"): a member sends a new
// version of their own key with a verified request, and the list keeps it
// in state_dir/keys.d (keyring::store_updated_key) when its primary
// fingerprint is the pinned one. It may bring a later expiry, new subkeys,
// new user IDs or a revocation; third-party certifications are dropped;
// it is screened like a keys_dir file (public packets only, at most
// openpgp::kMaxPublicKeyFileSize). A key with another primary fingerprint
// changes nothing: only an admin changes a pin. Not here: the request's
// verification (lib/pipeline), the answer's letter (request.cc), the
// daemon's reload after a stored update (lib/delivery/outgoing.h).
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "directory/directory.h"
#include "keyring/keyring.h"
#include "mime/mime.h"
#include "openpgp/context.h"
#include "openpgp/key_facts.h"
#include "pipeline/verifier.h"
#include "util/result.h"

namespace tlpmail::requests {

// At most this many leaf parts of a request are looked at for a key, and
// at most this many of them may hold key material.
inline constexpr std::size_t kMaxRequestParts = 32;
inline constexpr std::size_t kMaxKeyParts = 4;

// One part of a request that holds (or claims to hold) key material.
struct KeyPart {
  std::string where;     // "the attachment \"bob.asc\"", "part 2", "the text of your message"
  std::string data;      // its decoded content
  bool too_large = false;  // over openpgp::kMaxPublicKeyFileSize: data is empty
};

struct KeyParts {
  std::vector<KeyPart> parts;
  std::string problem;  // non-empty: the request cannot be used (too many parts, ...)
};

// The parts of a verified request that hold key material: a part of type
// application/pgp-keys; any part whose text holds an armored PUBLIC or
// PRIVATE KEY BLOCK (the message text too, and the whole text of an
// inline-signed request); an attachment whose content starts with a
// public or secret key packet, or with a signature packet (a revocation
// certificate) when its type or file name says it is a key (.asc, .gpg,
// .key, .pgp, .rev). Bounded by kMaxRequestParts, kMaxKeyParts and the key
// file size. Pure apart from GMime parsing.
KeyParts find_key_parts(const pipeline::RequestContent& content);

// What differs between two versions of one key, for the member's answer.
struct KeyChange {
  std::vector<std::string> lines;  // one per change, e.g. "expires 2027-01-05 (was 2026-01-05)"
  bool revoked = false;            // the primary key is revoked in `after` and was not before
  bool any() const { return !lines.empty(); }
};

// Compares `before` and `after` (the same primary key) at `now`: when the
// key can be used until (keyring::assess_key), the primary key's expiry,
// each new subkey, each subkey whose expiry changed or that is now
// revoked, new user IDs (cleaned, cut), a revocation. Pure.
KeyChange describe_change(const openpgp::KeyFacts& before, const openpgp::KeyFacts& after,
                          std::time_t now);

// What one update-key command did.
struct KeyUpdate {
  std::string text;     // the answer, after the "> update-key" line; ends with '\n'
  bool stored = false;  // a new version was stored: the daemon must reload its keys
};

// Everything update_key looks at. References, valid for the call.
struct KeyUpdateInput {
  const config::Config& config;
  const keyring::KeyReport& keys;
  const directory::MailingList& list;
  const keyring::PersonKey& key;  // the sender's pinned key as the list holds it
  const pipeline::RequestContent& content;
  std::time_t now;
};

// Reads the key material of the request (find_key_parts), screens each
// part (openpgp::extract_public_keys: a secret key anywhere refuses the
// update), and merges it in a throwaway GnuPG home (only self-signatures
// kept) with the key the daemon's home holds for the pinned fingerprint
// (exported through `gpg`). Refused, and nothing stored, when: no key
// material; a part is too large, malformed or holds a secret key; gpg
// refuses a key; any key in it has another primary fingerprint; nothing
// changes; the result would not be usable for another reason than a
// revocation (weak, no encryption subkey, ...); a subkey of the result
// belongs to another pinned key; the result is larger than a key file may
// be. Otherwise the merged key is stored (keyring::store_updated_key) and
// the answer says what changed. Every refusal is an answer, not an error.
// Errors: temporary (gpg failing, no staging home, writing the file).
// REQUIRES: `gpg` is this thread's context on the daemon's home.
Result<KeyUpdate> update_key(openpgp::Context& gpg, const KeyUpdateInput& in);

}  // namespace tlpmail::requests
