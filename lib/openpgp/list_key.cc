// List keys with GPGME: gpgme_op_createkey/createsubkey for new keys, a
// secret-key listing filtered by user-ID e-mail for lookups, a minimal
// armored export, and an import that is checked in a throwaway home
// (including a trial signature and decryption without passphrase) before
// it touches the real one.
#include "openpgp/list_key.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "openpgp/gpgme_util.h"
#include "openpgp/temp_home.h"
#include "util/text.h"

namespace tlpmail::openpgp {

namespace {

// One secret key of the home and what makes it (un)usable as a list key.
struct Candidate {
  KeyFacts facts;
  bool has_address = false;  // a live user ID with the list address
  std::string problem;       // "" when usable as a list key
};

bool is_live(gpgme_subkey_t s) { return !s->revoked && !s->expired && !s->invalid && !s->disabled; }

std::string problem_of(gpgme_key_t key) {
  if (key->revoked) return "revoked";
  if (key->expired) return "expired";
  if (key->disabled) return "disabled";
  if (key->invalid) return "invalid";
  if (!key->subkeys || !is_live(key->subkeys)) return "primary key not usable";
  bool sign = false;
  bool encrypt = false;
  for (gpgme_subkey_t s = key->subkeys; s; s = s->next) {
    if (!s->secret || !is_live(s)) continue;
    if (s->can_sign) sign = true;
    if (s->can_encrypt) encrypt = true;
  }
  if (!sign) return "no secret signing key";
  if (!encrypt) return "no secret encryption subkey";
  return "";
}

// Every secret key of the home, judged for `address`.
Result<std::vector<Candidate>> scan_secret_keys(Context& ctx, std::string_view address) {
  gpgme_ctx_t c = ctx.native();
  if (gpgme_error_t err = gpgme_op_keylist_start(c, nullptr, 1)) {
    return Unexpected(detail::gpgme_failure("secret key listing", err));
  }
  std::vector<Candidate> out;
  gpgme_error_t err = 0;
  for (;;) {
    detail::KeyRef key;
    err = gpgme_op_keylist_next(c, &key.h);
    if (err) break;
    Candidate cand;
    cand.facts = detail::to_key_facts(key.h);
    // gpg marks every user ID of a revoked or expired key revoked or
    // invalid too; such a key still counts as "for this address" so that
    // find_list_key can say why it is not usable.
    const bool key_dead = key.h->revoked || key.h->expired;
    for (gpgme_user_id_t uid = key.h->uids; uid; uid = uid->next) {
      if (!uid->email || (!key_dead && (uid->revoked || uid->invalid))) continue;
      if (iequals(uid->email, address)) cand.has_address = true;
    }
    cand.problem = problem_of(key.h);
    out.push_back(std::move(cand));
  }
  gpgme_op_keylist_end(c);
  if (gpgme_err_code(err) != GPG_ERR_EOF) {
    return Unexpected(detail::gpgme_failure("secret key listing", err));
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool has_control_char(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// The context's home, for messages.
std::string home_of(const Context& ctx) { return ctx.home().string(); }

}  // namespace

bool is_plausible_address(std::string_view address) {
  if (address.empty() || address.size() > 254) return false;
  const std::size_t at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
  if (address.find('@', at + 1) != std::string_view::npos) return false;
  for (unsigned char c : address) {
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == ',' || c == ';') {
      return false;
    }
  }
  return true;
}

Result<void> make_home_private(const std::filesystem::path& home) {
  struct stat st {};
  if (::stat(home.c_str(), &st) != 0) {
    return Unexpected(
        Error::permanent("GnuPG home " + home.string() + ": " + std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Unexpected(Error::permanent("GnuPG home " + home.string() + " is not a folder"));
  }
  if ((st.st_mode & 077) == 0) return {};
  if (::chmod(home.c_str(), 0700) != 0) {
    return Unexpected(Error::permanent(
        "GnuPG home " + home.string() +
        " is readable by others and cannot be made private: " + std::strerror(errno)));
  }
  return {};
}

Result<std::optional<KeyFacts>> find_list_key(Context& ctx, std::string_view address) {
  if (!is_plausible_address(address)) {
    return Unexpected(Error::permanent("not a list address: \"" + escape_for_log(address) + "\""));
  }
  if (auto r = make_home_private(ctx.home()); !r) return Unexpected(r.error());
  auto scanned = scan_secret_keys(ctx, address);
  if (!scanned) return Unexpected(scanned.error());
  std::vector<const Candidate*> usable;
  std::vector<std::string> unusable;
  for (const Candidate& c : *scanned) {
    if (!c.has_address) continue;
    if (c.problem.empty()) {
      usable.push_back(&c);
    } else {
      unusable.push_back(c.facts.fingerprint + " (" + c.problem + ")");
    }
  }
  const std::string addr(address);
  if (usable.size() == 1) return std::optional<KeyFacts>(usable.front()->facts);
  if (usable.size() > 1) {
    std::vector<std::string> fprs;
    for (const Candidate* c : usable) fprs.push_back(c->facts.fingerprint);
    return Unexpected(Error::permanent(std::to_string(usable.size()) + " usable list keys for " +
                                       addr + " in " + home_of(ctx) + ": " + join(fprs) +
                                       "; delete all but one (gpg --homedir " + home_of(ctx) +
                                       " --delete-secret-and-public-keys FPR)"));
  }
  if (!unusable.empty()) {
    return Unexpected(Error::permanent((unusable.size() == 1 ? "the list key " : "the list keys ") +
                                       join(unusable) + " for " + addr +
                                       (unusable.size() == 1 ? " is" : " are") + " not usable"));
  }
  return std::optional<KeyFacts>();
}

Result<std::string> create_list_key(Context& ctx, std::string_view list_address,
                                    std::string_view name) {
  if (!is_plausible_address(list_address)) {
    return Unexpected(
        Error::permanent("not a list address: \"" + escape_for_log(list_address) + "\""));
  }
  std::string display(trim(name));
  if (display.empty()) display = std::string(list_address.substr(0, list_address.find('@')));
  if (has_control_char(display) || display.find_first_of("<>") != std::string::npos ||
      display.size() > 200) {
    return Unexpected(Error::permanent("unusable name for the list key's user ID: \"" +
                                       escape_for_log(display) + "\""));
  }
  if (auto r = make_home_private(ctx.home()); !r) return Unexpected(r.error());
  auto scanned = scan_secret_keys(ctx, list_address);
  if (!scanned) return Unexpected(scanned.error());
  for (const Candidate& c : *scanned) {
    if (c.has_address && c.problem.empty()) {
      return Unexpected(Error::permanent("a list key for " + std::string(list_address) +
                                         " already exists: " + c.facts.fingerprint));
    }
  }

  gpgme_ctx_t c = ctx.native();
  const std::string uid = display + " <" + std::string(list_address) + ">";
  // FORCE: an unusable (revoked, expired) key may carry the same user ID.
  const unsigned primary_flags = GPGME_CREATE_SIGN | GPGME_CREATE_CERT | GPGME_CREATE_NOPASSWD |
                                 GPGME_CREATE_NOEXPIRE | GPGME_CREATE_FORCE;
  if (gpgme_error_t err =
          gpgme_op_createkey(c, uid.c_str(), "ed25519", 0, 0, nullptr, primary_flags)) {
    return Unexpected(detail::gpgme_failure("creating the list key", err));
  }
  gpgme_genkey_result_t made = gpgme_op_genkey_result(c);
  if (!made || !made->fpr) {
    return Unexpected(Error::temporary("creating the list key: gpg returned no fingerprint"));
  }
  const std::string fpr = ascii_upper(made->fpr);

  detail::KeyRef key;
  gpgme_error_t err = gpgme_get_key(c, fpr.c_str(), &key.h, 1);
  if (!err) {
    err = gpgme_op_createsubkey(c, key.h, "cv25519", 0, 0,
                                GPGME_CREATE_ENCR | GPGME_CREATE_NOPASSWD | GPGME_CREATE_NOEXPIRE);
  }
  if (err) {
    if (key.h) gpgme_op_delete_ext(c, key.h, GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE);
    return Unexpected(detail::gpgme_failure("creating the list key's encryption subkey", err));
  }
  return fpr;
}

Result<std::string> export_public(Context& ctx, std::string_view fingerprint) {
  const std::string fpr = normalize_fingerprint(fingerprint);
  if (fpr.empty()) {
    return Unexpected(
        Error::permanent("not a fingerprint: \"" + escape_for_log(fingerprint) + "\""));
  }
  auto found = ctx.find_key(fpr);
  if (!found) return Unexpected(found.error());
  if (!found->has_value()) {
    return Unexpected(Error::permanent("no key " + fpr + " in " + home_of(ctx)));
  }
  detail::OutputData out;
  if (auto r = out.open(); !r) return Unexpected(r.error());
  gpgme_ctx_t c = ctx.native();
  gpgme_set_armor(c, 1);
  const gpgme_error_t err = gpgme_op_export(c, fpr.c_str(), GPGME_EXPORT_MODE_MINIMAL, out.get());
  gpgme_set_armor(c, 0);
  if (err) return Unexpected(detail::gpgme_failure("export", err));
  std::string text = out.take();
  if (text.empty()) return Unexpected(Error::temporary("export: gpg wrote nothing for " + fpr));
  return text;
}

namespace {

bool is_passphrase_error(gpgme_error_t err) {
  switch (gpgme_err_code(err)) {
    case GPG_ERR_BAD_PASSPHRASE:
    case GPG_ERR_NO_PASSPHRASE:
    case GPG_ERR_CANCELED:
    case GPG_ERR_FULLY_CANCELED:
    case GPG_ERR_NO_PIN:
    case GPG_ERR_BAD_PIN:
    case GPG_ERR_NO_PIN_ENTRY:
    case GPG_ERR_NOT_SUPPORTED:  // loopback pinentry without a passphrase callback
      return true;
    default:
      return false;
  }
}

// gpg wanted a passphrase: it says so in status lines (NEED_PASSPHRASE,
// then INQUIRE_MAXLEN for the loopback pinentry) and GPGME turns the
// unanswered inquiry into "General error" or "No data".
bool asked_for_passphrase(gpgme_error_t err, const detail::StatusCapture& status) {
  return is_passphrase_error(err) || status.has("NEED_PASSPHRASE") || status.has("INQUIRE_MAXLEN");
}

// Signs and decrypts a probe with the only key of `ctx`'s (throwaway) home:
// both must work without a passphrase, as they will in tlpmaild.
Result<void> try_key_without_passphrase(Context& ctx, const std::string& fpr,
                                        const std::string& prefix) {
  gpgme_ctx_t c = ctx.native();
  detail::KeyRef key;
  if (gpgme_error_t err = gpgme_get_key(c, fpr.c_str(), &key.h, 1)) {
    return Unexpected(detail::gpgme_failure("trying the secret key", err));
  }
  const std::string probe = "tlpmail list key probe\n";
  const std::string protected_msg =
      prefix + "the secret key " + fpr +
      " is protected by a passphrase, which tlpmaild cannot enter; remove the passphrase "
      "(gpg --edit-key " +
      fpr + ", then passwd, then an empty passphrase) and export it again";

  gpgme_signers_clear(c);
  gpgme_signers_add(c, key.h);
  detail::InputData in;
  if (auto r = in.open(probe); !r) return Unexpected(r.error());
  detail::OutputData sig;
  if (auto r = sig.open(); !r) return Unexpected(r.error());
  gpgme_error_t err = 0;
  {
    detail::StatusCapture status(c);
    if (auto r = status.status(); !r) return Unexpected(r.error());
    err = gpgme_op_sign(c, in.get(), sig.get(), GPGME_SIG_MODE_DETACH);
    gpgme_signers_clear(c);
    if (err && asked_for_passphrase(err, status)) {
      return Unexpected(Error::permanent(protected_msg));
    }
  }
  if (err) {
    return Unexpected(detail::gpgme_failure("trying the secret signing key", err));
  }

  detail::InputData plain;
  if (auto r = plain.open(probe); !r) return Unexpected(r.error());
  detail::OutputData cipher;
  if (auto r = cipher.open(); !r) return Unexpected(r.error());
  gpgme_key_t recipients[] = {key.h, nullptr};
  err = gpgme_op_encrypt(c, recipients, GPGME_ENCRYPT_ALWAYS_TRUST, plain.get(), cipher.get());
  if (err) return Unexpected(detail::gpgme_failure("trying the encryption subkey", err));
  const std::string ciphertext = cipher.take();
  detail::InputData cin;
  if (auto r = cin.open(ciphertext); !r) return Unexpected(r.error());
  detail::OutputData out;
  if (auto r = out.open(); !r) return Unexpected(r.error());
  {
    detail::StatusCapture status(c);
    if (auto r = status.status(); !r) return Unexpected(r.error());
    err = gpgme_op_decrypt(c, cin.get(), out.get());
    if (err && asked_for_passphrase(err, status)) {
      return Unexpected(Error::permanent(protected_msg));
    }
  }
  if (err) {
    return Unexpected(detail::gpgme_failure("trying the secret encryption subkey", err));
  }
  if (out.take() != probe) {
    return Unexpected(Error::temporary("trying the secret encryption subkey: wrong plaintext"));
  }
  return {};
}

}  // namespace

Result<std::string> import_secret_key_file(Context& ctx, const std::filesystem::path& file,
                                           std::string_view expected_address) {
  const std::string prefix = file.string() + ": ";
  const std::string addr(expected_address);
  if (!is_plausible_address(expected_address)) {
    return Unexpected(Error::permanent("not a list address: \"" + escape_for_log(addr) + "\""));
  }

  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(file, ec);
  if (ec) return Unexpected(Error::permanent(prefix + ec.message()));
  if (size > Context::kMaxKeyFileSize) {
    return Unexpected(Error::permanent(prefix + "larger than " +
                                       std::to_string(Context::kMaxKeyFileSize) + " bytes"));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Unexpected(Error::permanent(prefix + std::strerror(errno)));
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Unexpected(Error::permanent(prefix + "read error"));

  // 1. Everything is checked in a throwaway home first.
  auto tmp = TempHome::create("/tmp/tlpk-XXXXXX");
  if (!tmp) return Unexpected(tmp.error());
  auto trial = Context::open(tmp->path());
  if (!trial) return Unexpected(trial.error());
  auto imported = trial->import_data(data);
  if (!imported) {
    if (imported.error().kind == ErrorClass::permanent) {
      return Unexpected(Error::permanent(prefix + imported.error().message));
    }
    return Unexpected(imported.error());
  }
  if (imported->considered != 1 || imported->fingerprints.size() != 1) {
    return Unexpected(Error::permanent(
        prefix + "holds " + std::to_string(imported->considered) +
        " keys; a list key file must hold exactly one" +
        (imported->problems.empty() ? "" : " (gpg: " + join(imported->problems) + ")")));
  }
  const std::string fpr = imported->fingerprints.front();
  if (imported->secret_read == 0) {
    return Unexpected(Error::permanent(prefix + "holds only the public key " + fpr +
                                       "; export the secret key with gpg --armor "
                                       "--export-secret-keys " +
                                       fpr));
  }
  auto scanned = scan_secret_keys(*trial, expected_address);
  if (!scanned) return Unexpected(scanned.error());
  const Candidate* cand = nullptr;
  for (const Candidate& c : *scanned) {
    if (c.facts.fingerprint == fpr) cand = &c;
  }
  if (!cand) {
    return Unexpected(Error::permanent(
        prefix + "gpg did not import the secret key " + fpr +
        (imported->problems.empty() ? std::string() : " (" + join(imported->problems) + ")")));
  }
  if (!cand->has_address) {
    return Unexpected(
        Error::permanent(prefix + "key " + fpr + " has no user ID with the address " + addr +
                         " (it has: " + escape_for_log(join(cand->facts.user_ids)) + ")"));
  }
  if (!cand->problem.empty()) {
    return Unexpected(
        Error::permanent(prefix + "key " + fpr + " cannot serve as list key: " + cand->problem));
  }
  if (auto r = try_key_without_passphrase(*trial, fpr, prefix); !r) {
    return Unexpected(r.error());
  }

  // 2. The real home must not hold a different usable key for the list.
  if (auto r = make_home_private(ctx.home()); !r) return Unexpected(r.error());
  auto existing = scan_secret_keys(ctx, expected_address);
  if (!existing) return Unexpected(existing.error());
  for (const Candidate& c : *existing) {
    if (c.has_address && c.problem.empty() && c.facts.fingerprint != fpr) {
      return Unexpected(Error::permanent(
          "a different list key " + c.facts.fingerprint + " for " + addr + " is already in " +
          home_of(ctx) + "; delete it first (gpg --homedir " + home_of(ctx) +
          " --delete-secret-and-public-keys " + c.facts.fingerprint + ")"));
    }
  }

  // 3. The same bytes go into the real home; then the key must be found.
  auto real = ctx.import_data(data);
  if (!real) return Unexpected(real.error());
  auto found = find_list_key(ctx, expected_address);
  if (!found) return Unexpected(found.error());
  if (!found->has_value() || (*found)->fingerprint != fpr) {
    return Unexpected(Error::temporary("import of " + fpr + " into " + home_of(ctx) +
                                       " did not make it the list key of " + addr));
  }
  return fpr;
}

}  // namespace tlpmail::openpgp
