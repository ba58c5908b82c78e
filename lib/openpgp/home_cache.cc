// HomeCache: per-home memory of list keys, Autocrypt data and signing key
// handles, shared by the home's Contexts, checked against the home's key
// files and the clock.
#include "openpgp/home_cache.h"

#include <gpgme.h>
#include <sys/stat.h>

#include <algorithm>

#include "util/text.h"

namespace tlpmail::openpgp {

namespace {

HomeStamp::Entry stat_entry(const std::filesystem::path& p) {
  struct stat st {};
  HomeStamp::Entry e;
  if (::stat(p.c_str(), &st) != 0) return e;
  e.exists = true;
  e.inode = static_cast<std::uint64_t>(st.st_ino);
  e.size = static_cast<std::int64_t>(st.st_size);
  e.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return e;
}

}  // namespace

HomeStamp HomeStamp::of(const std::filesystem::path& home) {
  HomeStamp s;
  s.pubring_kbx = stat_entry(home / "pubring.kbx");
  s.pubring_gpg = stat_entry(home / "pubring.gpg");
  s.keyboxd = stat_entry(home / "public-keys.d" / "pubring.db");  // GnuPG 2.4's keyboxd
  s.private_keys = stat_entry(home / "private-keys-v1.d");
  s.private_keys.size = 0;  // a folder's size says nothing stable
  return s;
}

std::time_t earliest_expiry(const KeyFacts& key, std::time_t now, std::time_t fallback) {
  std::time_t out = fallback;
  if (key.expires > now) out = std::min(out, key.expires);
  for (const SubkeyFacts& s : key.subkeys) {
    if (s.expires > now) out = std::min(out, s.expires);
  }
  return out;
}

HomeCache::HomeCache() = default;
HomeCache::~HomeCache() = default;

std::shared_ptr<HomeCache> HomeCache::for_home(const std::filesystem::path& home) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<HomeCache>> caches;
  std::lock_guard lock(mu);
  std::erase_if(caches, [](const auto& entry) { return entry.second.expired(); });
  std::weak_ptr<HomeCache>& slot = caches[home.lexically_normal().string()];
  std::shared_ptr<HomeCache> cache = slot.lock();
  if (!cache) {
    cache = std::make_shared<HomeCache>();
    slot = cache;
  }
  return cache;
}

std::size_t HomeCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

std::size_t HomeCache::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

void HomeCache::count(bool hit) const {
  std::lock_guard lock(mu_);
  (hit ? hits_ : misses_)++;
}

HomeStamp HomeCache::check(const std::filesystem::path& home) {
  // Stat under the lock: a thread with an older view cannot put it back.
  std::lock_guard lock(mu_);
  HomeStamp s = HomeStamp::of(home);
  if (stamp_ && *stamp_ == s) return s;
  list_keys_.clear();
  autocrypt_.clear();
  signers_.clear();
  stamp_ = s;
  return s;
}

template <typename T>
const T* HomeCache::fresh(const std::map<std::string, Kept<T>>& m, const std::string& k,
                          std::time_t now) {
  auto it = m.find(k);
  if (it == m.end()) return nullptr;
  const Kept<T>& e = it->second;
  if (now < e.made || now >= e.until || now >= e.made + kLifetime) return nullptr;
  return &e.value;
}

std::optional<ListKeys> HomeCache::list_keys(std::string_view address, std::time_t now) const {
  std::lock_guard lock(mu_);
  const ListKeys* kept = fresh(list_keys_, ascii_lower(address), now);
  return kept ? std::optional<ListKeys>(*kept) : std::nullopt;
}

void HomeCache::keep_list_keys(std::string_view address, const ListKeys& keys, std::time_t now,
                               const HomeStamp& listed_under) {
  std::lock_guard lock(mu_);
  if (stamp_ != listed_under) return;
  std::time_t until = earliest_expiry(keys.current, now, now + kLifetime);
  for (const PreviousListKey& p : keys.previous) until = earliest_expiry(p.facts, now, until);
  list_keys_[ascii_lower(address)] = {keys, now, until};
}

std::optional<std::string> HomeCache::autocrypt(const std::string& fingerprint,
                                                std::string_view address, std::time_t now) const {
  std::lock_guard lock(mu_);
  const std::string* kept = fresh(autocrypt_, fingerprint + " " + ascii_lower(address), now);
  return kept ? std::optional<std::string>(*kept) : std::nullopt;
}

void HomeCache::keep_autocrypt(const std::string& fingerprint, std::string_view address,
                               std::string data, std::time_t valid_until, std::time_t now,
                               const HomeStamp& listed_under) {
  std::lock_guard lock(mu_);
  if (stamp_ != listed_under) return;
  autocrypt_[fingerprint + " " + ascii_lower(address)] = {std::move(data), now,
                                                          std::min(valid_until, now + kLifetime)};
}

gpgme_key_t HomeCache::signer(const std::string& fingerprint, std::time_t now) const {
  std::lock_guard lock(mu_);
  const std::shared_ptr<_gpgme_key>* k = fresh(signers_, fingerprint, now);
  if (!k) return nullptr;
  gpgme_key_ref(k->get());
  return k->get();
}

void HomeCache::keep_signer(const std::string& fingerprint, gpgme_key_t key, std::time_t now,
                            const HomeStamp& listed_under) {
  if (!key) return;
  std::time_t until = now + kLifetime;
  for (gpgme_subkey_t sk = key->subkeys; sk; sk = sk->next) {
    if (sk->expires > now) until = std::min(until, static_cast<std::time_t>(sk->expires));
  }
  std::lock_guard lock(mu_);
  if (stamp_ != listed_under) return;
  gpgme_key_ref(key);
  signers_[fingerprint] = {std::shared_ptr<_gpgme_key>(key, gpgme_key_unref), now, until};
}

}  // namespace tlpmail::openpgp
