// The members' keys: screens and imports the key files of keys_dir and
// judges, for each person of the directory, the key pinned by primary
// fingerprint (ok, expiring, expired, revoked, weak, missing, lacking a
// capability, sharing a subkey with another pinned key). User IDs play no
// part; an unpinned key grants nothing; secret keys never reach a home.
// Not here: TOML (lib/config), signatures and encryption (lib/openpgp).
#pragma once

#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "openpgp/key_facts.h"
#include "util/result.h"

namespace tlpmail::openpgp {
class KeyHandles;
}

namespace tlpmail::keyring {

// A usable key that stops being usable within this many days is reported
// as "expires in N days" (still usable) and gets a warning.
inline constexpr int kExpiryWarningDays = 30;

enum class KeyStatus {
  ok,                 // "ok"
  expires_soon,       // "expires in N days" ("expires in 1 day"); still usable
  expired,            // "expired": the primary key's expiry is past
  revoked,            // "revoked": the primary key is revoked
  invalid,            // "invalid": gpg marks the key invalid or disabled
  weak,               // "weak": RSA/DSA/ElGamal below 2048 bits (primary or a live subkey)
  no_encryption_key,  // "no encryption key": no live (sub)key can encrypt
  no_signing_key,     // "no signing key": no live (sub)key can sign
  missing,            // "missing": no key with the pinned fingerprint in keys_dir
};

// The fixed words above; expires_soon reads "expires soon" here (the word
// with the number of days is KeyAssessment::word / PersonKey::status_word).
std::string_view to_string(KeyStatus s);

// What a key is worth at time `now`.
struct KeyAssessment {
  KeyStatus status = KeyStatus::missing;
  std::string word;              // status word, verbatim for `tlpmailctl keys`
  bool usable = false;           // true only for ok and expires_soon
  std::time_t usable_until = 0;  // when it stops being usable; 0: no expiry
  std::string detail;            // e.g. "expired on 2026-01-05", "rsa1024, below 2048 bits"
};

// Judges one key at `now`. Precedence when several apply: invalid, revoked,
// expired, weak, no encryption key, no signing key, expires soon, ok.
// A subkey counts when it is neither revoked, invalid nor past its expiry;
// a counting subkey that is weak makes the whole key weak. usable_until is
// the earliest of the primary key's expiry and the last expiry of the
// counting encryption and signing (sub)keys. Pure; no I/O.
KeyAssessment assess_key(const openpgp::KeyFacts& facts, std::time_t now);

// Where the key tlpmail uses for a person came from.
enum class KeySource {
  keys_dir,  // "keys_dir": the admins' files only
  mail,      // "update by mail": a key the member sent with update-key
             // (state_dir/keys.d) added something to what keys_dir holds
};

// "keys_dir", "update by mail".
std::string_view to_string(KeySource s);

// One person of the directory and their pinned key.
struct PersonKey {
  std::string email;         // as in the directory
  std::string fingerprint;   // the pinned primary fingerprint
  KeyStatus status = KeyStatus::missing;
  std::string status_word;   // "ok", "expires in 12 days", "missing", ...
  std::optional<openpgp::KeyFacts> facts;  // absent when missing
  bool usable = false;       // may receive copies and post
  std::time_t usable_until = 0;
  std::string detail;        // one line for humans; "" when ok
  std::filesystem::path file;  // the key file it came from; empty when missing
  // keys_dir, or mail when the member's update (update_file) brought more
  // than keys_dir holds: a later expiry, a subkey, a user ID, a revocation.
  KeySource source = KeySource::keys_dir;
  std::time_t source_date = 0;        // mail: when the update was stored; 0 unknown
  std::filesystem::path update_file;  // state_dir/keys.d/FPR.asc when there is one
};

// A key found in keys_dir that nobody's fingerprint pins: it grants nothing.
struct UnpinnedKey {
  std::string fingerprint;
  std::filesystem::path file;
  std::vector<std::string> user_ids;  // display only
};

struct KeyReport {
  std::vector<PersonKey> people;      // in directory order, one per person
  std::vector<UnpinnedKey> unpinned;  // in file order
  std::vector<std::filesystem::path> files;  // key files read, sorted
  // Errors: a pinned fingerprint with no key ("missing"), a key file that
  // cannot be imported (secret key material, over the size limit, not a
  // public key, malformed), two pinned keys sharing a (sub)key or key ID,
  // an unreadable keys_dir. Warnings: a pinned key that is not usable (the
  // person is withheld from every delivery), a key that expires within
  // kExpiryWarningDays, a key gpg refused inside a file. A key file's
  // diagnostics have line 0 ("FILE: message").
  std::vector<config::Diagnostic> diagnostics;
  // GPGME handles of the usable pinned keys for the fan-out, listed once
  // per load by list_handles(); null when not listed (the fan-out then
  // lists the keys it needs itself).
  std::shared_ptr<const openpgp::KeyHandles> handles;
  // people's index by ASCII-lower-cased e-mail (made with people; find()
  // scans people when the two sizes differ): a fan-out to 10,000 members
  // looks every one up.
  std::unordered_map<std::string, std::size_t> by_email;

