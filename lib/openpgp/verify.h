// Signature verification with GPGME: PGP/MIME detached signatures
// (RFC 3156 multipart/signed) and inline cleartext signatures, reported as
// plain facts per signature (status, signing and primary fingerprints,
// algorithms, dates, gpg's expired/revoked flags) plus a replay digest.
// Not here: whether a key is pinned, expired, revoked or weak enough to
// refuse (lib/keyring and the pipeline decide); MIME parsing (lib/mime).
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "openpgp/context.h"
#include "util/result.h"

namespace tlpmail::openpgp {

// What gpg says about one signature. Only `good` means the signature is
// mathematically valid over the data; the flags below then say what gpg
// noticed about the key and the signature, and the policy decides.
enum class SignatureStatus {
  good,               // valid (gpg GOODSIG/EXPSIG/EXPKEYSIG/REVKEYSIG plus VALIDSIG)
  bad,                // does not verify: the data or the signature was changed (BADSIG)
  no_public_key,      // the signing key is not in the home (ERRSIG, code 9)
  weak_hash_refused,  // gpg refused the hash algorithm (MD5: "Invalid digest algorithm")
  error,              // gpg could not check it for another reason (see `error`)
};

// "good", "bad", "no public key", "weak hash refused", "error".
std::string_view to_string(SignatureStatus s);

struct SignatureFacts {
  SignatureStatus status = SignatureStatus::error;
  std::string error;  // gpg's text when status is weak_hash_refused or error, else ""

  // The key or subkey that made the signature: 40 upper-case hex digits,
  // or a 16-digit key ID when the signature names only that (old
  // signatures without an issuer fingerprint, BADSIG).
  std::string signing_fingerprint;
  // The primary key of the signing key (VALIDSIG's 10th field): 40
  // upper-case hex digits, equal to signing_fingerprint when the primary
  // key signed. Empty unless status is good.
  std::string primary_fingerprint;

  std::string hash_algorithm;    // gpgme_hash_algo_name: "SHA256", "SHA1", "MD5"; "" unknown
  std::string pubkey_algorithm;  // gpgme_pubkey_algo_name: "EdDSA", "RSA", "DSA", "ECDSA"
  int signature_class = -1;      // 0x00 binary, 0x01 text (VALIDSIG); -1 unknown
  std::time_t created = 0;       // signature creation time (0 unknown)
  std::time_t expires = 0;       // signature expiry; 0 none

  // Raw facts as gpg saw them at verification time (real clock). GPGME's
  // `summary` is deliberately not used (it is 0 for good signatures from
  // uncertified keys).
  bool key_expired = false;        // status GPG_ERR_KEY_EXPIRED (EXPKEYSIG)
  bool key_revoked = false;        // status GPG_ERR_CERT_REVOKED (REVKEYSIG)
  bool signature_expired = false;  // status GPG_ERR_SIG_EXPIRED (EXPSIG)
  bool wrong_key_usage = false;    // the key is not meant for signing
  std::string validity;            // gpg's web-of-trust validity word; informational only

  // Lower-case hex SHA-256 identifying this signature for replay
  // detection (see replay_digest below); empty unless status is good.
  std::string replay_digest;
};

// What the input was, before looking at individual signatures.
enum class VerifyOutcome {
  checked,                 // gpg found one or more signatures: see `signatures`
  no_signature,            // no OpenPGP signature in the input (or not a detached one)
  malformed,               // damaged, unexpected or unsupported OpenPGP data (see `detail`)
  text_outside_signature,  // clearsigned: text before or after the signed block,
                           // or more than one block
};

// "checked", "no signature", "malformed", "text outside the signed block".
std::string_view to_string(VerifyOutcome o);

struct Verification {
  VerifyOutcome outcome = VerifyOutcome::no_signature;
  std::string detail;                      // why, for outcomes other than checked
  std::vector<SignatureFacts> signatures;  // non-empty exactly when outcome is checked
  // verify_clearsigned only, and only when outcome is checked: the signed
  // text as gpg outputs it (dash-unescaped, one "\n" after every line).
  std::string plaintext;

  // True when there is at least one signature and every one is good.
  bool all_good() const;
};

// Verifies a detached signature (armored or binary) over `signed_data`,
// byte for byte as given: for PGP/MIME the caller passes the first part of
// multipart/signed with CRLF line endings (RFC 3156, section 5). A
// "signature" that is a complete signed message (it carries its own data)
// is no_signature, never a signature over `signed_data`; one that makes
// gpg decrypt anything is malformed (verification never decrypts).
// Errors: only local faults (gpg missing or failing): temporary. Whatever
// the data says is in the Verification.
// REQUIRES: `ctx` is used by this thread only (see Context).
Result<Verification> verify_detached(Context& ctx, std::string_view signed_data,
                                     std::string_view signature);

// Verifies an inline cleartext-signed block ("-----BEGIN PGP SIGNED
// MESSAGE-----" ... "-----END PGP SIGNATURE-----"). Before gpg runs, the
// block is checked to be exactly one such block: only blank lines may
// come before the BEGIN line and after the END line, and the signed text
// may hold no unescaped "-----" line; otherwise text_outside_signature or
// malformed, because gpg itself ignores text outside the block.
// Errors: temporary for local faults only.
Result<Verification> verify_clearsigned(Context& ctx, std::string_view block);

// ---- Replay digest (pure) ---------------------------------------------
//
// Two deliveries carry "the same signature" when the signer's key, the
// signing time, the hash algorithm, the signature class and the signed
// content are the same: those are exactly the values the signature
// commits to. The encoding of the signature packet is not used, because a
// replayer can change it without invalidating the signature (armor or
// binary, packet length format, the unhashed subpacket area, ECDSA's
// (r, s) -> (r, n-s)), and after decrypt-verify the packet is not visible
// at all. The content is canonicalised as text (canonical_text) so that
// line-ending and trailing-whitespace variants of a text-mode or
// cleartext signature, which gpg accepts as the same signature, collapse.
//
//   replay_digest = hex SHA-256 of
//     "tlpmail-replay-v1\n" KEY "\n" CREATED "\n" HASH "\n" CLASS "\n"
//     hex SHA-256(canonical_text(content)) "\n"
//   KEY: primary fingerprint (signing fingerprint if unknown), upper case;
//   CREATED: decimal Unix time; HASH: e.g. "SHA256"; CLASS: two lower-case
//   hex digits or "?" when unknown.
//
// Two signatures by one key over one content in the same second therefore
// share a digest (a second such message is refused as a replay).

// Lines split at CRLF, LF or CR; trailing spaces and tabs removed from
// each line; lines joined with "\n"; trailing empty lines dropped.
std::string canonical_text(std::string_view content);

std::string replay_digest(std::string_view key_fingerprint, std::time_t created,
                          std::string_view hash_algorithm, int signature_class,
                          std::string_view content);

}  // namespace tlpmail::openpgp
