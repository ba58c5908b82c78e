// decrypt(): one gpgme_op_decrypt_verify run judged by gpg's status lines
// (BEGIN_DECRYPTION, DECRYPTION_INFO, DECRYPTION_OKAY, GOODMDC, BADMDC,
// DECRYPTION_FAILED, ENC_TO, NO_SECKEY, DECRYPTION_KEY), because gpg writes
// plaintext before it knows whether the data was intact or protected.
#include "openpgp/decrypt.h"

#include <optional>
#include <set>

#include "openpgp/armor.h"
#include "openpgp/deadline.h"
#include "openpgp/gpgme_util.h"
#include "openpgp/packets.h"
#include "util/enum_names.h"
#include "util/text.h"

namespace tlpmail::openpgp {

constexpr auto kDecryptStatusNames = std::to_array<std::string_view>(
    {"decrypted", "not encrypted", "no secret key", "no integrity protection",
     "integrity check failed", "nested encryption", "too large", "AEAD not supported",
     "text outside the encrypted block", "malformed"});
static_assert(util::names_cover(kDecryptStatusNames, DecryptStatus::malformed));
std::string_view to_string(DecryptStatus s) {
  return util::name_of(kDecryptStatusNames, s, "malformed");
}

namespace {

Decryption refusal(Decryption d, DecryptStatus status, std::string detail) {
  d.status = status;
  d.detail = std::move(detail);
  d.plaintext.clear();
  d.signatures.clear();
  return d;
}

// Key IDs (last 16 hex digits) of every subkey whose secret part this home
// holds. One extra gpg run, made only when decryption found no secret key.
Result<std::set<std::string>> secret_key_ids(gpgme_ctx_t ctx, const std::filesystem::path& home) {
  std::set<std::string> ids;
  Deadline deadline(home, "secret key listing");
  if (gpgme_error_t err = gpgme_op_keylist_start(ctx, nullptr, 1)) {
    if (deadline.expired()) return Unexpected(deadline.error());
    return Unexpected(detail::gpgme_failure("secret key listing", err));
  }
  gpgme_error_t err = 0;
  for (;;) {
    detail::KeyRef key;
    err = gpgme_op_keylist_next(ctx, &key.h);
    if (err) break;
    for (gpgme_subkey_t sub = key.h->subkeys; sub; sub = sub->next) {
      if (sub->secret && sub->keyid) ids.insert(ascii_upper(sub->keyid));
    }
  }
  gpgme_op_keylist_end(ctx);
  if (deadline.expired()) return Unexpected(deadline.error());
  if (gpgme_err_code(err) != GPG_ERR_EOF) {
    return Unexpected(detail::gpgme_failure("secret key listing", err));
  }
  return ids;
}

// True when the packet starting at `at` is AEAD-encrypted data: an AEAD
// Encrypted Data packet (tag 20) or a version 2 SEIPD packet (RFC 9580).
// Reads the packet header and, for SEIPD, the version octet only.
bool is_aead_packet_at(std::string_view data, std::size_t at) {
  if (at >= data.size()) return false;
  const auto ctb = static_cast<unsigned char>(data[at]);
  if (!(ctb & 0x80)) return false;
  std::size_t header = 1;
  unsigned tag = 0;
  if (ctb & 0x40) {
    tag = ctb & 0x3f;
    if (at + 1 >= data.size()) return tag == 20;
    const auto first = static_cast<unsigned char>(data[at + 1]);
    header += first < 192 ? 1 : first < 224 ? 2 : first == 255 ? 5 : 1;
  } else {
    tag = (ctb >> 2) & 0x0f;
    static constexpr std::size_t kOldLength[4] = {1, 2, 4, 0};
    header += kOldLength[ctb & 3];
  }
  if (tag == 20) return true;
  return tag == kTagSeipd && at + header < data.size() && data[at + header] == 2;
}

// True when the message's encrypted data is AEAD (the format of RNP's
// --aead and of GnuPG 2.3+ with AEAD keys). Decided from the packets
// themselves, before gpg runs: gpg 2.2.40 reports an AEAD message as
// DECRYPTION_INFO 0 <cipher> 0 with GOODMDC, even a corrupted one.
bool is_aead(std::string_view ciphertext) {
  // Enough for the session key packets and the data packet's header.
  constexpr std::size_t kLook = std::size_t{64} * 1024;
  std::optional<std::string> decoded;
  std::string_view binary = ciphertext.substr(0, kLook);
  if (contains_armor(ciphertext)) {
    decoded = dearmor_message(ciphertext, kLook);
    if (!decoded) return false;
    binary = *decoded;
  }
  // The look may cut the data packet: the packets before the cut are whole,
  // and the one at the cut has its header.
  auto packets = split_packets(binary);
  if (!packets) {
    const std::size_t whole = packets.error().offset;
    if (is_aead_packet_at(binary, whole)) return true;
    packets = split_packets(binary.substr(0, whole));
    if (!packets) return false;
  }
  for (const Packet& p : *packets) {
    if (is_aead_packet_at(binary, p.offset)) return true;
  }
  return false;
}

std::string join(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

}  // namespace

Result<Decryption> decrypt(Context& ctx, std::string_view ciphertext, std::size_t max_plaintext) {
  Decryption d;
  if (contains_armor(ciphertext)) {
    switch (check_message_framing(ciphertext)) {
      case ArmorFraming::alone:
        break;
      case ArmorFraming::absent:
        return refusal(std::move(d), DecryptStatus::not_encrypted,
                       "no armored PGP MESSAGE block found");
      case ArmorFraming::text_outside:
        return refusal(std::move(d), DecryptStatus::text_outside_message,
                       "text outside the armored PGP MESSAGE block");
      case ArmorFraming::malformed:
        return refusal(std::move(d), DecryptStatus::malformed, "damaged armored PGP MESSAGE block");
    }
  }

  if (is_aead(ciphertext)) {
    return refusal(std::move(d), DecryptStatus::aead_unsupported,
                   "the message is AEAD-encrypted (OCB or EAX), which is not supported");
  }

  detail::InputData in;
  if (auto r = in.open(ciphertext); !r) return Unexpected(r.error());
  detail::OutputData out;
  if (auto r = out.open(max_plaintext); !r) return Unexpected(r.error());
  gpgme_ctx_t c = ctx.native();
  detail::StatusCapture status(c);
  if (auto r = status.status(); !r) return Unexpected(r.error());
  Deadline deadline(ctx.home(), "decrypt", extra_for(0, ciphertext.size()));
  const gpgme_error_t err = gpgme_op_decrypt_verify(c, in.get(), out.get());
  if (deadline.expired()) return Unexpected(deadline.error());
  const gpgme_err_code_t code = gpgme_err_code(err);

  if (gpgme_decrypt_result_t r = gpgme_op_decrypt_result(c)) {
    if (r->symkey_algo && std::string_view(r->symkey_algo) != "?.?") d.cipher = r->symkey_algo;
    for (gpgme_recipient_t rc = r->recipients; rc; rc = rc->next) {
      d.recipients.push_back(ascii_upper(rc->keyid ? rc->keyid : ""));
    }
  }
  if (const std::string* key = status.first("DECRYPTION_KEY")) {
    const std::vector<std::string> f = detail::split_fields(*key);
    if (f.size() >= 2) {
      d.decryption_fingerprint = ascii_upper(f[0]);
      d.decryption_primary_fingerprint = ascii_upper(f[1]);
    }
  }

  if (out.exceeded()) {
    // The write callback refused more: GPGME stopped gpg, whatever it said.
    out.discard();
    return refusal(std::move(d), DecryptStatus::too_large,
                   "the decrypted content is larger than " + std::to_string(max_plaintext) +
                       " bytes");
  }
  if (status.overflowed()) {
    return refusal(std::move(d), DecryptStatus::malformed, "too many packets or signatures");
  }
  if (status.lines().empty() && !detail::gpg_answers(c)) {
    return Unexpected(Error::temporary("decrypt: gpg did not run"));
  }
  const std::size_t begun = status.count("BEGIN_DECRYPTION");
  const std::size_t infos = status.count("DECRYPTION_INFO");
  if (begun > 1 || infos > 1) {
    // Measured with gpg 2.2.40: an encrypted message whose decrypted
    // packets are another PKESK + SEIPD (directly or inside a compressed
    // packet) is decrypted twice in one run. Only one layer is allowed.
    return refusal(std::move(d), DecryptStatus::nested_encryption,
                   "the encrypted message holds another encrypted message");
  }

  if (infos == 0) {
    // gpg never got a session key (it writes BEGIN_DECRYPTION even then).
    if (status.has("NEED_PASSPHRASE")) {
      // A secret key of this home matched but needs a passphrase: ours to fix.
      const std::vector<std::string> f = detail::split_fields(*status.first("NEED_PASSPHRASE"));
      return Unexpected(Error::temporary(
          "decrypt: the secret key for " + (f.empty() ? join(d.recipients) : ascii_upper(f[0])) +
          " is protected by a passphrase, which tlpmaild cannot enter"));
    }
    const bool encrypted = begun > 0 || status.has("ENC_TO") || status.has("NEED_PASSPHRASE_SYM") ||
                           !d.recipients.empty();
    if (!encrypted) {
      if (!err || code == GPG_ERR_NO_DATA) {
        return refusal(std::move(d), DecryptStatus::not_encrypted,
                       "no encrypted OpenPGP message found");
      }
      if (detail::is_data_failure(err, status)) {
        return refusal(std::move(d), DecryptStatus::malformed, "gpg: " + detail::gpgme_text(err));
      }
      return Unexpected(detail::gpgme_failure("decrypt", err));
    }
    if (d.recipients.empty() && status.has("NEED_PASSPHRASE_SYM")) {
      return refusal(std::move(d), DecryptStatus::no_secret_key,
                     "encrypted with a passphrase, not to a key");
    }
    if (code == GPG_ERR_NO_SECKEY || status.has("NO_SECKEY")) {
      // Before refusing, make sure gpg did not merely fail to use a key
      // this home does hold (agent trouble): that is ours to fix.
      auto held = secret_key_ids(c, ctx.home());
      if (!held) return Unexpected(held.error());
      for (const std::string& id : d.recipients) {
        if (held->count(id)) {
          return Unexpected(
              Error::temporary("decrypt: the secret key " + id +
                               " is present but gpg could not use it: " + detail::gpgme_text(err)));
        }
      }
      // Built before the call: the order in which a call's arguments are
      // evaluated is unspecified, and `d` is moved into the first.
      std::string why = "not encrypted to a key of this list";
      if (!d.recipients.empty()) why += " (encrypted to " + join(d.recipients) + ")";
      return refusal(std::move(d), DecryptStatus::no_secret_key, std::move(why));
    }
    if (err && detail::is_data_failure(err, status)) {
      return refusal(std::move(d), DecryptStatus::malformed, "gpg: " + detail::gpgme_text(err));
    }
    if (err) return Unexpected(detail::gpgme_failure("decrypt", err));
    return refusal(std::move(d), DecryptStatus::malformed,
                   "gpg reported success without decrypting anything");
  }

  // Exactly one layer was decrypted. DECRYPTION_INFO <mdc> <cipher> [<aead>]
  const std::vector<std::string> info = detail::split_fields(*status.first("DECRYPTION_INFO"));
  const bool has_mdc = !info.empty() && info[0] != "0";
  const bool has_aead = info.size() >= 3 && info[2] != "0";
  d.integrity = has_aead ? "aead" : has_mdc ? "mdc" : "none";
  if (!has_mdc && !has_aead) {
    // gpg 2.2.40 fails such data itself (DECRYPTION_FAILED, and the
    // "nomdc_with_legacy_cipher" error for 64-bit ciphers), but only after
    // writing the plaintext: it is dropped here whatever gpg said.
    return refusal(std::move(d), DecryptStatus::no_integrity_protection,
                   "the message is encrypted without integrity protection (no MDC)");
  }
  const bool complete = !err && status.has("DECRYPTION_OKAY") && !status.has("DECRYPTION_FAILED") &&
                        !status.has("BADMDC") && (has_aead || status.has("GOODMDC"));
  if (!complete) {
    if (status.has("BADMDC")) {
      return refusal(std::move(d), DecryptStatus::integrity_failed,
                     "the integrity check (MDC) failed: the message was changed");
    }
    if (!err || detail::is_data_failure(err, status) || status.has("DECRYPTION_FAILED")) {
      return refusal(std::move(d), DecryptStatus::integrity_failed,
                     "the encrypted data is damaged" +
                         (err ? " (gpg: " + detail::gpgme_text(err) + ")" : std::string()));
    }
    return Unexpected(detail::gpgme_failure("decrypt", err));
  }

  d.plaintext = out.take();
  d.signatures = detail::collect_signatures(c, status, d.plaintext);
  d.status = DecryptStatus::decrypted;
  return d;
}

bool is_meant_for(const Decryption& d, const KeyFacts& key) {
  if (d.status != DecryptStatus::decrypted) return false;
  if (iequals(key.fingerprint, d.decryption_primary_fingerprint)) return true;
  for (const SubkeyFacts& sub : key.subkeys) {
    if (!sub.can_encrypt || sub.fingerprint.size() < 16) continue;
    const std::string id = ascii_upper(sub.fingerprint.substr(sub.fingerprint.size() - 16));
    for (const std::string& r : d.recipients) {
      if (r == id) return true;
    }
  }
  return false;
}

}  // namespace tlpmail::openpgp
