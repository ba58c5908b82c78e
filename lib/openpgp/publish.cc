// The published forms of a list key (publish.h): packets of a gpg export
// kept or left out by tag and position, v4 fingerprints and the WKD hash
// with OpenSSL's SHA-1, z-base-32 by hand.
#include "openpgp/publish.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "openpgp/home_cache.h"
#include "openpgp/list_key.h"
#include "openpgp/packets.h"
#include "openpgp/session_key.h"
#include "util/text.h"

namespace tlpmail::openpgp {
namespace {

constexpr std::uint8_t kTagPublicKey = 6;
constexpr std::uint8_t kTagUserId = 13;
constexpr std::uint8_t kTagPublicSubkey = 14;

std::string sha1(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr) != 1) {
    std::abort();  // libcrypto without SHA-1 is unusable; never happens on Debian
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

// Whether a user ID's text names `address`: the whole text, or "<address>"
// at its end.
bool names_address(std::string_view uid, std::string_view address) {
  if (iequals(uid, address)) return true;
  const std::string bracketed = "<" + std::string(address) + ">";
  return uid.size() >= bracketed.size() &&
         iequals(uid.substr(uid.size() - bracketed.size()), bracketed);
}

// A live key or subkey is neither revoked, expired, disabled nor invalid.
bool is_live_now(const SubkeyFacts& s) { return !s.revoked && !s.expired && !s.invalid && !s.disabled; }

Result<std::string> minimal_export(Context& ctx, const KeyFacts& key) {
  return export_key(ctx, key.fingerprint, KeyExport::public_minimal, false);
}

}  // namespace

std::string zbase32(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

std::string wkd_hash(std::string_view local_part) { return zbase32(sha1(ascii_lower(local_part))); }

Result<std::string> select_key_packets(std::string_view key, const KeySelection& selection) {
  auto packets = split_packets(key);
  if (!packets) return Unexpected(packets.error().to_error("key"));
  if (packets->front().tag != kTagPublicKey) {
    return Unexpected(Error::permanent("key: does not start with a public key packet"));
  }
  std::vector<std::string> wanted;
  wanted.reserve(selection.subkeys.size());
  for (const std::string& f : selection.subkeys) wanted.push_back(ascii_upper(f));
  std::string out;
  std::vector<std::string> found;
  bool have_uid = false;
  // Which packet the signatures that follow belong to, and whether kept.
  bool keep = false;
  for (std::size_t i = 0; i < packets->size(); ++i) {
    const Packet& p = (*packets)[i];
    if (p.partial) return Unexpected(Error::permanent("key: a packet has a partial length"));
    const std::string_view bytes = key.substr(p.offset, p.size);
    switch (p.tag) {
      case kTagPublicKey:
        if (i != 0) return Unexpected(Error::permanent("key: more than one key"));
        keep = selection.key_signatures;
        out.append(bytes);
        continue;
      case kTagUserId: {
        keep = names_address(packet_body(key, p), selection.address);
        have_uid = have_uid || keep;
        break;
      }
      case kTagPublicSubkey: {
        const std::string fpr = v4_fingerprint(packet_body(key, p));
        keep = !fpr.empty() && std::find(wanted.begin(), wanted.end(), fpr) != wanted.end();
        if (keep) found.push_back(fpr);
        break;
      }
      case kTagSignature:
        break;
      default:
        keep = false;  // user attributes, trust packets and anything else, with their signatures
        continue;
    }
    if (keep) out.append(bytes);
  }
  if (!have_uid) {
    return Unexpected(
        Error::permanent("key: no user ID for " + escape_for_log(selection.address)));
  }
  for (const std::string& w : wanted) {
    if (std::find(found.begin(), found.end(), w) == found.end()) {
      return Unexpected(Error::permanent("key: no subkey " + w));
    }
  }
  return out;
}

const SubkeyFacts* encryption_subkey(const KeyFacts& key) {
  const SubkeyFacts* best = nullptr;
  for (const SubkeyFacts& s : key.subkeys) {
    if (s.is_primary || !s.can_encrypt || !is_live_now(s)) continue;
    if (!best || s.created > best->created) best = &s;
  }
  return best;
}

Result<std::string> autocrypt_key_of(Context& ctx, const KeyFacts& key,
                                     std::string_view list_address) {
  const SubkeyFacts* sub = encryption_subkey(key);
  if (!sub) {
    return Unexpected(Error::permanent("key " + key.fingerprint + " has no live encryption subkey"));
  }
  auto exported = minimal_export(ctx, key);
  if (!exported) return Unexpected(exported.error());
  return select_key_packets(*exported, {std::string(list_address), {sub->fingerprint}, false});
}

Result<std::string> autocrypt_key_cached(Context& ctx, const KeyFacts& key,
                                         std::string_view list_address) {
  HomeCache& cache = ctx.cache();
  const HomeStamp stamp = cache.check(ctx.home());
  const std::time_t now = std::time(nullptr);
  if (std::optional<std::string> kept = cache.autocrypt(key.fingerprint, list_address, now)) {
    cache.count(true);
    return std::move(*kept);
  }
  cache.count(false);
  auto data = autocrypt_key_of(ctx, key, list_address);
  if (data) {
    cache.keep_autocrypt(key.fingerprint, list_address, *data,
                         earliest_expiry(key, now, now + HomeCache::kLifetime), now, stamp);
  }
  return data;
}

Result<std::string> wkd_key_of(Context& ctx, const KeyFacts& key, std::string_view address) {
  KeySelection s{std::string(address), {}, true};
  for (const SubkeyFacts& sub : key.subkeys) {
    if (!sub.is_primary && is_live_now(sub)) s.subkeys.push_back(sub.fingerprint);
  }
  auto exported = minimal_export(ctx, key);
  if (!exported) return Unexpected(exported.error());
  return select_key_packets(*exported, s);
}

}  // namespace tlpmail::openpgp
