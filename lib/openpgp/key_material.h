// What a key file of keys_dir holds, judged without gpg: the file is split
// into OpenPGP packets (binary, or every ASCII-armor block decoded whatever
// its label), secret key packets are looked for everywhere in it, and only
// the packets of public keys are kept, re-framed, for gpg to import: gpg
// imports what was checked here, never the file itself. Pure; no GPGME, no
// I/O. Not here: signature validity and third-party certifications (gpg,
// Context::keep_only_self_signatures), whose key is whose (lib/keyring).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace tlpmail::openpgp {

// A key file larger than this is refused unread. A member's key exported
// without third-party certifications is a few kilobytes; the limit bounds
// what one file can make gpg parse, verify and store (key flooding).
inline constexpr std::size_t kMaxPublicKeyFileSize = std::size_t{1024} * 1024;

enum class KeyFileFault {
  too_large,       // over kMaxPublicKeyFileSize
  secret_key,      // a secret key or subkey packet (tag 5 or 7) anywhere
  no_key,          // no OpenPGP data at all
  not_public_key,  // a packet or armor block that is not part of a public key
  malformed,       // bad armor (no END line, base64, CRC-24) or packet framing
};

struct KeyFileProblem {
  KeyFileFault fault = KeyFileFault::malformed;
  // One line for "FILE: cannot import: MESSAGE", e.g. "the file holds a
  // secret key; keys_dir is for public keys only" or "armor block 2
  // (line 14): CRC-24 mismatch".
  std::string message;
};

// The packets of a key file that may go to gpg.
struct PublicKeyPackets {
  // Public key (6), public subkey (14), user ID (13), user attribute (17)
  // and signature (2) packets in file order, every one with a new-format
  // header of a definite length; trust (12), marker (10) and padding (21)
  // packets are left out.
  std::string binary;
  int public_keys = 0;  // primary public key packets
  // The fingerprint of each primary public key packet, in file order
  // (40 upper-case hex digits; SHA-1 over the v4 key packet, RFC 4880
  // 12.2), "" for a key of another version. Lets lib/keyring import many
  // files in one gpg run and still know which file brought which key.
  std::vector<std::string> primary_fingerprints;
  int dropped = 0;      // trust, marker and padding packets left out
};

// Judges `file` (the whole content of one key file) and returns the
// packets gpg may import. The file is binary when its first byte (after a
// UTF-8 byte order mark) has bit 7 set, else text with one or more armor
// blocks ("-----BEGIN PGP PUBLIC KEY BLOCK-----"; text around them is
// ignored). Refused, in this order of precedence:
// - too_large: more than kMaxPublicKeyFileSize bytes;
// - secret_key: holds_secret_key_material(file);
// - malformed: an armor block without END line, with bad base64 or a
//   CRC-24 that does not match, broken packet framing, an old-format
//   indeterminate length, a block that starts with anything but a public
//   key (unless it holds signatures only: a revocation certificate);
// - not_public_key: an armor block labelled other than PUBLIC KEY BLOCK,
//   or any packet outside the kept and dropped tags above (compressed or
//   literal data, encrypted data, session keys, ...);
// - no_key: no armor block in a text file, or nothing but dropped packets.
Result<PublicKeyPackets, KeyFileProblem> extract_public_keys(std::string_view file);

// True when `file` holds secret key material anywhere: the text "-----BEGIN
// PGP PRIVATE KEY BLOCK-----"; a secret key or subkey packet (tag 5 or 7)
// among the top-level packets of the binary file, of any armor block
// (whatever its label, decoded even when its CRC or END line is wrong) or
// of any run of base64 lines outside armor; or a packet header of tag 5
// or 7 where the framing breaks. Does not look inside compressed packets
// (extract_public_keys refuses those anyway).
bool holds_secret_key_material(std::string_view file);

}  // namespace tlpmail::openpgp
