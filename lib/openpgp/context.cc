// GPGME adapter: initialize(), Context (import, key listing) and the
// conversion of gpgme_key_t into KeyFacts. Every GPGME error becomes a
// tlpmail::Error (temporary, with gpgme_strerror_r's text) at this file's
// boundary; no gpgme_* value escapes it.
#include "openpgp/context.h"

#include <gpgme.h>
#include <sys/stat.h>

#include <cerrno>
#include <clocale>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>

#include "openpgp/deadline.h"
#include "openpgp/gpgme_util.h"
#include "openpgp/home_cache.h"
#include "util/files.h"
#include "util/text.h"

namespace tlpmail::openpgp {

namespace {

using detail::gpgme_failure;
using detail::gpgme_text;

std::string c_str_or_empty(const char* s) { return s ? std::string(s) : std::string(); }

AlgoFamily family_of(gpgme_pubkey_algo_t algo) {
  switch (algo) {
    case GPGME_PK_RSA:
    case GPGME_PK_RSA_E:
    case GPGME_PK_RSA_S:
      return AlgoFamily::rsa;
    case GPGME_PK_DSA:
      return AlgoFamily::dsa;
    case GPGME_PK_ELG:
    case GPGME_PK_ELG_E:
      return AlgoFamily::elgamal;
    case GPGME_PK_ECDSA:
      return AlgoFamily::ecdsa;
    case GPGME_PK_EDDSA:
      return AlgoFamily::eddsa;
    case GPGME_PK_ECDH:
      return AlgoFamily::ecdh;
    default:
      return AlgoFamily::other;
  }
}

SubkeyFacts subkey_facts(gpgme_subkey_t sub, bool primary) {
  SubkeyFacts f;
  f.fingerprint = ascii_upper(c_str_or_empty(sub->fpr));
  if (char* name = gpgme_pubkey_algo_string(sub)) {
    f.algorithm = name;
    gpgme_free(name);
  } else {
    f.algorithm = "unknown";
  }
  f.family = family_of(sub->pubkey_algo);
  f.bits = sub->length;
  f.created = static_cast<std::time_t>(sub->timestamp);
  f.expires = static_cast<std::time_t>(sub->expires);
  f.is_primary = primary;
  f.revoked = sub->revoked;
  f.expired = sub->expired;
  f.disabled = sub->disabled;
  f.invalid = sub->invalid;
  f.can_sign = sub->can_sign;
  f.can_encrypt = sub->can_encrypt;
  f.can_certify = sub->can_certify;
  return f;
}

KeyFacts key_facts(gpgme_key_t key) {
  KeyFacts k;
  bool primary = true;
  for (gpgme_subkey_t sub = key->subkeys; sub; sub = sub->next) {
    k.subkeys.push_back(subkey_facts(sub, primary));
    if (!primary) k.subkey_fingerprints.push_back(k.subkeys.back().fingerprint);
    primary = false;
  }
  if (!k.subkeys.empty()) {
    const SubkeyFacts& p = k.subkeys.front();
    k.fingerprint = p.fingerprint;
    k.algorithm = p.algorithm;
    k.family = p.family;
    k.bits = p.bits;
    k.created = p.created;
    k.expires = p.expires;
  }
  k.revoked = key->revoked;
  k.expired = key->expired;
  k.disabled = key->disabled;
  k.invalid = key->invalid;
  k.has_secret = key->secret;
  for (gpgme_user_id_t uid = key->uids; uid; uid = uid->next) {
    k.user_ids.push_back(c_str_or_empty(uid->uid));
  }
  // gpg's view at listing time: the primary and the subkey both usable.
  const bool primary_ok = !k.subkeys.empty() && !k.revoked && !k.expired && !k.invalid &&
                          !k.disabled && !k.subkeys.front().expired;
  for (const SubkeyFacts& s : k.subkeys) {
    const bool live = !s.revoked && !s.expired && !s.invalid && !s.disabled;
    if (primary_ok && live && s.can_sign) k.has_usable_signing_key = true;
    if (primary_ok && live && s.can_encrypt) k.has_usable_encryption_key = true;
  }
  return k;
}

// gpgme_data_t and gpgme_key_t owners for early returns.
struct DataHandle {
  gpgme_data_t h = nullptr;
  ~DataHandle() {
    if (h) gpgme_data_release(h);
  }
};

struct KeyHandle {
  gpgme_key_t h = nullptr;
  ~KeyHandle() {
    if (h) gpgme_key_unref(h);
  }
};

}  // namespace

// For the other files of lib/openpgp (declared in gpgme_util.h).
KeyFacts detail::to_key_facts(gpgme_key_t key) { return key_facts(key); }

Result<void> initialize() {
  static std::once_flag once;
  static Result<void> result;
  std::call_once(once, [] {
    if (!gpgme_check_version(nullptr)) {
      result = Unexpected(Error::temporary("GPGME failed to initialize"));
      return;
    }
    gpgme_set_locale(nullptr, LC_CTYPE, std::setlocale(LC_CTYPE, nullptr));
#ifdef LC_MESSAGES
    gpgme_set_locale(nullptr, LC_MESSAGES, std::setlocale(LC_MESSAGES, nullptr));
#endif
    if (gpgme_error_t err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP)) {
      result = Unexpected(gpgme_failure("GnuPG (gpg) is not usable", err));
    }
  });
  return result;
}

