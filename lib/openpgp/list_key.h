// The lists' own key pairs in the GnuPG home under state_dir: creation
// (ed25519 signing primary + cv25519 encryption subkey, no passphrase,
// user IDs for LIST@ and LIST-request@, an expiry), lookup by list address
// (the current key and the keys it replaced), rotation (a successor
// certified by the keys it replaces, the old key's grace as its expiry),
// extension, retirement, exports, and the import of an existing secret key
// (`tlpmailctl import-list-key`). Unlike members' keys, a list key is found
// by its user ID: the key is ours, so the user ID is a fact we wrote. Not
// here: deciding when to create or rotate one (the daemon, tlpmailctl).
#pragma once

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "openpgp/context.h"
#include "openpgp/key_facts.h"
#include "util/result.h"

namespace tlpmail::openpgp {

// Makes the GnuPG home private: a mode with any group or other bit is
// changed to 0700 (gpg-agent's sockets and the secret keys live there).
// Errors: permanent when `home` is not a folder or cannot be changed.
Result<void> make_home_private(const std::filesystem::path& home);

// How long a new list key is valid, and how far extend_list_key moves its
// expiry by default: 3 years of 365 days.
inline constexpr int kListKeyLifetimeDays = 3 * 365;

// "local-request@domain" for "local@domain" (split at the last '@').
std::string request_address_of(std::string_view list_address);

// Creates the key pair of the list `list_address` in the context's home
// and returns its primary fingerprint (40 upper-case hex digits). User
// IDs: `name <list_address>` (the primary user ID) and `name
// <local-request@domain>` (the list's notices and replies come from
// there), with `name` the local part when it is empty. The primary key is
// ed25519 (sign, certify) and expires after `lifetime_days`; the cv25519
// subkey (encrypt) has no expiry of its own (it ends with the primary
// key). No passphrase. The home is made private first (make_home_private).
// Errors: permanent for an implausible address or a name holding '<',
// '>' or control characters, a lifetime below 1 day, and when a usable
// list key for the address already exists ("a list key for X already
// exists: FPR"); temporary when gpg fails (a half-made key is deleted
// again).
Result<std::string> create_list_key(Context& ctx, std::string_view list_address,
                                    std::string_view name,
                                    int lifetime_days = kListKeyLifetimeDays);

// The list key of `address`, i.e. find_list_keys(ctx, address)->current.
Result<std::optional<KeyFacts>> find_list_key(Context& ctx, std::string_view address);

// A key of the list other than its current one: a key it replaced.
struct PreviousListKey {
  KeyFacts facts;
  // Still usable (not expired): mail encrypted to it is accepted until
  // facts.expires, the end of its grace period (0: no end set).
  bool in_grace = false;
};

// Every secret key of the home for one list.
struct ListKeys {
  KeyFacts current;
  std::vector<PreviousListKey> previous;  // newest first
};

// The keys of the list `address`: the secret keys in the home with a user
// ID whose e-mail equals `address` (ASCII case-insensitive; for a revoked
// or expired key any of its user IDs, since gpg marks them all unusable),
// judged by gpg's clock at the time of the call. A key is *usable* when it
// is neither revoked, expired, disabled nor invalid, its user ID for the
// address is live, and it holds the secret parts of a live signing
// (sub)key and of a live encryption subkey.
// - One usable key: it is the current key.
// - Several usable keys (a rotation's grace period): the current key is
//   the one whose user ID for the address every other usable key has
//   certified (tlpmailctl rotate-list-key has every usable key certify the
//   successor); if several qualify, the one created last. The others are
//   previous keys in grace.
// Every other key with the address (expired: its grace is over; revoked;
// otherwise unusable) is a previous key not in grace. nullopt when no
// secret key has the address. Makes the home private first.
// Errors: permanent when the choice is not clear: several usable keys of
// which none (or more than one created in the same second) is certified
// by all others ("2 usable list keys for X: A, B; delete all but one
// ..."), or keys with the address none of which is usable ("the list key
// A for X is not usable: revoked"); temporary when gpg fails.
Result<std::optional<ListKeys>> find_list_keys(Context& ctx, std::string_view address);

// find_list_keys answered from the context's cache (home_cache.h) when it
// holds a fresh answer for `address`; otherwise gpg is asked and a found
// answer kept. For the per-message paths; commands that change list keys
// use find_list_keys. Errors: as find_list_keys (never cached).
Result<std::optional<ListKeys>> find_list_keys_cached(Context& ctx, std::string_view address);

// The temporary error for a running daemon whose gpg finds no list key
// for `address` although the daemon started (or reloaded) with one: most
// often gpg-agent died or does not answer (gpg then lists no usable
// secret key), not a key that is gone; the message says both.
Error list_key_not_found(std::string_view address);

// --------------------------------------------------------- key lifecycle

// Rotation, step 1, in a scratch home that holds the list's keys (never
// the daemon's home: the successor appears there by import, whole): makes
// a new key pair for `list_address` as create_list_key does (same name,
// user IDs, algorithms, lifetime) and has every usable key of the list
// certify its user IDs (exportable certifications, no expiry), so that
// find_list_keys takes it as the current key. Returns its fingerprint.
// Errors: permanent when the list has no usable key; temporary when gpg
// fails (the half-made key is deleted again).
Result<std::string> create_successor_key(Context& ctx, std::string_view list_address,
                                         std::string_view name,
                                         int lifetime_days = kListKeyLifetimeDays);

// Rotation, step 2: the grace period of the replaced key `fingerprint`
// ends `seconds` from now (at least 1): its primary key gets that expiry
// (a new self-signature), unless it already expires earlier. From then on
// it is expired: find_list_keys lists it as previous, not in grace, and
// the list refuses mail encrypted to it (gpg still decrypts with it, so
// the refusal can name the new key). Errors: permanent for an unknown key;
// temporary when gpg fails.
Result<void> end_grace_in(Context& ctx, std::string_view fingerprint, std::time_t seconds);

// Moves the expiry of the list's key to `days` days from now (a new
// self-signature on the primary key; subkeys that have an expiry of their
// own get the same one) and returns its fingerprint. The key is the
// current one (find_list_keys) or, when the list has no usable key, its
// newest key that is unusable only because it expired: an expired list
// key can be brought back. Errors: permanent when the list has no such
// key or days < 1; temporary when gpg fails.
Result<std::string> extend_list_key(Context& ctx, std::string_view list_address, int days);

// Adds the user ID `NAME <local-request@domain>` to the list key
// `fingerprint` when it has none for that address (keys made before list
// keys had it, imported keys). NAME is the name of its user ID for
// `list_address` (the local part when there is none); that user ID stays
// the primary one. Returns whether one was added.
// Errors: permanent for an unknown key or one without a user ID for the
// list address; temporary when gpg fails.
Result<bool> add_request_user_id(Context& ctx, std::string_view fingerprint,
                                 std::string_view list_address);

// Deletes the secret and public key `fingerprint` from the home: the
// retirement of a key the list no longer uses. Refused for the list's
// current key and for a key that is not one of the list's ("FPR is the
// current key of X: rotate first (tlpmailctl rotate-list-key)", "FPR is
// not a key of X (its keys: ...)"). Errors: as described, permanent;
// temporary when gpg fails.
Result<void> retire_list_key(Context& ctx, std::string_view list_address,
                             std::string_view fingerprint);

// How export_key writes a key.
enum class KeyExport {
  public_minimal,  // public key, only the latest self-signatures
  public_full,     // public key with every signature (the rotation's certifications)
  secret,          // secret and public key (to move a key between homes)
};

// The key `fingerprint`, binary (armored when `armor`). Secret exports
// must work without a passphrase.
// Errors: permanent "no key FPR in HOME" / "not a fingerprint: ...";
// temporary when gpg fails or writes nothing.
Result<std::string> export_key(Context& ctx, std::string_view fingerprint, KeyExport how,
                               bool armor);

// An exclusive lock (flock) on HOME/tlpmail-list-keys.lock for changes to
// the list keys of the GnuPG home `home`: held by tlpmaild while it finds
// or makes list keys at start and reload and by tlpmailctl's key commands
// (import, rotate, extend, retire), so that two of them never create or
// rotate keys of one list at once. gpg ignores the file. Blocks until free.
class ListKeyLock {
 public:
  // Errors: temporary when the file cannot be opened or locked.
  static Result<ListKeyLock> acquire(const std::filesystem::path& home);
  ListKeyLock(ListKeyLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ListKeyLock& operator=(ListKeyLock&&) = delete;
  ListKeyLock(const ListKeyLock&) = delete;
  ListKeyLock& operator=(const ListKeyLock&) = delete;
  ~ListKeyLock();

 private:
  explicit ListKeyLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The armored public key whose primary fingerprint is `fingerprint`,
// exported minimal (only the latest self-signatures), for members.
// Errors: permanent "no key FPR" / "not a fingerprint: ..."; temporary
// when gpg fails.
Result<std::string> export_public(Context& ctx, std::string_view fingerprint);

// Imports the secret key in `file` as the list key of `expected_address`
// and returns its primary fingerprint. The file is first imported into a
// throwaway home and must hold exactly one key that would pass
// find_list_key for `expected_address`, and its secret keys must sign and
// decrypt without a passphrase (tried there). Only then is it imported
// into the context's home, which must not hold a different usable list
// key for the address. Importing the same key again is fine.
// Errors: permanent, phrased for the admin and starting with the file
// name, e.g. "FILE: holds 2 keys; a list key file must hold exactly one",
// "FILE: holds no secret key (export it with gpg --export-secret-keys)",
// "FILE: key FPR has no user ID with the address X (it has: ...)",
// "FILE: the secret key FPR is protected by a passphrase; ...";
// temporary when gpg fails.
Result<std::string> import_secret_key_file(Context& ctx, const std::filesystem::path& file,
                                           std::string_view expected_address);

// True for "local@domain" with exactly one '@', both parts non-empty, and
// no whitespace, control characters, '<', '>', '"', ',' or ';'. A sanity
// check for user IDs, not an RFC 5321 parser.
bool is_plausible_address(std::string_view address);

}  // namespace tlpmail::openpgp