  // Case-insensitive on the e-mail address; nullptr when not a person.
  const PersonKey* find(std::string_view email) const;
  // The person whose present key has this primary or subkey fingerprint
  // (any case); nullptr when none. For resolving a signer to a person.
  const PersonKey* find_by_key(std::string_view fingerprint) const;
  // True when the person exists and their key is usable.
  bool is_usable(std::string_view email) const;
  bool has_errors() const;
};

// ------------------------------------------------- keys updated by mail
//
// A member's key sent with update-key (lib/requests/key_update.h) is kept
// in state_dir/keys.d/FPR.asc, one file per pinned primary fingerprint,
// beside (never instead of) the admins' keys_dir. load_keys imports both;
// GnuPG merges what has the same primary key, so the newest self-signature
// decides the expiry and user IDs, subkeys from either count, and a
// revocation from either applies (docs/keys.md, "Keys updated by mail").

inline constexpr const char* kUpdatedKeysFolder = "keys.d";

// state_dir/keys.d of `config`.
std::filesystem::path updated_keys_dir(const config::Config& config);

// state_dir/keys.d/FPR.asc for a normalized (40 upper-case hex) fingerprint.
std::filesystem::path updated_key_file(const config::Config& config, std::string_view fingerprint);

// Stores `armored` (one armored public key whose primary fingerprint is
// `fingerprint`, already screened and merged by the caller) as the updated
// key of that fingerprint: an armor header line "Comment: updated by mail
// YYYY-MM-DDTHH:MM:SSZ" (from `now`) is added, then the file is written
// next to its final name, flushed, renamed over it and the folder flushed
// (keys.d is created with mode 0700 when missing). Returns the file.
// Errors: permanent for a fingerprint that is not 40 hex digits or text
// that is not an armored public key block; temporary for I/O failures.
Result<std::filesystem::path> store_updated_key(const config::Config& config,
                                                std::string_view fingerprint,
                                                std::string_view armored, std::time_t now);

// The date of the "Comment: updated by mail ..." line of a file written by
// store_updated_key; 0 when there is none or it does not parse. Pure.
std::time_t updated_key_date(std::string_view text);

// Whether copies can be encrypted to `k` (nullptr: not a person) at
// `now`: its key was usable when loaded and still is at `now` (it may have
// expired since the load).
bool usable_at(const PersonKey* k, std::time_t now);

// Why not, for logs, audit rows and notices: "key expired", "key
// revoked", "key not usable", ...; `absent` when `k` is null.
std::string unusable_reason(const PersonKey* k, std::time_t now, std::string_view absent);

// Lists the keys of the usable people in `gnupg_home` once (one gpg run)
// as GPGME handles for the fan-out (openpgp::KeyHandles) into
// report.handles, so that no fan-out lists the keyring again until the
// next load (a reload, a key update or a revocation makes a new report).
// For tlpmaild, after load_keys into the same home. Errors: temporary.
Result<void> list_handles(KeyReport& report, const std::filesystem::path& gnupg_home);

// Imports every regular file named *.asc or *.gpg directly in
// config.paths.keys_dir (sorted by name, not recursive, names starting
// with '.' skipped), then every state_dir/keys.d/FPR.asc whose FPR someone
// pins (a file there must hold exactly the key FPR, else it is an error;
// a keys.d that cannot be read is a warning: the keys_dir keys are used),
// then the files that hold only revocation certificates (so that a
// revocation file works whatever its name), and judges each person's key
// at `now`, in three steps:
// 1. Each file is read (at most openpgp::kMaxPublicKeyFileSize bytes) and
//    screened without gpg (openpgp::extract_public_keys): a file with
//    secret key material anywhere, or with anything that is not part of
//    a public key, is refused and nothing of it reaches any GnuPG home.
// 2. The public packets of the other files go into a throwaway staging
//    home, with third-party certifications dropped
//    (Context::keep_only_self_signatures), and the pinned keys are judged
//    there, including two pinned keys that share a (sub)key or key ID.
// 3. Only when steps 1-2 found no error are the same packets imported into
//    `gnupg_home` (created when missing; see openpgp::Context::open), and
//    the keys are judged again on what that home then holds. With an
//    error, `gnupg_home` is left as it was (not even created).
// A key counts as present only when its primary fingerprint was imported
// from keys_dir in this call; keys left in the home by earlier imports
// grant nothing. Problems with files and keys are diagnostics in the
// report (the call still succeeds); the Result fails only when GnuPG
// cannot be used at all (home too long or not creatable: permanent;
// GPGME failures, no staging home: temporary).
// Spawns one gpg per key file plus, when all is clear, one more import and
// a key listing per home.
// Thread safety: uses its own openpgp::Contexts; callable from any thread
// after openpgp::initialize().
Result<KeyReport> load_keys(const config::Config& config,
                            const std::filesystem::path& gnupg_home, std::time_t now);


}  // namespace tlpmail::keyring
