// One signature and one encryption for a whole list: sign_and_encrypt_once
// runs a single gpg sign+encrypt to every recipient, then splits the output
// into one public-key encrypted session key packet (PKESK) per recipient
// and the shared encrypted data packet. copy_for() gives each member only
// its own PKESK plus the shared data. Not here: choosing the recipients
// (TLP policy), MIME wrapping, key validity policy (lib/keyring).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "openpgp/context.h"
#include "util/result.h"

namespace tlpmail::openpgp {

struct EncryptionKey;  // session_key.h

enum class CopyFormat { binary, armored };

// GPGME handles of public keys, listed once (when the members' keys are
// loaded or reloaded, lib/keyring) so that a fan-out does not list the
// keyring for every message: about 60 ms of gpg CPU per message at 1,000
// keys. With them, the key material of each key's encryption (sub)key
// (session_key.h), read from one export: tlpmaild encrypts to what was
// read at load, as the key policy (lib/keyring) judges what was listed at
// load; a reload (SIGHUP, `systemctl reload`, an update-key) makes new
// handles, and a key that expires meanwhile goes to gpg, which refuses it.
// Immutable; safe to share between threads (GPGME's key references are).
class KeyHandles {
 public:
  // The keys of the context's home whose primary fingerprint is one of
  // `fingerprints` (any case), in one gpg run; fingerprints without a key
  // are left out. Errors: temporary when the listing fails.
  static Result<std::shared_ptr<const KeyHandles>> list(
      Context& ctx, const std::vector<std::string>& fingerprints);
  ~KeyHandles();
  KeyHandles(const KeyHandles&) = delete;
  KeyHandles& operator=(const KeyHandles&) = delete;

  struct Impl;  // GPGME types; lib/openpgp only
  const Impl& impl() const { return *impl_; }

  // How many of the keys tlpmaild can encrypt to itself (session_key.h):
  // RSA and Curve25519 encryption keys.
  std::size_t direct_targets() const;

 private:
  KeyHandles();
  std::unique_ptr<Impl> impl_;
};

// The result of one sign+encrypt: ciphertext only (no plaintext is kept).
// Immutable after creation; safe to read from several threads.
class FanoutMessage {
 public:
  // The message for `recipient_fpr` (a primary fingerprint passed to
  // sign_and_encrypt_once, any case): that recipient's PKESK packet
  // followed by the shared data packets, binary or armored
  // (armor_message). No other recipient's key ID appears in it.
  // Errors: permanent when the fingerprint was not a recipient.
  Result<std::string> copy_for(std::string_view recipient_fpr,
                               CopyFormat format = CopyFormat::armored) const;

  // Only that recipient's PKESK packet (header included): a copy is this
  // followed by shared_data(), so a caller that stores or sends copies
  // holds the shared part once. Errors: as copy_for().
  Result<std::string> pkesk_for(std::string_view recipient_fpr) const;

  // Primary fingerprints (upper case) of the recipients, sorted.
  std::vector<std::string> recipients() const;

  // The key ID (16 upper-case hex digits) of the (sub)key the recipient's
  // PKESK is encrypted to, or "" for a non-recipient.
  std::string key_id_for(std::string_view recipient_fpr) const;

  // True when tlpmaild made the session key and the encryption itself
  // (session_key.h) and gpg only signed; false when gpg encrypted.
  bool encrypted_here() const { return encrypted_here_; }

  // The shared packets after the PKESKs (the SEIPD packet).
  const std::string& shared_data() const { return data_; }
  // The same, moved out of an expiring message (no second copy of it).
  std::string take_shared_data() && { return std::move(data_); }

 private:
  friend Result<FanoutMessage> sign_and_encrypt_once(Context&, std::string_view,
                                                     const std::vector<std::string>&,
                                                     const std::vector<std::string>&,
                                                     const KeyHandles*);
  struct Entry {
    std::string key_id;
    std::string pkesk;  // the whole packet, header included
  };
  // The message from gpg's signed packets: a new session key, the SEIPD
  // packet and a PKESK per recipient (keys[i] for recipients[i]).
  static Result<FanoutMessage> encrypt_here(std::string signed_packets,
                                            const std::vector<std::string>& recipients,
                                            const std::vector<const EncryptionKey*>& keys);
  std::map<std::string, Entry> by_recipient_;  // primary fingerprint -> its PKESK
  std::string data_;
  bool encrypted_here_ = false;
};

// Signs `plaintext` with the secret key `signer_fpr` (the list key; its
// primary fingerprint) and encrypts it in the same gpg run to the public
// keys `recipient_fprs` (primary fingerprints, at least one, each once),
// binary output, trusting the keys as given (GPGME_ENCRYPT_ALWAYS_TRUST:
// the caller has checked them). The output must consist of exactly one
// version 3 PKESK per recipient, each naming a key ID of that recipient's
// key (never a wildcard: gpg's throw-keyids must be off), followed by
// exactly one SEIPD packet; anything else is refused.
// Errors: permanent for bad arguments, unknown recipients or signer, keys
// gpg refuses (invalid recipients/signers), and output that does not have
// that shape; temporary when GPGME fails.
// Thread safety: as Context (one thread at a time per Context). The
// context's armor and signer settings are restored before returning.
Result<FanoutMessage> sign_and_encrypt_once(Context& ctx, std::string_view plaintext,
                                            std::string_view signer_fpr,
                                            const std::vector<std::string>& recipient_fprs);

// The same, signed by every key of `signer_fprs` (at least one, each once):
// one signature per signer in the one message (a list key rotation's
// announcement is signed by the old and the new list key). Recipients
// whose key is in `known` (may be null) are not listed again.
// The gpg run has a deadline (deadline.h) that grows with the recipients
// and the size; past it the error is temporary.
Result<FanoutMessage> sign_and_encrypt_once(Context& ctx, std::string_view plaintext,
                                            const std::vector<std::string>& signer_fprs,
                                            const std::vector<std::string>& recipient_fprs,
                                            const KeyHandles* known = nullptr);

// Whether sign_and_encrypt_once may encrypt itself (session_key.h) when
// `known` holds every recipient's key material: on unless turned off
// (tests and benchmarks compare both ways). Thread-safe.
void set_direct_encryption(bool on);
bool direct_encryption();

}  // namespace tlpmail::openpgp
