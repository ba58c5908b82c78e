// OpenSSL for the arithmetic (X25519, RSA, AES, SHA); the OpenPGP framing
// and the KDF of RFC 6637 are written out here, field by field.
#include "openpgp/session_key.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <array>
#include <memory>
#include <optional>

#include "openpgp/packets.h"
#include "util/wiped.h"

namespace tlpmail::openpgp {
namespace {

constexpr std::uint8_t kAlgoRsa = 1;
constexpr std::uint8_t kAlgoRsaEncryptOnly = 2;
constexpr std::uint8_t kAlgoEcdh = 18;
constexpr std::uint8_t kHashSha256 = 8;
constexpr std::uint8_t kHashSha384 = 9;
constexpr std::uint8_t kHashSha512 = 10;
constexpr std::uint8_t kAes128 = 7;
constexpr std::uint8_t kAes192 = 8;
constexpr std::uint8_t kAes256 = 9;
// 1.3.6.1.4.1.3029.1.5.1, Curve25519 for ECDH (RFC 4880bis, RFC 9580
// "Curve25519Legacy"), without its tag and length.
constexpr std::string_view kCv25519Oid{"\x2B\x06\x01\x04\x01\x97\x55\x01\x05\x01", 10};
constexpr std::size_t kX25519Size = 32;
constexpr std::uint8_t kTagMdc = 19;

Unexpected<Error> bad_key(const std::string& why) {
  return Unexpected(Error::permanent("encryption key: " + why));
}

Unexpected<Error> openssl_failed(const char* what) {
  return Unexpected(Error::temporary(std::string("OpenSSL failed: ") + what));
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// Wipes an array of key material on scope exit (strings: util/wiped.h).
class Wipe {
 public:
  Wipe(void* p, std::size_t n) : p_(p), n_(n) {}
  Wipe(const Wipe&) = delete;
  Wipe& operator=(const Wipe&) = delete;
  ~Wipe() { OPENSSL_cleanse(p_, n_); }

 private:
  void* p_;
  std::size_t n_;
};

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Reads an MPI at `pos` (RFC 4880 §3.2): its value without leading zero
// octets, or nullopt when the bit count does not match its octets or the
// body ends first.
std::optional<std::string> read_mpi(std::string_view body, std::size_t& pos) {
  if (body.size() - pos < 2) return std::nullopt;
  const std::size_t bits = (static_cast<std::size_t>(static_cast<unsigned char>(body[pos])) << 8) |
                           static_cast<unsigned char>(body[pos + 1]);
  pos += 2;
  const std::size_t n = (bits + 7) / 8;
  if (n == 0 || body.size() - pos < n) return std::nullopt;
  std::string v(body.substr(pos, n));
  pos += n;
  const unsigned top = static_cast<unsigned char>(v[0]);
  const std::size_t top_bits = bits - (n - 1) * 8;  // 1..8
  if (top >> top_bits != 0 || top >> (top_bits - 1) != 1) return std::nullopt;
  return v;
}

void append_mpi(std::string& out, std::string_view value) {
  std::size_t skip = 0;
  while (skip < value.size() && value[skip] == 0) ++skip;
  value.remove_prefix(skip);
  std::size_t bits = value.size() * 8;
  if (!value.empty()) {
    for (unsigned top = static_cast<unsigned char>(value[0]); (top & 0x80) == 0; top <<= 1) --bits;
  }
  out.push_back(static_cast<char>((bits >> 8) & 0xff));
  out.push_back(static_cast<char>(bits & 0xff));
  out.append(value);
}

std::string fingerprint_octets(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    auto nibble = [](char c) {
      return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    };
    out.push_back(static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
  }
  return out;
}

// m of RFC 4880 §5.1: the cipher octet, the session key and its 16-bit
// checksum (the sum of its octets).
std::string session_key_block(std::string_view session_key) {
  std::string m;
  m.reserve(session_key.size() + 3);  // no reallocation leaves key bytes behind
  m.push_back(static_cast<char>(kSymmetricAes256));
  m.append(session_key);
  unsigned sum = 0;
  for (unsigned char c : session_key) sum += c;
  m.push_back(static_cast<char>((sum >> 8) & 0xff));
  m.push_back(static_cast<char>(sum & 0xff));
  return m;
}

// OpenSSL's public key object for RSA (n, e), or null.
EVP_PKEY* rsa_public_key(std::string_view n_octets, std::string_view e_octets) {
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      &OSSL_PARAM_BLD_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> n(
      BN_bin2bn(bytes(n_octets), static_cast<int>(n_octets.size()), nullptr), &BN_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> e(
      BN_bin2bn(bytes(e_octets), static_cast<int>(e_octets.size()), nullptr), &BN_free);
  if (!bld || !n || !e || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 &OSSL_PARAM_free);
  PkeyCtx from(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !from || EVP_PKEY_fromdata_init(from.get()) != 1 ||
      EVP_PKEY_fromdata(from.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return key;
}

Result<std::string> rsa_encrypt(const EncryptionKey& key, std::string_view m) {
  PkeyCtx ctx(EVP_PKEY_CTX_new(key.public_key.get(), nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &len, bytes(m), m.size()) != 1) {
    return openssl_failed("RSA encryption");
  }
  std::string c(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(c.data()), &len, bytes(m),
                       m.size()) != 1) {
    return openssl_failed("RSA encryption");
  }
  c.resize(len);
  return c;
}

const EVP_MD* kdf_hash(std::uint8_t id) {
  switch (id) {
    case kHashSha256:
      return EVP_sha256();
    case kHashSha384:
      return EVP_sha384();
    case kHashSha512:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

const EVP_CIPHER* key_wrap(std::uint8_t id) {
  switch (id) {
    case kAes128:
      return EVP_aes_128_wrap();
    case kAes192:
      return EVP_aes_192_wrap();
    case kAes256:
      return EVP_aes_256_wrap();
    default:
      return nullptr;
  }
}

// The ECDH part of a PKESK body after the algorithm octet: the ephemeral
// public key as an MPI (0x40 and the native X25519 key), then the wrapped
// session key with its length octet (RFC 6637 §8, §10).
Result<std::string> ecdh_encrypt(const EncryptionKey& key, std::string_view m) {
  const EVP_MD* md = kdf_hash(key.kdf_hash);
  const EVP_CIPHER* wrap = key_wrap(key.kdf_cipher);
  if (!md || !wrap) return bad_key("unusable ECDH key");
  PkeyCtx gen(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!gen || EVP_PKEY_keygen_init(gen.get()) != 1 || EVP_PKEY_keygen(gen.get(), &raw) != 1) {
    return openssl_failed("X25519 key generation");
  }
  Pkey ephemeral(raw);
  std::array<unsigned char, kX25519Size> v{};
  std::size_t v_len = v.size();
  std::array<unsigned char, kX25519Size> z{};
  Wipe wipe_z(z.data(), z.size());
  std::size_t z_len = z.size();
  PkeyCtx derive(EVP_PKEY_CTX_new(ephemeral.get(), nullptr));
  if (EVP_PKEY_get_raw_public_key(ephemeral.get(), v.data(), &v_len) != 1 || v_len != kX25519Size ||
      !derive || EVP_PKEY_derive_init(derive.get()) != 1 ||
      EVP_PKEY_derive_set_peer(derive.get(), key.public_key.get()) != 1 ||
      EVP_PKEY_derive(derive.get(), z.data(), &z_len) != 1 || z_len != kX25519Size) {
    // OpenSSL refuses an all-zero shared secret (a small-order public key).
    return openssl_failed("X25519 key agreement");
  }
  // KDF (RFC 6637 §7): Hash(00 00 00 01 || Z || Param), Param naming the
  // curve, the algorithm, the KDF parameters and the recipient key.
  std::string param;
  param.push_back(static_cast<char>(kCv25519Oid.size()));
  param.append(kCv25519Oid);
  param.push_back(static_cast<char>(kAlgoEcdh));
  param.append({0x03, 0x01, static_cast<char>(key.kdf_hash), static_cast<char>(key.kdf_cipher)});
  param.append("Anonymous Sender    ");
  param.append(fingerprint_octets(key.fingerprint));
  std::array<unsigned char, EVP_MAX_MD_SIZE> mb{};
  Wipe wipe_mb(mb.data(), mb.size());
  unsigned mb_len = 0;
  static constexpr unsigned char kCounter[4] = {0, 0, 0, 1};
  MdCtx h(EVP_MD_CTX_new());
  if (!h || EVP_DigestInit_ex(h.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(h.get(), kCounter, sizeof kCounter) != 1 ||
      EVP_DigestUpdate(h.get(), z.data(), z.size()) != 1 ||
      EVP_DigestUpdate(h.get(), param.data(), param.size()) != 1 ||
      EVP_DigestFinal_ex(h.get(), mb.data(), &mb_len) != 1 ||
      mb_len < static_cast<unsigned>(EVP_CIPHER_key_length(wrap))) {
    return openssl_failed("ECDH key derivation");
  }
  // The session key block, padded as PKCS #5 does to 8 octets, wrapped
  // with the first octets of the hash as the key (AES key wrap, RFC 3394).
  const std::size_t pad = 8 - m.size() % 8;
  Wiped padded_block;
  std::string& padded = padded_block.value;
  padded.reserve(m.size() + pad);
  padded.append(m);
  padded.append(pad, static_cast<char>(pad));
  std::array<unsigned char, 64> wrapped{};
  int len1 = 0;
  int len2 = 0;
  const std::size_t wrapped_len = padded.size() + 8;  // RFC 3394: one block more
  CipherCtx c(EVP_CIPHER_CTX_new());
  if (!c || wrapped_len > wrapped.size()) return openssl_failed("AES key wrap");
  EVP_CIPHER_CTX_set_flags(c.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_EncryptInit_ex(c.get(), wrap, nullptr, mb.data(), nullptr) != 1 ||
      EVP_EncryptUpdate(c.get(), wrapped.data(), &len1, bytes(padded),
                        static_cast<int>(padded.size())) != 1 ||
      EVP_EncryptFinal_ex(c.get(), wrapped.data() + len1, &len2) != 1 || len1 < 0 || len2 < 0 ||
      static_cast<std::size_t>(len1) + static_cast<std::size_t>(len2) != wrapped_len) {
    return openssl_failed("AES key wrap");
  }
  std::string out;
  std::string point;
  point.push_back(0x40);
  point.append(reinterpret_cast<const char*>(v.data()), v.size());
  append_mpi(out, point);
  out.push_back(static_cast<char>(wrapped_len));
  out.append(reinterpret_cast<const char*>(wrapped.data()), wrapped_len);
  return out;
}

}  // namespace

std::string v4_fingerprint(std::string_view body) {
  if (body.empty() || static_cast<unsigned char>(body[0]) != 4 || body.size() > 0xffff) return {};
  // SHA-1 over 0x99, the body's length in two octets and the body (RFC
  // 4880 §12.2).
  const unsigned char head[3] = {0x99, static_cast<unsigned char>(body.size() >> 8),
                                 static_cast<unsigned char>(body.size() & 0xff)};
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned len = 0;
  MdCtx sha1(EVP_MD_CTX_new());
  if (!sha1 || EVP_DigestInit_ex(sha1.get(), EVP_sha1(), nullptr) != 1 ||
      EVP_DigestUpdate(sha1.get(), head, sizeof head) != 1 ||
      EVP_DigestUpdate(sha1.get(), body.data(), body.size()) != 1 ||
      EVP_DigestFinal_ex(sha1.get(), md.data(), &len) != 1 || len != 20) {
    return {};
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

Result<EncryptionKey> read_encryption_key(std::string_view body) {
  if (body.size() < 6 || body[0] != 4) return bad_key("not a version 4 key packet");
  EncryptionKey key;
  key.fingerprint = v4_fingerprint(body);
  if (key.fingerprint.size() != 40) return bad_key("no fingerprint");
  key.key_id = key.fingerprint.substr(24);
  key.algorithm = static_cast<std::uint8_t>(body[5]);
  std::size_t pos = 6;
  if (key.algorithm == kAlgoRsa || key.algorithm == kAlgoRsaEncryptOnly) {
    auto n = read_mpi(body, pos);
    auto e = n ? read_mpi(body, pos) : std::nullopt;
    if (!n || !e) return bad_key("malformed RSA key material");
    const std::size_t bits = n->size() * 8;
    if (bits < 2048 || bits > 8192) {
      return bad_key("RSA modulus of " + std::to_string(bits) + " bits");
    }
    if (e->size() > 8) return bad_key("RSA public exponent over 64 bits");
    key.rsa_n = std::move(*n);
    key.rsa_e = std::move(*e);
    key.public_key.reset(rsa_public_key(key.rsa_n, key.rsa_e), EVP_PKEY_free);
  } else if (key.algorithm == kAlgoEcdh) {
    if (pos >= body.size()) return bad_key("malformed ECDH key material");
    const std::size_t oid_len = static_cast<unsigned char>(body[pos++]);
    if (body.size() - pos < oid_len || body.substr(pos, oid_len) != kCv25519Oid) {
      return bad_key("an ECDH curve other than Curve25519");
    }
    pos += oid_len;
    auto point = read_mpi(body, pos);
    if (!point || point->size() != kX25519Size + 1 || (*point)[0] != 0x40) {
      return bad_key("malformed Curve25519 public key");
    }
    key.x25519 = point->substr(1);
    key.public_key.reset(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, bytes(key.x25519), key.x25519.size()),
        EVP_PKEY_free);
    if (body.size() - pos != 4 || body[pos] != 3 || body[pos + 1] != 1) {
      return bad_key("malformed ECDH KDF parameters");
    }
    key.kdf_hash = static_cast<std::uint8_t>(body[pos + 2]);
    key.kdf_cipher = static_cast<std::uint8_t>(body[pos + 3]);
    if (!kdf_hash(key.kdf_hash) || !key_wrap(key.kdf_cipher)) {
      return bad_key("ECDH KDF parameters other than SHA-2 with AES");
    }
    pos = body.size();
  } else {
    return bad_key("public-key algorithm " + std::to_string(key.algorithm));
  }
  if (pos != body.size()) return bad_key("trailing octets after the key material");
  if (!key.public_key) return openssl_failed("public key object");
  return key;
}

Result<std::string> new_session_key() {
  std::string key(kSessionKeySize, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return openssl_failed("random session key");
  }
  return key;
}

Result<std::string> make_pkesk(const EncryptionKey& key, std::string_view session_key) {
  if (session_key.size() != kSessionKeySize) {
    return Unexpected(Error::permanent("session key of " + std::to_string(session_key.size()) +
                                       " octets"));
  }
  const Wiped m{session_key_block(session_key)};
  std::string body;
  body.push_back(3);
  body.append(fingerprint_octets(key.key_id));
  body.push_back(static_cast<char>(key.algorithm));
  if (!key.public_key) return bad_key("not read by read_encryption_key");
  if (key.algorithm == kAlgoRsa || key.algorithm == kAlgoRsaEncryptOnly) {
    auto c = rsa_encrypt(key, m.value);
    if (!c) return Unexpected(c.error());
    append_mpi(body, *c);
  } else if (key.algorithm == kAlgoEcdh) {
    auto c = ecdh_encrypt(key, m.value);
    if (!c) return Unexpected(c.error());
    body += *c;
  } else {
    return bad_key("public-key algorithm " + std::to_string(key.algorithm));
  }
  std::string packet;
  append_new_header(packet, kTagPkesk, body.size());
  packet += body;
  return packet;
}

Result<std::string> make_seipd(std::string_view session_key, std::string_view packets) {
  if (session_key.size() != kSessionKeySize) {
    return Unexpected(Error::permanent("session key of " + std::to_string(session_key.size()) +
                                       " octets"));
  }
  std::array<unsigned char, 18> prefix{};
  if (RAND_bytes(prefix.data(), 16) != 1) return openssl_failed("random prefix");
  prefix[16] = prefix[14];
  prefix[17] = prefix[15];
  static constexpr unsigned char kMdcHeader[2] = {0xC0 | kTagMdc, 20};
  std::array<unsigned char, 20> mdc{};
  unsigned mdc_len = 0;
  MdCtx sha1(EVP_MD_CTX_new());
  if (!sha1 || EVP_DigestInit_ex(sha1.get(), EVP_sha1(), nullptr) != 1 ||
      EVP_DigestUpdate(sha1.get(), prefix.data(), prefix.size()) != 1 ||
      EVP_DigestUpdate(sha1.get(), packets.data(), packets.size()) != 1 ||
      EVP_DigestUpdate(sha1.get(), kMdcHeader, sizeof kMdcHeader) != 1 ||
      EVP_DigestFinal_ex(sha1.get(), mdc.data(), &mdc_len) != 1 || mdc_len != mdc.size()) {
    return openssl_failed("SHA-1 of the MDC");
  }
  const std::size_t body_size = 1 + prefix.size() + packets.size() + sizeof kMdcHeader + mdc.size();
  std::string out;
  out.reserve(body_size + 6);
  append_new_header(out, kTagSeipd, body_size);
  out.push_back(1);
  const std::size_t start = out.size();
  out.resize(out.size() + body_size - 1);
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + start);
  // OpenPGP's CFB for SEIPD is plain CFB-128 with a zero IV (RFC 4880
  // §5.13: no resynchronisation); OpenSSL's CFB keeps its state between
  // updates of any length.
  static constexpr unsigned char kZeroIv[16] = {};
  CipherCtx c(EVP_CIPHER_CTX_new());
  if (!c || EVP_EncryptInit_ex(c.get(), EVP_aes_256_cfb128(), nullptr, bytes(session_key),
                               kZeroIv) != 1) {
    return openssl_failed("AES-256-CFB");
  }
  auto update = [&](const unsigned char* p, std::size_t n) {
    // At most INT_MAX octets per call; a message is far below that
    // (max_message_size), but the chunks keep the int conversion exact.
    constexpr std::size_t kChunk = std::size_t{1} << 30;
    while (n > 0) {
      const std::size_t k = n < kChunk ? n : kChunk;
      int written = 0;
      if (EVP_EncryptUpdate(c.get(), dst, &written, p, static_cast<int>(k)) != 1 ||
          static_cast<std::size_t>(written) != k) {
        return false;
      }
      dst += k;
      p += k;
      n -= k;
    }
    return true;
  };
  int final_len = 0;
  if (!update(prefix.data(), prefix.size()) || !update(bytes(packets), packets.size()) ||
      !update(kMdcHeader, sizeof kMdcHeader) || !update(mdc.data(), mdc.size()) ||
      EVP_EncryptFinal_ex(c.get(), dst, &final_len) != 1 || final_len != 0) {
    return openssl_failed("AES-256-CFB");
  }
  return out;
}

}  // namespace tlpmail::openpgp