Result<std::filesystem::path> check_home_path(const std::filesystem::path& home) {
  if (home.empty()) return Unexpected(Error::permanent("GnuPG home is empty"));
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(home, ec);
  if (ec) {
    return Unexpected(Error::permanent("GnuPG home " + home.string() + ": " + ec.message()));
  }
  abs = abs.lexically_normal();
  std::string s = abs.string();
  if (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s.size() > kMaxHomeLength) {
    return Unexpected(Error::permanent(
        "GnuPG home " + s + " is " + std::to_string(s.size()) + " bytes long; at most " +
        std::to_string(kMaxHomeLength) + " are supported (gpg-agent's socket paths)"));
  }
  return std::filesystem::path(s);
}

Result<Context> Context::open(const std::filesystem::path& home) {
  if (auto init = initialize(); !init) return Unexpected(init.error());
  auto checked = check_home_path(home);
  if (!checked) return Unexpected(checked.error());
  const std::filesystem::path path = *checked;

  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return Unexpected(Error::permanent("GnuPG home " + path.string() +
                                       ": cannot create: " + std::strerror(errno)));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    return Unexpected(Error::permanent("GnuPG home " + path.string() + " is not a folder"));
  }

  gpgme_ctx_t ctx = nullptr;
  if (gpgme_error_t err = gpgme_new(&ctx)) return Unexpected(gpgme_failure("gpgme_new", err));
  Context c(ctx, path);  // owns ctx from here on
  if (gpgme_error_t err = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) {
    return Unexpected(gpgme_failure("gpgme_set_protocol", err));
  }
  if (gpgme_error_t err =
          gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, nullptr, path.c_str())) {
    return Unexpected(gpgme_failure("gpgme_ctx_set_engine_info", err));
  }
  gpgme_set_offline(ctx, 1);
  if (gpgme_error_t err = gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK)) {
    return Unexpected(gpgme_failure("gpgme_set_pinentry_mode", err));
  }
  if (gpgme_error_t err = gpgme_set_keylist_mode(
          ctx, GPGME_KEYLIST_MODE_LOCAL | GPGME_KEYLIST_MODE_WITH_SECRET)) {
    return Unexpected(gpgme_failure("gpgme_set_keylist_mode", err));
  }
  return c;
}

Context::Context(gpgme_context* ctx, std::filesystem::path home)
    : ctx_(ctx), home_(std::move(home)), cache_(HomeCache::for_home(home_)) {}

Context::Context(Context&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)),
      home_(std::move(other.home_)),
      cache_(std::move(other.cache_)) {}

