// sign_and_encrypt_once(): one gpgme_op_encrypt_sign to all recipients,
// then the binary output is cut at packet boundaries (packets.h) and each
// PKESK is matched to its recipient by the key ID it names. The session key
// is shared by all copies; every copy names only its own recipient.
#include "openpgp/fanout.h"

#include <gpgme.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <utility>

#include "openpgp/deadline.h"
#include "openpgp/gpgme_util.h"
#include "openpgp/home_cache.h"
#include "openpgp/packets.h"
#include "openpgp/session_key.h"
#include "util/text.h"
#include "util/wiped.h"

namespace tlpmail::openpgp {

Result<std::string> FanoutMessage::pkesk_for(std::string_view recipient_fpr) const {
  const auto it = by_recipient_.find(normalize_fingerprint(recipient_fpr));
  if (it == by_recipient_.end()) {
    return Unexpected(Error::permanent("fan-out: " + escape_for_log(recipient_fpr) +
                                       " is not a recipient of this message"));
  }
  return it->second.pkesk;
}

Result<std::string> FanoutMessage::copy_for(std::string_view recipient_fpr,
                                            CopyFormat format) const {
  auto pkesk = pkesk_for(recipient_fpr);
  if (!pkesk) return Unexpected(pkesk.error());
  std::string binary = std::move(*pkesk);
  binary += data_;
  if (format == CopyFormat::binary) return binary;
  return armor_message(binary);
}

std::vector<std::string> FanoutMessage::recipients() const {
  std::vector<std::string> out;
  out.reserve(by_recipient_.size());
  for (const auto& [fpr, entry] : by_recipient_) out.push_back(fpr);
  return out;
}

std::string FanoutMessage::key_id_for(std::string_view recipient_fpr) const {
  const auto it = by_recipient_.find(normalize_fingerprint(recipient_fpr));
  return it == by_recipient_.end() ? std::string() : it->second.key_id;
}

struct KeyHandles::Impl {
  std::map<std::string, gpgme_key_t> keys;  // primary fingerprint -> reference held
  // Primary fingerprint -> the key material of the (sub)key gpg would
  // encrypt to, for the keys tlpmaild encrypts to itself (session_key.h).
  std::map<std::string, EncryptionKey> targets;
  ~Impl() {
    for (auto& [fpr, k] : keys) gpgme_key_unref(k);
  }
};

KeyHandles::KeyHandles() : impl_(std::make_unique<Impl>()) {}
KeyHandles::~KeyHandles() = default;

namespace {

// Lists the public keys with primary fingerprint in `wanted` (normalized)
// into `out` (a reference each), in one gpg run. A key matched by a subkey
// fingerprint only is skipped. Errors: permanent for two keys with one
// fingerprint; temporary when the listing fails or passes its deadline.
Result<void> list_public(Context& ctx, const std::set<std::string>& wanted,
                         std::map<std::string, gpgme_key_t>& out) {
  if (wanted.empty()) return {};
  gpgme_ctx_t c = ctx.native();
  std::vector<const char*> patterns;
  patterns.reserve(wanted.size() + 1);
  for (const std::string& r : wanted) patterns.push_back(r.c_str());
  patterns.push_back(nullptr);
  Deadline deadline(ctx.home(), "key listing", extra_for(wanted.size(), 0));
  gpgme_error_t err = gpgme_op_keylist_ext_start(c, patterns.data(), 0, 0);
  while (!err) {
    detail::KeyRef key;
    err = gpgme_op_keylist_next(c, &key.h);
    if (err) break;
    if (!key.h->subkeys || !key.h->subkeys->fpr) continue;
    const std::string fpr = ascii_upper(key.h->subkeys->fpr);
    if (!wanted.count(fpr)) continue;  // matched by a subkey fingerprint only
    if (out.count(fpr)) {
      gpgme_op_keylist_end(c);
      return Unexpected(Error::permanent("fan-out: two public keys with fingerprint " + fpr));
    }
    out[fpr] = std::exchange(key.h, nullptr);
  }
  gpgme_op_keylist_end(c);
  if (deadline.expired()) return Unexpected(deadline.error());
  if (gpgme_err_code(err) != GPG_ERR_EOF) {
    return Unexpected(detail::gpgme_failure("fan-out: key listing", err));
  }
  return {};
}

}  // namespace

namespace {

// The (sub)key gpg encrypts to: of the valid encryption-capable ones, the
// newest (gpg's choice); null when the key has none or is itself unusable.
gpgme_subkey_t encryption_subkey(gpgme_key_t k) {
  if (k->revoked || k->expired || k->disabled || k->invalid) return nullptr;
  gpgme_subkey_t best = nullptr;
  for (gpgme_subkey_t sk = k->subkeys; sk; sk = sk->next) {
    if (!sk->can_encrypt || sk->revoked || sk->expired || sk->disabled || sk->invalid || !sk->fpr) {
      continue;
    }
    if (!best || sk->timestamp > best->timestamp) best = sk;
  }
  return best;
}

// Reads, from one export of the keys (a gpg run), the key material of the
// encryption (sub)key of each listed key into `targets`. A key whose
// algorithm session_key.h does not handle gets no entry: gpg encrypts the
// messages to it. Errors: temporary when the export fails.
Result<void> read_targets(Context& ctx, const std::map<std::string, gpgme_key_t>& keys,
                          std::map<std::string, EncryptionKey>& targets) {
  std::map<std::string, std::pair<std::string, std::time_t>> wanted;  // subkey -> primary, expiry
  std::vector<const char*> patterns;
  for (const auto& [fpr, k] : keys) {
    gpgme_subkey_t sk = encryption_subkey(k);
    if (!sk) continue;
    std::time_t expires = sk->expires > 0 ? static_cast<std::time_t>(sk->expires) : 0;
    const long primary = k->subkeys->expires;
    if (primary > 0 && (expires == 0 || primary < expires)) expires = primary;
    wanted[ascii_upper(sk->fpr)] = {fpr, expires};
    patterns.push_back(fpr.c_str());
  }
  if (patterns.empty()) return {};
  patterns.push_back(nullptr);
  detail::OutputData out;
  if (auto r = out.open(); !r) return Unexpected(r.error());
  gpgme_ctx_t c = ctx.native();
  gpgme_set_armor(c, 0);
  Deadline deadline(ctx.home(), "key export", extra_for(patterns.size(), 0));
  const gpgme_error_t err =
      gpgme_op_export_ext(c, patterns.data(), GPGME_EXPORT_MODE_MINIMAL, out.get());
  if (deadline.expired()) return Unexpected(deadline.error());
  if (err) return Unexpected(detail::gpgme_failure("fan-out: key export", err));
  const std::string exported = out.take();
  auto packets = split_packets(exported);
  if (!packets) return Unexpected(packets.error().to_error("fan-out: exported keys"));
  for (const Packet& p : *packets) {
    if (p.tag != 6 && p.tag != 14) continue;  // public key, public subkey
    if (p.partial) continue;
    auto key = read_encryption_key(packet_body(exported, p));
    if (!key) continue;  // another algorithm or version: gpg encrypts to it
    const auto w = wanted.find(key->fingerprint);
    if (w == wanted.end()) continue;
    key->expires = w->second.second;
    targets[w->second.first] = std::move(*key);
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<const KeyHandles>> KeyHandles::list(
    Context& ctx, const std::vector<std::string>& fingerprints) {
  std::set<std::string> wanted;
  for (const std::string& f : fingerprints) {
    std::string n = normalize_fingerprint(f);
    if (!n.empty()) wanted.insert(std::move(n));
  }
  std::shared_ptr<KeyHandles> out(new KeyHandles());
  if (auto r = list_public(ctx, wanted, out->impl_->keys); !r) return Unexpected(r.error());
  if (auto r = read_targets(ctx, out->impl_->keys, out->impl_->targets); !r) {
    return Unexpected(r.error());
  }
  return std::shared_ptr<const KeyHandles>(std::move(out));
}

std::size_t KeyHandles::direct_targets() const { return impl_->targets.size(); }

namespace {

// Restores the context's armor flag and signer list on scope exit.
class ContextSettings {
 public:
  explicit ContextSettings(gpgme_ctx_t c) : c_(c), armor_(gpgme_get_armor(c)) {
    for (int i = 0;; ++i) {
      gpgme_key_t k = gpgme_signers_enum(c, i);  // takes a reference
      if (!k) break;
      signers_.push_back(k);
    }
  }
  ContextSettings(const ContextSettings&) = delete;
  ContextSettings& operator=(const ContextSettings&) = delete;
  ~ContextSettings() {
    gpgme_set_armor(c_, armor_);
    gpgme_signers_clear(c_);
    for (gpgme_key_t k : signers_) {
      gpgme_signers_add(c_, k);
      gpgme_key_unref(k);
    }
  }

 private:
  gpgme_ctx_t c_;
  int armor_;
  std::vector<gpgme_key_t> signers_;
};

std::string key_id_of(const char* fpr) {
  const std::string f = ascii_upper(fpr ? fpr : "");
  return f.size() >= 16 ? f.substr(f.size() - 16) : f;
}

// Looks up the key with primary fingerprint `fpr` (public or secret).
Result<void> get_key(Context& ctx, const std::string& fpr, bool secret, detail::KeyRef& out,
                     std::string_view role) {
  Deadline deadline(ctx.home(), "key lookup");
  const gpgme_error_t err = gpgme_get_key(ctx.native(), fpr.c_str(), &out.h, secret ? 1 : 0);
  if (deadline.expired()) return Unexpected(deadline.error());
  const gpgme_err_code_t code = gpgme_err_code(err);
  if (code == GPG_ERR_EOF || code == GPG_ERR_NO_PUBKEY || code == GPG_ERR_NO_SECKEY ||
      (!err && (!out.h || !out.h->subkeys || ascii_upper(out.h->subkeys->fpr ? out.h->subkeys->fpr
                                                                              : "") != fpr))) {
    return Unexpected(Error::permanent("fan-out: no " + std::string(secret ? "secret" : "public") +
                                       " key for the " + std::string(role) + " " + fpr));
  }
  if (err) return Unexpected(detail::gpgme_failure("fan-out: key lookup", err));
  return {};
}

}  // namespace

namespace {
std::atomic<bool> g_direct_encryption{true};
}  // namespace

void set_direct_encryption(bool on) { g_direct_encryption = on; }
bool direct_encryption() { return g_direct_encryption; }

Result<FanoutMessage> FanoutMessage::encrypt_here(std::string signed_packets,
                                                  const std::vector<std::string>& recipients,
                                                  const std::vector<const EncryptionKey*>& keys) {
  const Wiped signed_message{std::move(signed_packets)};
  const std::string& signed_bytes = signed_message.value;
  // What gpg signed is a signed message: compressed data, or one-pass
  // signatures, literal data and signatures; never anything encrypted.
  auto packets = split_packets(signed_bytes);
  if (!packets) return Unexpected(packets.error().to_error("fan-out: gpg's signed message"));
  for (const Packet& p : *packets) {
    if (p.tag != kTagCompressed && p.tag != kTagOnePassSig && p.tag != kTagLiteral &&
        p.tag != kTagSignature) {
      return Unexpected(Error::permanent("fan-out: gpg's signed message holds a packet of tag " +
                                         std::to_string(p.tag)));
    }
  }
  auto new_key = new_session_key();
  if (!new_key) return Unexpected(new_key.error());
  const Wiped session_key{std::move(*new_key)};
  auto data = make_seipd(session_key.value, signed_bytes);
  if (!data) return Unexpected(data.error());
  FanoutMessage m;
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    auto pkesk = make_pkesk(*keys[i], session_key.value);
    if (!pkesk) {
      Error e = pkesk.error();
      e.message = "fan-out: " + recipients[i] + ": " + e.message;
      return Unexpected(std::move(e));
    }
    m.by_recipient_.emplace(recipients[i], Entry{keys[i]->key_id, std::move(*pkesk)});
  }
  m.data_ = std::move(*data);
  m.encrypted_here_ = true;
  return m;
}

Result<FanoutMessage> sign_and_encrypt_once(Context& ctx, std::string_view plaintext,
                                            std::string_view signer_fpr,
                                            const std::vector<std::string>& recipient_fprs) {
  return sign_and_encrypt_once(ctx, plaintext, std::vector<std::string>{std::string(signer_fpr)},
                               recipient_fprs);
}

Result<FanoutMessage> sign_and_encrypt_once(Context& ctx, std::string_view plaintext,
                                            const std::vector<std::string>& signer_fprs,
                                            const std::vector<std::string>& recipient_fprs,
                                            const KeyHandles* known) {
  if (recipient_fprs.empty()) {
    return Unexpected(Error::permanent("fan-out: no recipients"));
  }
  if (signer_fprs.empty()) return Unexpected(Error::permanent("fan-out: no signer"));
  std::vector<std::string> signers;
  for (const std::string& f : signer_fprs) {
    std::string signer = normalize_fingerprint(f);
    if (signer.empty()) {
      return Unexpected(Error::permanent("fan-out: signer \"" + escape_for_log(f) +
                                         "\" is not a fingerprint"));
    }
    if (std::find(signers.begin(), signers.end(), signer) != signers.end()) {
      return Unexpected(Error::permanent("fan-out: signer " + signer + " is listed twice"));
    }
    signers.push_back(std::move(signer));
  }
  std::vector<std::string> recipients;
  std::set<std::string> seen;
  for (const std::string& r : recipient_fprs) {
    std::string f = normalize_fingerprint(r);
    if (f.empty()) {
      return Unexpected(Error::permanent("fan-out: recipient \"" + escape_for_log(r) +
                                         "\" is not a fingerprint"));
    }
    if (!seen.insert(f).second) {
      return Unexpected(Error::permanent("fan-out: recipient " + f + " is listed twice"));
    }
    recipients.push_back(std::move(f));
  }

  gpgme_ctx_t c = ctx.native();
  // The recipients' keys: from `known` (listed at load) or, for the rest,
  // in one gpg run (one run per key costs ~7 ms each); and key ID ->
  // recipient for every (sub)key of every recipient.
  std::map<std::string, gpgme_key_t> keys;    // borrowed from `known` or from `listed`
  std::map<std::string, gpgme_key_t> listed;  // references held here
  struct Unref {
    std::map<std::string, gpgme_key_t>& m;
    ~Unref() {
      for (auto& [f, k] : m) gpgme_key_unref(k);
    }
  } unref{listed};
  {
    std::set<std::string> missing;
    const std::map<std::string, gpgme_key_t>* cached = known ? &known->impl().keys : nullptr;
    for (const std::string& r : recipients) {
      if (cached) {
        if (auto it = cached->find(r); it != cached->end()) {
          keys[r] = it->second;
          continue;
        }
      }
      missing.insert(r);
    }
    if (auto l = list_public(ctx, missing, listed); !l) return Unexpected(l.error());
    for (const auto& [fpr, k] : listed) keys[fpr] = k;
  }
  std::map<std::string, std::string> owner_of_key_id;
  std::vector<gpgme_key_t> key_array;
  for (const std::string& r : recipients) {
    const auto k = keys.find(r);
    if (k == keys.end()) {
      return Unexpected(Error::permanent("fan-out: no public key for the recipient " + r));
    }
    key_array.push_back(k->second);
    for (gpgme_subkey_t sk = k->second->subkeys; sk; sk = sk->next) {
      const std::string id = key_id_of(sk->fpr);
      auto [it, fresh] = owner_of_key_id.emplace(id, r);
      if (!fresh && it->second != r) {
        std::string why = "fan-out: key ID " + id;
        why += " belongs to both " + it->second;
        why += " and " + r;
        return Unexpected(Error::permanent(why));
      }
    }
  }
  key_array.push_back(nullptr);
  // The signing keys' handles come from the context's cache while the
  // home is unchanged (home_cache.h): one gpg run less per message.
  std::vector<detail::KeyRef> signer_keys(signers.size());
  HomeCache& cache = ctx.cache();
  const HomeStamp stamp = cache.check(ctx.home());
  const std::time_t now = std::time(nullptr);
  for (std::size_t i = 0; i < signers.size(); ++i) {
    signer_keys[i].h = cache.signer(signers[i], now);
    cache.count(signer_keys[i].h != nullptr);
    if (signer_keys[i].h) continue;
    if (auto r = get_key(ctx, signers[i], true, signer_keys[i], "signer"); !r) {
      return Unexpected(r.error());
    }
    cache.keep_signer(signers[i], signer_keys[i].h, now, stamp);
  }

  // tlpmaild encrypts the message itself (session_key.h) when it holds the
  // key material of every recipient's encryption key and none of them has
  // expired since it was read; gpg then only signs. Otherwise gpg signs
  // and encrypts to all in one run, as before.
  std::vector<const EncryptionKey*> targets;
  if (known && direct_encryption()) {
    for (const std::string& r : recipients) {
      const auto t = known->impl().targets.find(r);
      if (t == known->impl().targets.end() ||
          (t->second.expires != 0 && t->second.expires <= now)) {
        break;
      }
      targets.push_back(&t->second);
    }
  }
  const bool direct = targets.size() == recipients.size();

  ContextSettings restore(c);
  gpgme_set_armor(c, 0);
  gpgme_signers_clear(c);
  for (const detail::KeyRef& k : signer_keys) {
    if (gpgme_error_t err = gpgme_signers_add(c, k.h)) {
      return Unexpected(detail::gpgme_failure("fan-out: signer", err));
    }
  }
  detail::InputData in;
  if (auto r = in.open(plaintext); !r) return Unexpected(r.error());
  detail::OutputData out;
  if (auto r = out.open(); !r) return Unexpected(r.error());
  Deadline deadline(ctx.home(), direct ? "sign" : "sign and encrypt",
                    extra_for(direct ? 0 : recipients.size(), plaintext.size()));
  const gpgme_error_t err =
      direct ? gpgme_op_sign(c, in.get(), out.get(), GPGME_SIG_MODE_NORMAL)
             : gpgme_op_encrypt_sign(c, key_array.data(), GPGME_ENCRYPT_ALWAYS_TRUST, in.get(),
                                     out.get());
  if (deadline.expired()) return Unexpected(deadline.error());

  gpgme_encrypt_result_t er = direct ? nullptr : gpgme_op_encrypt_result(c);
  if (er && er->invalid_recipients) {
    return Unexpected(Error::permanent(
        "fan-out: gpg refused the recipient key " +
        ascii_upper(er->invalid_recipients->fpr ? er->invalid_recipients->fpr : "?") + ": " +
        detail::gpgme_text(er->invalid_recipients->reason)));
  }
  gpgme_sign_result_t sr = gpgme_op_sign_result(c);
  if (sr && sr->invalid_signers) {
    return Unexpected(Error::permanent(
        "fan-out: gpg refused the signing key " +
        (signers.size() == 1 || !sr->invalid_signers->fpr ? signers.front()
                                                          : ascii_upper(sr->invalid_signers->fpr)) +
        ": " + detail::gpgme_text(sr->invalid_signers->reason)));
  }
  if (err) return Unexpected(detail::gpgme_failure("fan-out: sign and encrypt", err));
  int signatures = 0;
  for (gpgme_new_signature_t s = sr ? sr->signatures : nullptr; s; s = s->next) ++signatures;
  if (signatures != static_cast<int>(signers.size())) {
    return Unexpected(Error::permanent("fan-out: gpg made " + std::to_string(signatures) +
                                       " signatures instead of " +
                                       std::to_string(signers.size())));
  }

  std::string message = out.take();
  if (direct) return FanoutMessage::encrypt_here(std::move(message), recipients, targets);
  auto packets = split_packets(message);
  if (!packets) return Unexpected(packets.error().to_error("fan-out: gpg output"));

  FanoutMessage m;
  std::size_t i = 0;
  for (; i < packets->size() && (*packets)[i].tag == kTagPkesk; ++i) {
    const Packet& p = (*packets)[i];
    auto id = pkesk_key_id(message, p);
    if (!id) return Unexpected(id.error());
    if (*id == "0000000000000000") {
      return Unexpected(Error::permanent(
          "fan-out: gpg wrote a PKESK without key ID (throw-keyids or hidden-recipient in "
          "gpg.conf?); refusing, since no copy could be matched to its member"));
    }
    const auto owner = owner_of_key_id.find(*id);
    if (owner == owner_of_key_id.end()) {
      return Unexpected(Error::permanent("fan-out: gpg encrypted to key ID " + *id +
                                         ", which is no recipient's (encrypt-to in gpg.conf?)"));
    }
    auto [it, fresh] = m.by_recipient_.emplace(
        owner->second, FanoutMessage::Entry{*id, message.substr(p.offset, p.size)});
    if (!fresh) {
      return Unexpected(Error::permanent("fan-out: gpg wrote two PKESK packets for " +
                                         owner->second));
    }
  }
  if (m.by_recipient_.size() != recipients.size()) {
    return Unexpected(Error::permanent("fan-out: gpg wrote " +
                                       std::to_string(m.by_recipient_.size()) +
                                       " PKESK packets for " + std::to_string(recipients.size()) +
                                       " recipients"));
  }
  if (i + 1 != packets->size() || (*packets)[i].tag != kTagSeipd) {
    return Unexpected(Error::permanent(
        "fan-out: gpg output does not end in exactly one integrity-protected data packet"));
  }
  // The output is the PKESKs and then the data packet: keep the data in
  // the output's own buffer rather than a second copy of it.
  const Packet& data = (*packets)[i];
  std::string output = std::move(message);
  output.erase(0, data.offset);
  output.resize(data.size);
  m.data_ = std::move(output);
  return m;
}

}  // namespace tlpmail::openpgp
