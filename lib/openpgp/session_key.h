// tlpmaild's own OpenPGP encryption for the fan-out (RFC 4880 §5.1, §5.13,
// RFC 6637): a random session key, one symmetrically encrypted integrity
// protected data packet (SEIPD version 1, AES-256, MDC) around packets gpg
// signed, and one public-key encrypted session key packet (PKESK version 3)
// per recipient, for RSA and Curve25519 ECDH encryption keys (what gpg,
// Sequoia, RNP and Thunderbird make by default). gpg encrypting to N keys
// looks every key up in its keybox and spends two libgcrypt scalar
// multiplications per key; here a PKESK is made with OpenSSL from key
// material read once when the keys are loaded (about 0.1 ms each).
// A key of any other algorithm is not an EncryptionKey: the caller lets gpg
// encrypt that message (fanout.cc). Pure OpenSSL: no GPGME, no I/O.
// Decrypts nothing; never sees a secret key.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY (openssl/types.h); only session_key.cc uses it

namespace tlpmail::openpgp {

// The v4 fingerprint (40 upper-case hex digits) of a public key or
// subkey packet body (version 4); "" for any other version.
std::string v4_fingerprint(std::string_view key_packet_body);

// The public key packet (version 4) of a recipient's encryption (sub)key,
// with what a PKESK needs from it.
struct EncryptionKey {
  std::string fingerprint;  // of this (sub)key: 40 upper-case hex digits
  std::string key_id;       // its last 16 digits: what the PKESK names
  std::uint8_t algorithm = 0;  // 1 or 2 (RSA) or 18 (ECDH)
  std::string rsa_n;           // RSA modulus, big-endian, no leading zeros
  std::string rsa_e;           // RSA public exponent, likewise
  std::string x25519;          // ECDH Curve25519: the 32-octet native public key
  std::uint8_t kdf_hash = 0;   // ECDH KDF parameters (RFC 6637 §9): hash algorithm
  std::uint8_t kdf_cipher = 0;  // and key wrap cipher (7, 8, 9: AES-128/192/256)
  std::time_t expires = 0;     // set by the caller (0: never); not in the packet
  // The public key above as OpenSSL's key object, made once by
  // read_encryption_key and used for every PKESK to this key (rebuilding
  // an RSA key per PKESK cost a third of its time). Shared, never changed.
  std::shared_ptr<evp_pkey_st> public_key;
};

// Reads a public key or subkey packet body (version 4) of an RSA (1, 2)
// or Curve25519 ECDH (18) key. Errors: permanent for any other version,
// algorithm or curve, for malformed or truncated fields, for RSA moduli
// under 2048 or over 8192 bits or exponents over 64 bits (bounds the cost
// of a PKESK), and for KDF parameters other than SHA-256,
// SHA-384 or SHA-512 with AES; temporary when OpenSSL cannot make the
// key object.
Result<EncryptionKey> read_encryption_key(std::string_view key_packet_body);

inline constexpr std::size_t kSessionKeySize = 32;  // AES-256
inline constexpr std::uint8_t kSymmetricAes256 = 9;

// kSessionKeySize random octets from OpenSSL's CSPRNG. Errors: temporary
// when it fails.
Result<std::string> new_session_key();

// The whole PKESK packet (new-format header included) encrypting
// `session_key` (AES-256) to `key`: EME-PKCS1-v1_5 for RSA, for ECDH an
// ephemeral X25519 key, the KDF of RFC 6637 §7 (parameters and the key's
// fingerprint) and AES key wrap (RFC 3394). Errors: permanent for a key
// that read_encryption_key did not make (no `public_key`), temporary when
// OpenSSL fails.
Result<std::string> make_pkesk(const EncryptionKey& key, std::string_view session_key);

// The whole SEIPD packet (version 1) holding `packets` (the binary packets
// gpg made: a signed message): AES-256 in OpenPGP's CFB mode with a zero
// IV over 16 random octets, their last two repeated, `packets` and the MDC
// packet (SHA-1 over all of that and the MDC header). Errors: temporary
// when OpenSSL fails.
Result<std::string> make_seipd(std::string_view session_key, std::string_view packets);

}  // namespace tlpmail::openpgp
