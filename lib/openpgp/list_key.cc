// List keys with GPGME: gpgme_op_createkey/createsubkey/adduid for new
// keys, keysign for a successor's certifications, setexpire for grace
// periods and extensions, a secret-key listing filtered by user-ID e-mail
// for lookups (with a signature listing to tell the current key from the
// ones it replaces), exports, and an import that is checked in a
// throwaway home (including a trial signature and decryption without
// passphrase) before it touches the real one.
#include "openpgp/list_key.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "openpgp/deadline.h"
#include "openpgp/gpgme_util.h"
#include "openpgp/home_cache.h"
#include "openpgp/temp_home.h"
#include "util/files.h"
#include "util/text.h"

namespace tlpmail::openpgp {

namespace {

// One secret key of the home and what makes it (un)usable as a list key.
struct Candidate {
  KeyFacts facts;
  bool has_address = false;  // a live user ID with the list address
  std::string address_uid;   // that user ID as written ("Name <addr>")
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
// With `by_address`, only the keys with a user ID of that e-mail (gpg's
// exact, case-insensitive "<address>" search), so that the listing does
// not grow with the members' keys in the home (find_list_keys, per
// message); without, every secret key (what an import brought).
Result<std::vector<Candidate>> scan_secret_keys(Context& ctx, std::string_view address,
                                                bool by_address = false) {
  gpgme_ctx_t c = ctx.native();
  Deadline deadline(ctx.home(), "secret key listing");
  const std::string pattern = "<" + std::string(address) + ">";
  if (gpgme_error_t err = gpgme_op_keylist_start(c, by_address ? pattern.c_str() : nullptr, 1)) {
    if (deadline.expired()) return Unexpected(deadline.error());
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
      if (iequals(uid->email, address)) {
        cand.has_address = true;
        if (cand.address_uid.empty() && uid->uid) cand.address_uid = uid->uid;
      }
    }
    cand.problem = problem_of(key.h);
    out.push_back(std::move(cand));
  }
  gpgme_op_keylist_end(c);
  if (deadline.expired()) return Unexpected(deadline.error());
  if (gpgme_err_code(err) != GPG_ERR_EOF) {
    return Unexpected(detail::gpgme_failure("secret key listing", err));
  }
  return out;
}

// Sets the context's key listing mode for its lifetime, then restores it.
class KeylistMode {
 public:
  // The members are initialised in their order: the old mode is read
  // before the new one is set.
  KeylistMode(gpgme_ctx_t c, gpgme_keylist_mode_t mode)
      : c_(c), old_(gpgme_get_keylist_mode(c)), err_(gpgme_set_keylist_mode(c, mode)) {}
  KeylistMode(const KeylistMode&) = delete;
  KeylistMode& operator=(const KeylistMode&) = delete;
  ~KeylistMode() { gpgme_set_keylist_mode(c_, old_); }
  gpgme_error_t error() const { return err_; }

