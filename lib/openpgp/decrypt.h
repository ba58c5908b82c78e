// Decryption of one OpenPGP message (PGP/MIME multipart/encrypted payload
// or inline armored PGP MESSAGE) with its signatures verified in the same
// gpg run (gpgme_op_decrypt_verify). Only the outermost layer: ciphertext
// nested as packets is refused, ciphertext inside the plaintext is left as
// it is. Plaintext is returned only when the data was integrity-protected
// and decrypted completely; in every other case it is wiped and dropped.
// Not here: MIME parsing, deciding whether a signer is acceptable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "openpgp/context.h"
#include "openpgp/verify.h"
#include "util/result.h"

namespace tlpmail::openpgp {

enum class DecryptStatus {
  decrypted,                // integrity-protected (MDC) and complete: plaintext and signatures
  not_encrypted,            // the input holds no encrypted OpenPGP message
  no_secret_key,            // encrypted, but not to any secret key of this home, or
                            // with a passphrase only (see `recipients`)
  no_integrity_protection,  // no MDC and no AEAD (a tag 9 packet): refused
  integrity_failed,         // MDC mismatch, or the decrypted data is damaged: refused
  nested_encryption,        // the encrypted data holds another encrypted message as
                            // packets, which gpg began to decrypt too: refused
  too_large,                // gpg produced more than the limit (decompression): stopped
  aead_unsupported,         // AEAD-encrypted (a tag 20 packet, or SEIPD version 2): not
                            // decrypted; gpg 2.2 reports such data as intact even when
                            // it is not (docs/openpgp.md)
  text_outside_message,     // armored input with text before or after the block, or
                            // several blocks
  malformed,                // damaged or unsupported OpenPGP data (before decryption)
};

// "decrypted", "not encrypted", "no secret key", "no integrity protection",
// "integrity check failed", "nested encryption", "too large", "AEAD not
// supported", "text outside the encrypted block", "malformed".
std::string_view to_string(DecryptStatus s);

struct Decryption {
  DecryptStatus status = DecryptStatus::malformed;
  std::string detail;  // why, for every status but decrypted (gpg's words where useful)

  // Only when status is decrypted; empty otherwise, always.
  std::string plaintext;
  // Only when status is decrypted: one entry per signature inside the
  // encrypted message (signed-and-encrypted in one pass), empty when the
  // message was not signed that way. Same meaning as in verify.h; the
  // replay digest is computed over `plaintext`.
  std::vector<SignatureFacts> signatures;

  // Facts about the encryption, filled in as far as gpg got.
  std::string cipher;                   // GPGME's symkey_algo, e.g. "AES256.CFB" ("PGPCFB": no MDC)
  std::string integrity;                // "mdc", "aead", "none"; "" when decryption did not start
  std::vector<std::string> recipients;  // 16-digit key IDs the message names, in order
                                        // ("0000000000000000" for a hidden recipient)
  std::string decryption_fingerprint;   // the subkey that decrypted it
  std::string decryption_primary_fingerprint;  // and its primary key (DECRYPTION_KEY)
};

// Decrypts `ciphertext` (armored or binary) with the secret keys of the
// context's home, never asking for a passphrase. gpg's output is limited to
// `max_plaintext` bytes while it is produced: a message that decompresses
// to more is stopped there (too_large), its partial output wiped. Armored input must be
// exactly one "-----BEGIN PGP MESSAGE-----" block with only blank lines
// around it (text_outside_message otherwise), because gpg skips text
// outside the armor.
// Errors: temporary for local faults only: gpg missing or failing, the
// agent unable to use a secret key that is present (e.g. one protected by
// a passphrase). Everything the data says is in the Decryption.
// REQUIRES: `ctx` is used by this thread only (see Context).
Result<Decryption> decrypt(Context& ctx, std::string_view ciphertext, std::size_t max_plaintext);

// True when the decrypted message was meant for `key`: `key` decrypted it,
// or one of its encryption subkeys is among the message's recipients. All
// list keys share one GnuPG home, and gpg decrypts with whichever of them
// it meets first: a message encrypted to two lists (a cross-post) is
// decrypted by one list's key, yet meant for both.
bool is_meant_for(const Decryption& d, const KeyFacts& key);

}  // namespace tlpmail::openpgp
