// The lists' own key pairs in the GnuPG home under state_dir: creation
// (ed25519 signing primary + cv25519 encryption subkey, no passphrase, no
// expiry), lookup by list address, public export, and the import of an
// existing secret key (`tlpmailctl import-list-key`). Unlike members' keys,
// a list key is found by its user ID: the key is ours, so the user ID is
// a fact we wrote. Not here: deciding when to create one (the daemon).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "openpgp/context.h"
#include "openpgp/key_facts.h"
#include "util/result.h"

namespace tlpmail::openpgp {

// Makes the GnuPG home private: a mode with any group or other bit is
// changed to 0700 (gpg-agent's sockets and the secret keys live there).
// Errors: permanent when `home` is not a folder or cannot be changed.
Result<void> make_home_private(const std::filesystem::path& home);

// Creates the key pair of the list `list_address` in the context's home
// and returns its primary fingerprint (40 upper-case hex digits). User ID:
// `name <list_address>`, or `local-part <list_address>` when `name` is
// empty. The primary key is ed25519 (sign, certify), the subkey cv25519
// (encrypt); neither has a passphrase nor an expiry date. The home is made
// private first (make_home_private).
// Errors: permanent for an implausible address or a name holding '<',
// '>' or control characters, and when a usable list key for the address
// already exists ("a list key for X already exists: FPR"); temporary when
// gpg fails (a half-made key is deleted again).
Result<std::string> create_list_key(Context& ctx, std::string_view list_address,
                                    std::string_view name);

// The list key of `address`: the one secret key in the home that has a
// user ID (neither revoked nor invalid) whose e-mail equals `address`
// (ASCII case-insensitive), is neither revoked, expired, disabled nor
// invalid, and holds the secret parts of a live signing (sub)key and of a
// live encryption subkey. nullopt when no secret key has such a user ID.
// Makes the home private first.
// Errors: permanent when the choice is not clear: several usable keys
// ("2 usable list keys for X: A, B; delete all but one ..."), or keys with
// the address none of which is usable ("the list key A for X is not
// usable: revoked"); temporary when gpg fails.
Result<std::optional<KeyFacts>> find_list_key(Context& ctx, std::string_view address);

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