 private:
  gpgme_ctx_t c_;
  gpgme_keylist_mode_t old_;
  gpgme_error_t err_;
};

std::string key_id_of(std::string_view fpr) {
  return ascii_upper(fpr.size() >= 16 ? fpr.substr(fpr.size() - 16) : fpr);
}

// The primary key ids (16 hex digits) that made a valid, live
// certification of the user ID for `address` on the key `fpr`. gpg checks
// them (GPGME lists signatures with --check-sigs).
Result<std::vector<std::string>> certifiers_of(Context& ctx, const std::string& fpr,
                                               std::string_view address) {
  gpgme_ctx_t c = ctx.native();
  KeylistMode mode(c, GPGME_KEYLIST_MODE_LOCAL | GPGME_KEYLIST_MODE_SIGS);
  if (mode.error()) return Unexpected(detail::gpgme_failure("signature listing", mode.error()));
  detail::KeyRef key;
  if (gpgme_error_t err = gpgme_get_key(c, fpr.c_str(), &key.h, 0)) {
    return Unexpected(detail::gpgme_failure("signature listing of " + fpr, err));
  }
  std::vector<std::string> out;
  for (gpgme_user_id_t uid = key.h->uids; uid; uid = uid->next) {
    if (!uid->email || !iequals(uid->email, address) || uid->revoked || uid->invalid) continue;
    for (gpgme_key_sig_t sig = uid->signatures; sig; sig = sig->next) {
      if (!sig->keyid || sig->revoked || sig->expired || sig->invalid || sig->status != 0) continue;
      out.push_back(key_id_of(sig->keyid));
    }
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

std::string request_address_of(std::string_view list_address) {
  const std::size_t at = list_address.rfind('@');
  if (at == std::string_view::npos) return std::string(list_address) + "-request";
  return std::string(list_address.substr(0, at)) + "-request" + std::string(list_address.substr(at));
}

namespace {

// The ambiguity error of find_list_keys.
Error ambiguous(const Context& ctx, std::string_view address,
                const std::vector<const Candidate*>& usable) {
  std::vector<std::string> fprs;
  fprs.reserve(usable.size());
  for (const Candidate* c : usable) fprs.push_back(c->facts.fingerprint);
  return Error::permanent(std::to_string(usable.size()) + " usable list keys for " +
                          std::string(address) + " in " + home_of(ctx) + ": " + join(fprs) +
                          "; delete all but one (gpg --homedir " + home_of(ctx) +
                          " --delete-secret-and-public-keys FPR)");
}

// Of several usable keys, the one every other one certified (see
// find_list_keys), or nullptr.
Result<const Candidate*> certified_successor(Context& ctx, std::string_view address,
                                             const std::vector<const Candidate*>& usable) {
  std::vector<const Candidate*> qualified;
  for (const Candidate* c : usable) {
    auto certifiers = certifiers_of(ctx, c->facts.fingerprint, address);
    if (!certifiers) return Unexpected(certifiers.error());
    bool all = true;
    for (const Candidate* other : usable) {
      if (other == c) continue;
      const std::string id = key_id_of(other->facts.fingerprint);
      if (std::find(certifiers->begin(), certifiers->end(), id) == certifiers->end()) all = false;
    }
    if (all) qualified.push_back(c);
  }
  if (qualified.empty()) return static_cast<const Candidate*>(nullptr);
  std::sort(qualified.begin(), qualified.end(), [](const Candidate* x, const Candidate* y) {
    return x->facts.created > y->facts.created;
  });
  if (qualified.size() > 1 && qualified[0]->facts.created == qualified[1]->facts.created) {
    return static_cast<const Candidate*>(nullptr);
  }
  return qualified.front();
}

// find_list_keys on a listing already made.
Result<std::optional<ListKeys>> pick_list_keys(Context& ctx, std::string_view address,
                                               const std::vector<Candidate>& scanned,
                                               const Candidate** current_out = nullptr) {
  std::vector<const Candidate*> usable;
  std::vector<const Candidate*> unusable;
  for (const Candidate& c : scanned) {
    if (!c.has_address) continue;
    (c.problem.empty() ? usable : unusable).push_back(&c);
  }
  const std::string addr(address);
  if (usable.empty()) {
    if (unusable.empty()) return std::optional<ListKeys>();
    std::vector<std::string> why;
    why.reserve(unusable.size());
    for (const Candidate* c : unusable) why.push_back(c->facts.fingerprint + " (" + c->problem + ")");
    return Unexpected(Error::permanent((why.size() == 1 ? "the list key " : "the list keys ") +
                                       join(why) + " for " + addr +
                                       (why.size() == 1 ? " is" : " are") + " not usable"));
  }
  const Candidate* current = usable.front();
  if (usable.size() > 1) {
    auto successor = certified_successor(ctx, address, usable);
    if (!successor) return Unexpected(successor.error());
    if (!*successor) return Unexpected(ambiguous(ctx, address, usable));
    current = *successor;
  }
  ListKeys keys;
  keys.current = current->facts;
  for (const Candidate* c : usable) {
    if (c != current) keys.previous.push_back({c->facts, true});
  }
  for (const Candidate* c : unusable) keys.previous.push_back({c->facts, false});
  std::sort(keys.previous.begin(), keys.previous.end(),
            [](const PreviousListKey& x, const PreviousListKey& y) {
              return x.facts.created > y.facts.created;
            });
  if (current_out) *current_out = current;
  return std::optional<ListKeys>(std::move(keys));
}

}  // namespace

Result<std::optional<ListKeys>> find_list_keys(Context& ctx, std::string_view address) {
  if (!is_plausible_address(address)) {
    return Unexpected(Error::permanent("not a list address: \"" + escape_for_log(address) + "\""));
  }
  if (auto r = make_home_private(ctx.home()); !r) return Unexpected(r.error());
  auto scanned = scan_secret_keys(ctx, address, true);
  if (!scanned) return Unexpected(scanned.error());
  return pick_list_keys(ctx, address, *scanned);
}

Result<std::optional<ListKeys>> find_list_keys_cached(Context& ctx, std::string_view address) {
  HomeCache& cache = ctx.cache();
  const HomeStamp stamp = cache.check(ctx.home());
  const std::time_t now = std::time(nullptr);
  if (std::optional<ListKeys> kept = cache.list_keys(address, now)) {
    cache.count(true);
    return kept;
  }
  cache.count(false);
  auto found = find_list_keys(ctx, address);
  if (found && found->has_value()) cache.keep_list_keys(address, **found, now, stamp);
  return found;
}

Result<std::optional<KeyFacts>> find_list_key(Context& ctx, std::string_view address) {
  auto keys = find_list_keys(ctx, address);
  if (!keys) return Unexpected(keys.error());
  if (!keys->has_value()) return std::optional<KeyFacts>();
  return std::optional<KeyFacts>(std::move((*keys)->current));
}

namespace {

// The user ID's name for a new list key: `name` trimmed, else the local part.
Result<std::string> display_name(std::string_view list_address, std::string_view name) {
  std::string display(trim(name));
  if (display.empty()) display = std::string(list_address.substr(0, list_address.rfind('@')));
  if (has_control_char(display) || display.find_first_of("<>") != std::string::npos ||
      display.size() > 200) {
    return Unexpected(Error::permanent("unusable name for the list key's user ID: \"" +
                                       escape_for_log(display) + "\""));
  }
  return display;
}

// The key `fpr` of the context's home, secret (`secret`) or public.
Result<void> get_key(Context& ctx, const std::string& fpr, bool secret, detail::KeyRef& out) {
  const gpgme_error_t err = gpgme_get_key(ctx.native(), fpr.c_str(), &out.h, secret ? 1 : 0);
  const gpgme_err_code_t code = gpgme_err_code(err);
  if (code == GPG_ERR_EOF || code == GPG_ERR_NO_PUBKEY || code == GPG_ERR_NO_SECKEY ||
      (!err && !out.h)) {
    return Unexpected(Error::permanent("no " + std::string(secret ? "secret " : "") + "key " +
                                       fpr + " in " + home_of(ctx)));
  }
  if (err) return Unexpected(detail::gpgme_failure("key lookup", err));
  return {};
}

// Seconds in `days` days, for gpg's relative expiry.
unsigned long seconds_in(int days) { return static_cast<unsigned long>(days) * 86400UL; }

// Makes the key pair (no checks of what else the home holds): primary key
// with the list's user ID and an expiry, the -request user ID, the
// encryption subkey. A half-made key is deleted again.
Result<std::string> make_key_pair(Context& ctx, std::string_view list_address,
                                  const std::string& display, int lifetime_days) {
  gpgme_ctx_t c = ctx.native();
  const std::string uid = display + " <" + std::string(list_address) + ">";
  const std::string request_uid = display + " <" + request_address_of(list_address) + ">";
  // FORCE: an unusable (revoked, expired) key or the key being replaced
  // may carry the same user ID.
  const unsigned primary_flags =
      GPGME_CREATE_SIGN | GPGME_CREATE_CERT | GPGME_CREATE_NOPASSWD | GPGME_CREATE_FORCE;
  if (gpgme_error_t err = gpgme_op_createkey(c, uid.c_str(), "ed25519", 0,
                                             seconds_in(lifetime_days), nullptr, primary_flags)) {
    return Unexpected(detail::gpgme_failure("creating the list key", err));
  }
  gpgme_genkey_result_t made = gpgme_op_genkey_result(c);
  if (!made || !made->fpr) {
    return Unexpected(Error::temporary("creating the list key: gpg returned no fingerprint"));
  }
  const std::string fpr = ascii_upper(made->fpr);

  detail::KeyRef key;
  gpgme_error_t err = gpgme_get_key(c, fpr.c_str(), &key.h, 1);
  const char* step = "creating the list key's encryption subkey";
  if (!err) {
    err = gpgme_op_createsubkey(c, key.h, "cv25519", 0, 0,
                                GPGME_CREATE_ENCR | GPGME_CREATE_NOPASSWD | GPGME_CREATE_NOEXPIRE);
  }
  if (!err) {
    step = "adding the -request user ID to the list key";
    err = gpgme_op_adduid(c, key.h, request_uid.c_str(), 0);
  }
  if (!err) {
    // The user ID added last would otherwise count as the primary one.
    step = "marking the list's user ID primary";
    err = gpgme_op_set_uid_flag(c, key.h, uid.c_str(), "primary", nullptr);
  }
  if (err) {
    if (key.h) gpgme_op_delete_ext(c, key.h, GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE);
    return Unexpected(detail::gpgme_failure(step, err));
  }
  return fpr;
}

// What both ways of making a list key check first: the address, the
// display name, the lifetime, a private home; the home's keys for the list.
struct NewKeyPlan {
  std::string display;
  std::vector<Candidate> scanned;
};

Result<NewKeyPlan> plan_new_key(Context& ctx, std::string_view list_address, std::string_view name,
                                int lifetime_days) {
  if (!is_plausible_address(list_address)) {
    return Unexpected(
        Error::permanent("not a list address: \"" + escape_for_log(list_address) + "\""));
  }
  auto display = display_name(list_address, name);
  if (!display) return Unexpected(display.error());
  if (lifetime_days < 1) {
    return Unexpected(Error::permanent("a list key must be valid for at least 1 day"));
  }
  if (auto r = make_home_private(ctx.home()); !r) return Unexpected(r.error());
  auto scanned = scan_secret_keys(ctx, list_address);
  if (!scanned) return Unexpected(scanned.error());
  return NewKeyPlan{std::move(*display), std::move(*scanned)};
}

// A fingerprint an admin typed, normalized (upper case, no spaces); refused
// when it is not one.
Result<std::string> checked_fingerprint(std::string_view fingerprint) {
  std::string fpr = normalize_fingerprint(fingerprint);
  if (fpr.empty()) {
    return Unexpected(
        Error::permanent("not a fingerprint: \"" + escape_for_log(fingerprint) + "\""));
  }
  return fpr;
}

}  // namespace

Result<std::string> create_list_key(Context& ctx, std::string_view list_address,
                                    std::string_view name, int lifetime_days) {
  auto plan = plan_new_key(ctx, list_address, name, lifetime_days);
  if (!plan) return Unexpected(plan.error());
  const auto& scanned = plan->scanned;
  const auto& display = plan->display;
  for (const Candidate& c : scanned) {
    if (c.has_address && c.problem.empty()) {
      return Unexpected(Error::permanent("a list key for " + std::string(list_address) +
                                         " already exists: " + c.facts.fingerprint));
    }
  }
  return make_key_pair(ctx, list_address, display, lifetime_days);
}

Result<std::string> create_successor_key(Context& ctx, std::string_view list_address,
                                         std::string_view name, int lifetime_days) {
  auto plan = plan_new_key(ctx, list_address, name, lifetime_days);
  if (!plan) return Unexpected(plan.error());
  const auto& display = plan->display;
  auto keys = pick_list_keys(ctx, list_address, plan->scanned);
  if (!keys) return Unexpected(keys.error());
  if (!keys->has_value()) {
    return Unexpected(Error::permanent("no list key for " + std::string(list_address) + " in " +
                                       home_of(ctx)));
  }
  std::vector<std::string> certifiers{(*keys)->current.fingerprint};
  for (const PreviousListKey& p : (*keys)->previous) {
    if (p.in_grace) certifiers.push_back(p.facts.fingerprint);
  }

  auto fpr = make_key_pair(ctx, list_address, display, lifetime_days);
  if (!fpr) return fpr;
  gpgme_ctx_t c = ctx.native();
  detail::KeyRef successor;
  gpgme_error_t err = gpgme_get_key(c, fpr->c_str(), &successor.h, 0);
  for (std::size_t i = 0; !err && i < certifiers.size(); ++i) {
    detail::KeyRef signer;
    err = gpgme_get_key(c, certifiers[i].c_str(), &signer.h, 1);
    if (err) break;
    gpgme_signers_clear(c);
    err = gpgme_signers_add(c, signer.h);
    // Every user ID (nullptr), exportable, without expiry.
    if (!err) err = gpgme_op_keysign(c, successor.h, nullptr, 0, GPGME_KEYSIGN_NOEXPIRE);
    gpgme_signers_clear(c);
  }
  if (err) {
    detail::KeyRef made;
    if (!gpgme_get_key(c, fpr->c_str(), &made.h, 1)) {
      gpgme_op_delete_ext(c, made.h, GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE);
    }
    return Unexpected(detail::gpgme_failure("certifying the new list key", err));
  }
  return fpr;
}

Result<void> end_grace_in(Context& ctx, std::string_view fingerprint, std::time_t seconds) {
  auto checked = checked_fingerprint(fingerprint);
  if (!checked) return Unexpected(checked.error());
  const std::string& fpr = *checked;
  detail::KeyRef key;
  if (auto r = get_key(ctx, fpr, true, key); !r) return Unexpected(r.error());
  if (seconds < 1) seconds = 1;
  const std::time_t now = std::time(nullptr);
  if (key.h->subkeys && key.h->subkeys->expires > 0 &&
      key.h->subkeys->expires <= now + seconds) {
    return {};  // it ends earlier already
  }
  if (gpgme_error_t err = gpgme_op_setexpire(ctx.native(), key.h,
                                             static_cast<unsigned long>(seconds), nullptr, 0)) {
    return Unexpected(detail::gpgme_failure("setting the end of the grace period", err));
  }
  return {};
}

Result<std::string> extend_list_key(Context& ctx, std::string_view list_address, int days) {
  if (!is_plausible_address(list_address)) {
    return Unexpected(
        Error::permanent("not a list address: \"" + escape_for_log(list_address) + "\""));
  }
  if (days < 1) return Unexpected(Error::permanent("a list key must be valid for at least 1 day"));
  if (auto r = make_home_private(ctx.home()); !r) return Unexpected(r.error());
  auto scanned = scan_secret_keys(ctx, list_address);
  if (!scanned) return Unexpected(scanned.error());
  std::string fpr;
  bool any_usable = false;
  for (const Candidate& c : *scanned) any_usable = any_usable || (c.has_address && c.problem.empty());
  if (any_usable) {
    auto keys = pick_list_keys(ctx, list_address, *scanned);
    if (!keys) return Unexpected(keys.error());
    fpr = (*keys)->current.fingerprint;
  } else {
    std::time_t newest = -1;
    for (const Candidate& c : *scanned) {
      if (c.has_address && c.problem == "expired" && c.facts.created > newest) {
        newest = c.facts.created;
        fpr = c.facts.fingerprint;
      }
    }
  }
  if (fpr.empty()) {
    return Unexpected(Error::permanent("no list key for " + std::string(list_address) + " in " +
                                       home_of(ctx) + " that could be extended"));
  }
  detail::KeyRef key;
  if (auto r = get_key(ctx, fpr, true, key); !r) return Unexpected(r.error());
  gpgme_ctx_t c = ctx.native();
  if (gpgme_error_t err = gpgme_op_setexpire(c, key.h, seconds_in(days), nullptr, 0)) {
    return Unexpected(detail::gpgme_failure("extending the list key", err));
  }
  bool subkey_expires = false;
  for (gpgme_subkey_t s = key.h->subkeys ? key.h->subkeys->next : nullptr; s; s = s->next) {
    if (s->expires > 0 && !s->revoked) subkey_expires = true;
  }
  if (subkey_expires) {
    detail::KeyRef again;
    if (auto r = get_key(ctx, fpr, true, again); !r) return Unexpected(r.error());
    if (gpgme_error_t err = gpgme_op_setexpire(c, again.h, seconds_in(days), "*", 0)) {
      return Unexpected(detail::gpgme_failure("extending the list key's subkeys", err));
    }
  }
  return fpr;
}

Result<bool> add_request_user_id(Context& ctx, std::string_view fingerprint,
                                 std::string_view list_address) {
  auto checked = checked_fingerprint(fingerprint);
  if (!checked) return Unexpected(checked.error());
  const std::string& fpr = *checked;
  detail::KeyRef key;
  if (auto r = get_key(ctx, fpr, true, key); !r) return Unexpected(r.error());
  const std::string request = request_address_of(list_address);
  std::string list_uid;
  std::string name;
  for (gpgme_user_id_t uid = key.h->uids; uid; uid = uid->next) {
    if (!uid->email || uid->revoked || uid->invalid) continue;
    if (iequals(uid->email, request)) return false;
    if (iequals(uid->email, list_address) && list_uid.empty() && uid->uid) {
      list_uid = uid->uid;
      name = uid->name ? std::string(trim(uid->name)) : std::string();
    }
  }
  if (list_uid.empty()) {
    return Unexpected(Error::permanent("key " + fpr + " has no user ID with the address " +
                                       std::string(list_address)));
  }
  auto display = display_name(list_address, name);
  if (!display) display = display_name(list_address, "");
  if (!display) return Unexpected(display.error());
  gpgme_ctx_t c = ctx.native();
  const std::string request_uid = *display + " <" + request + ">";
  if (gpgme_error_t err = gpgme_op_adduid(c, key.h, request_uid.c_str(), 0)) {
    return Unexpected(detail::gpgme_failure("adding the -request user ID to the list key", err));
  }
  detail::KeyRef again;
  if (auto r = get_key(ctx, fpr, true, again); !r) return Unexpected(r.error());
  if (gpgme_error_t err = gpgme_op_set_uid_flag(c, again.h, list_uid.c_str(), "primary", nullptr)) {
    return Unexpected(detail::gpgme_failure("marking the list's user ID primary", err));
  }
  return true;
}

Result<void> retire_list_key(Context& ctx, std::string_view list_address,
                             std::string_view fingerprint) {
  auto checked = checked_fingerprint(fingerprint);
  if (!checked) return Unexpected(checked.error());
  const std::string& fpr = *checked;
  auto keys = find_list_keys(ctx, list_address);
  if (!keys) return Unexpected(keys.error());
  const std::string addr(list_address);
  if (!keys->has_value()) {
    return Unexpected(Error::permanent(fpr + " is not a key of " + addr + " (it has none)"));
  }
  if ((*keys)->current.fingerprint == fpr) {
    return Unexpected(Error::permanent(fpr + " is the current key of " + addr +
                                       ": rotate first (tlpmailctl rotate-list-key " + addr +
                                       ")"));
  }
  bool found = false;
  std::vector<std::string> all{(*keys)->current.fingerprint};
  for (const PreviousListKey& p : (*keys)->previous) {
    all.push_back(p.facts.fingerprint);
    found = found || p.facts.fingerprint == fpr;
  }
  if (!found) {
    return Unexpected(
        Error::permanent(fpr + " is not a key of " + addr + " (its keys: " + join(all) + ")"));
  }
  detail::KeyRef key;
  if (auto r = get_key(ctx, fpr, true, key); !r) return Unexpected(r.error());
  if (gpgme_error_t err = gpgme_op_delete_ext(ctx.native(), key.h,
                                              GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE)) {
    return Unexpected(detail::gpgme_failure("deleting the list key " + fpr, err));
  }
  return {};
}

Result<std::string> export_key(Context& ctx, std::string_view fingerprint, KeyExport how,
                               bool armor) {
  auto checked = checked_fingerprint(fingerprint);
  if (!checked) return Unexpected(checked.error());
  const std::string& fpr = *checked;
  auto found = ctx.find_key(fpr);
  if (!found) return Unexpected(found.error());
  if (!found->has_value()) {
    return Unexpected(Error::permanent("no key " + fpr + " in " + home_of(ctx)));
  }
  gpgme_export_mode_t mode = 0;
  if (how == KeyExport::public_minimal) mode = GPGME_EXPORT_MODE_MINIMAL;
  if (how == KeyExport::secret) mode = GPGME_EXPORT_MODE_SECRET;
  detail::OutputData out;
  if (auto r = out.open(); !r) return Unexpected(r.error());
  gpgme_ctx_t c = ctx.native();
  const int old_armor = gpgme_get_armor(c);
  gpgme_set_armor(c, armor ? 1 : 0);
  Deadline deadline(ctx.home(), "key export");
  const gpgme_error_t err = gpgme_op_export(c, fpr.c_str(), mode, out.get());
  gpgme_set_armor(c, old_armor);
  if (deadline.expired()) return Unexpected(deadline.error());
  if (err) return Unexpected(detail::gpgme_failure("export", err));
  std::string data = out.take();
  if (data.empty()) return Unexpected(Error::temporary("export: gpg wrote nothing for " + fpr));
  return data;
}

Result<ListKeyLock> ListKeyLock::acquire(const std::filesystem::path& home) {
  const std::filesystem::path file = home / "tlpmail-list-keys.lock";
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EACCES) fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Unexpected(
        Error::temporary("cannot open " + file.string() + ": " + std::strerror(errno)));
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int e = errno;
    ::close(fd);
    return Unexpected(Error::temporary("cannot lock " + file.string() + ": " + std::strerror(e)));
  }
  return ListKeyLock(fd);
}

ListKeyLock::~ListKeyLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> export_public(Context& ctx, std::string_view fingerprint) {
  auto checked = checked_fingerprint(fingerprint);
  if (!checked) return Unexpected(checked.error());
  const std::string& fpr = *checked;
  auto found = ctx.find_key(fpr);
  if (!found) return Unexpected(found.error());
  if (!found->has_value()) {
    return Unexpected(Error::permanent("no key " + fpr + " in " + home_of(ctx)));
  }
  detail::OutputData out;
  if (auto r = out.open(); !r) return Unexpected(r.error());
  gpgme_ctx_t c = ctx.native();
  gpgme_set_armor(c, 1);
  Deadline deadline(ctx.home(), "key export");
  const gpgme_error_t err = gpgme_op_export(c, fpr.c_str(), GPGME_EXPORT_MODE_MINIMAL, out.get());
  gpgme_set_armor(c, 0);
  if (deadline.expired()) return Unexpected(deadline.error());
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

  auto read = read_small_file(file, Context::kMaxKeyFileSize);
  if (!read) return Unexpected(Error::permanent(prefix + read.error().message));
  const std::string& data = *read;

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

Error list_key_not_found(std::string_view address) {
  return Error::temporary("gpg found no usable list key for " + std::string(address) +
                          " (the key was there at the last load: gpg-agent may have died or "
                          "not answered; tried again later)");
}

}  // namespace tlpmail::openpgp