Context& Context::operator=(Context&& other) noexcept {
  if (this != &other) {
    if (ctx_) gpgme_release(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    home_ = std::move(other.home_);
    cache_ = std::move(other.cache_);
  }
  return *this;
}

Context::~Context() {
  if (ctx_) gpgme_release(ctx_);
}

Result<ImportResult> Context::import_data(std::string_view data) {
  DataHandle in;
  if (gpgme_error_t err = gpgme_data_new_from_mem(&in.h, data.data(), data.size(), 0)) {
    return Unexpected(gpgme_failure("gpgme_data_new_from_mem", err));
  }
  // gpg's import slows down with the keys a home holds (each key is looked
  // up before it is stored: 10,000 keys took 4 minutes, 2,000 took 13 s),
  // so one second per 16 KiB of key data (about 35 ed25519 keys) on top.
  Deadline deadline(home_, "key import",
                    std::chrono::seconds(static_cast<std::int64_t>(data.size() / 16384)));
  gpgme_error_t err = gpgme_op_import(ctx_, in.h);
  if (deadline.expired()) return Unexpected(deadline.error());
  gpgme_import_result_t r = gpgme_op_import_result(ctx_);
  if (err) {
    if (gpgme_err_code(err) == GPG_ERR_NO_DATA) {
      return Unexpected(Error::permanent("no OpenPGP key found"));
    }
    return Unexpected(gpgme_failure("import", err));
  }
  if (!r) return Unexpected(Error::temporary("import: GPGME returned no result"));

  ImportResult out;
  out.considered = r->considered;
  out.imported = r->imported;
  out.unchanged = r->unchanged;
  out.not_imported = r->not_imported;
  out.new_sub_keys = r->new_sub_keys;
  out.new_revocations = r->new_revocations;
  out.secret_read = r->secret_read;
  out.secret_imported = r->secret_imported;
  std::set<std::string> seen;
  for (gpgme_import_status_t s = r->imports; s; s = s->next) {
    std::string fpr = ascii_upper(c_str_or_empty(s->fpr));
    if (s->result != 0) {
      out.problems.push_back(fpr.empty() ? gpgme_text(s->result)
                                         : fpr + ": " + gpgme_text(s->result));
      continue;
    }
    if (!fpr.empty() && seen.insert(fpr).second) out.fingerprints.push_back(fpr);
  }
  if (out.considered == 0 && out.fingerprints.empty() && out.problems.empty()) {
    return Unexpected(Error::permanent("no OpenPGP key found"));
  }
  return out;
}

Result<ImportResult> Context::import_file(const std::filesystem::path& file) {
  auto data = read_small_file(file, kMaxKeyFileSize);
  if (!data) return Unexpected(data.error());
  return import_data(*data);
}

Result<void> Context::keep_only_self_signatures() {
  // gpg leaves self-signatures out of drop-sig; the condition holds for
  // every other signature (every signature has a creation date).
  if (gpgme_error_t err = gpgme_set_ctx_flag(ctx_, "import-filter", "drop-sig=sig_created_d -n")) {
    return Unexpected(gpgme_failure("import filter", err));
  }
  return {};
}

Result<std::vector<KeyFacts>> Context::run_keylist(const std::vector<std::string>* patterns) {
  Deadline deadline(home_, "key listing", extra_for(patterns ? patterns->size() : 0, 0));
  gpgme_error_t err = 0;
  std::vector<const char*> argv;
  if (patterns) {
    for (const std::string& p : *patterns) argv.push_back(p.c_str());
    argv.push_back(nullptr);
    err = gpgme_op_keylist_ext_start(ctx_, argv.data(), 0, 0);
  } else {
    err = gpgme_op_keylist_start(ctx_, nullptr, 0);
  }
  if (err) return Unexpected(gpgme_failure("key listing", err));

  std::vector<KeyFacts> keys;
  for (;;) {
    KeyHandle key;
    err = gpgme_op_keylist_next(ctx_, &key.h);
    if (err) break;
    keys.push_back(key_facts(key.h));
  }
  if (deadline.expired()) {
    gpgme_op_keylist_end(ctx_);
    return Unexpected(deadline.error());
  }
  if (gpgme_err_code(err) != GPG_ERR_EOF) {
    gpgme_op_keylist_end(ctx_);
    return Unexpected(gpgme_failure("key listing", err));
  }
  if (gpgme_error_t end = gpgme_op_keylist_end(ctx_)) {
    return Unexpected(gpgme_failure("key listing", end));
  }
  return keys;
}

Result<std::vector<KeyFacts>> Context::list_keys() { return run_keylist(nullptr); }

Result<std::vector<KeyFacts>> Context::list_keys(const std::vector<std::string>& fingerprints) {
  std::vector<std::string> wanted;
  for (const std::string& f : fingerprints) {
    std::string n = normalize_fingerprint(f);
    if (!n.empty()) wanted.push_back(n);
  }
  if (wanted.empty()) return std::vector<KeyFacts>{};
  // gpg matches a fingerprint pattern against subkeys too; keep primaries.
  std::vector<std::string> patterns;
  patterns.reserve(wanted.size());
  for (const std::string& w : wanted) patterns.push_back("0x" + w);
  auto listed = run_keylist(&patterns);
  if (!listed) return listed;
  std::set<std::string> want(wanted.begin(), wanted.end());
  std::set<std::string> seen;
  std::vector<KeyFacts> out;
  for (KeyFacts& k : *listed) {
    if (want.count(k.fingerprint) && seen.insert(k.fingerprint).second) {
      out.push_back(std::move(k));
    }
  }
  return out;
}

Result<std::optional<KeyFacts>> Context::find_key(std::string_view fingerprint) {
  auto listed = list_keys(std::vector<std::string>{std::string(fingerprint)});
  if (!listed) return Unexpected(listed.error());
  if (listed->empty()) return std::optional<KeyFacts>{};
  return std::optional<KeyFacts>(std::move(listed->front()));
}

std::string normalize_fingerprint(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ') continue;
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return {};
    out.push_back(c);
  }
  if (out.size() != 40) return {};
  return ascii_upper(out);
}

Result<Context*> thread_context(const std::filesystem::path& home) {
  thread_local std::optional<Context> ctx;
  if (!ctx || ctx->home() != home) {
    ctx.reset();
    auto opened = Context::open(home);
    if (!opened) return Unexpected(opened.error());
    ctx.emplace(std::move(*opened));
  }
  return &*ctx;
}

}  // namespace tlpmail::openpgp
