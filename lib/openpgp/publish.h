// A list key as the list publishes it to mail clients: the Autocrypt key
// data of its copies (Autocrypt Level 1: primary key, the user ID for the
// list address, the encryption subkey, each with its self-signature) and
// the Web Key Directory (WKD, draft-koch-openpgp-webkey-service): the
// z-base-32 hash of the local part that names the key file, and the key
// file itself (the key with only the user ID for the address asked for).
// The packet selection and the hash are pure; the *_of functions export
// the key with gpg first. Not here: header syntax (lib/compose), where the
// files go (tlpmailctl wkd).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "openpgp/context.h"
#include "openpgp/key_facts.h"
#include "util/result.h"

namespace tlpmail::openpgp {

// z-base-32 (the alphabet "ybndrfg8ejkmcpqxot1uwisza345h769", 5 bits per
// character, most significant bit first, no padding) of `bytes`.
std::string zbase32(std::string_view bytes);

// The WKD hash of an address's local part: zbase32(SHA-1(local part with
// ASCII upper case made lower case)), 32 characters. "Joe.Doe" gives
// "iy9q119eutrkn8s1mk4r39qejnbu3n5q".
std::string wkd_hash(std::string_view local_part);

// What select_key_packets keeps.
struct KeySelection {
  std::string address;               // the user ID(s) kept: those whose e-mail is this
  std::vector<std::string> subkeys;  // fingerprints of the subkeys kept (each must be there)
  bool key_signatures = false;       // keep the signatures right after the primary key
};

// From a binary transferable public key (gpg --export, one key): the
// primary key packet, (key_signatures) the signature packets directly
// after it (direct-key signatures, revocations), each user ID packet whose
// text is `address` or ends in "<address>" (ASCII case-insensitive) with
// the signatures after it, and each subkey packet of `subkeys` with the
// signatures after it; nothing else. Pure.
// Errors: permanent when the data does not frame as packets, does not
// start with a public key packet, holds more than one key, has no user ID
// for the address, or lacks a wanted subkey.
Result<std::string> select_key_packets(std::string_view key, const KeySelection& selection);

// The newest live encryption subkey of `key` (not the primary key), or
// nullptr.
const SubkeyFacts* encryption_subkey(const KeyFacts& key);

// The Autocrypt keydata (binary) of the list key `key` for
// `list_address`: select_key_packets of its minimal export with the
// list's user ID and its newest live encryption subkey, no key
// signatures. Errors: permanent when the key has no such subkey or user
// ID; temporary when gpg fails.
Result<std::string> autocrypt_key_of(Context& ctx, const KeyFacts& key,
                                     std::string_view list_address);

// autocrypt_key_of answered from the context's cache (home_cache.h) while
// it holds the data for this key and address. Errors: as autocrypt_key_of.
Result<std::string> autocrypt_key_cached(Context& ctx, const KeyFacts& key,
                                         std::string_view list_address);

// The WKD key file (binary) of `key` for `address` (the list address or
// its -request address): its minimal export with only the user ID for
// `address`, every live subkey and the key signatures. Errors: as
// autocrypt_key_of.
Result<std::string> wkd_key_of(Context& ctx, const KeyFacts& key, std::string_view address);

}  // namespace tlpmail::openpgp
