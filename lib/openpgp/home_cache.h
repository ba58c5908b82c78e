// What the process remembers of a GnuPG home between messages, so that the
// per-message paths (intake's check that a posting is meant for the list,
// the fan-out) do not start a gpg run for facts that rarely change: the
// list keys found for an address, the Autocrypt key data of a list key and
// the GPGME handle of a signing key. One cache per home, shared by every
// Context on it (each thread has its own Context: thread_context), so a
// fact listed by one thread serves all. Not here: the members' public keys
// (KeyHandles, listed once per load) and anything about a message.
#pragma once

#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "openpgp/list_key.h"

// GPGME's key type (gpgme_key_t is a pointer to it), declared so that
// gpgme.h stays out of this header.
struct _gpgme_key;  // NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)

namespace tlpmail::openpgp {

// The key files of a home as stat() sees them: pubring.kbx, pubring.gpg,
// public-keys.d/pubring.db (keyboxd's, GnuPG 2.4; size, inode,
// modification time) and private-keys-v1.d (modification
// time, which a key file added or removed changes). Every writer of keys
// changes one of them: an import, tlpmailctl's rotation, extension and
// retirement (which import a snapshot whole), a reload.
struct HomeStamp {
  struct Entry {
    bool exists = false;
    std::uint64_t inode = 0;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const Entry&) const = default;
  };
  Entry pubring_kbx, pubring_gpg, keyboxd, private_keys;
  bool operator==(const HomeStamp&) const = default;

  static HomeStamp of(const std::filesystem::path& home);
};

// The cache itself, one per home (for_home). An entry is used only
// - while the home's stamp is the one it was made under,
// - for at most kLifetime seconds (a backstop: every change of the keys
//   changes the stamp), and only while the clock has not gone back behind
//   the moment it was made,
// - and not at or past the earliest expiry among the keys it holds: gpg
//   judges "usable" at the time of the listing, so a key that expires
//   (the end of a rotation's grace) is listed again then.
// Anything else that can change a key's state (gpg-agent losing a secret
// key, say) is caught by gpg itself at the next signing or decryption.
// Thread-safe: every member function takes the cache's lock, and lookups
// return copies (or a handle the caller owns).
class HomeCache {
 public:
  static constexpr std::time_t kLifetime = 3600;

  HomeCache();
  ~HomeCache();
  HomeCache(const HomeCache&) = delete;
  HomeCache& operator=(const HomeCache&) = delete;

  // The one cache of `home` (by its path as given, lexically normalised),
  // made on first use; it lives while a Context holds it.
  static std::shared_ptr<HomeCache> for_home(const std::filesystem::path& home);

  // Forgets everything if the home's stamp is not the one the entries were
  // made under; to be called before each lookup. Returns the stamp, which
  // the keep_ functions are given: what was listed after it is kept only
  // while it is still the home's stamp (another thread may have seen the
  // keys change meanwhile).
  HomeStamp check(const std::filesystem::path& home);

  std::optional<ListKeys> list_keys(std::string_view address, std::time_t now) const;
  void keep_list_keys(std::string_view address, const ListKeys& keys, std::time_t now,
                      const HomeStamp& listed_under);

  std::optional<std::string> autocrypt(const std::string& fingerprint, std::string_view address,
                                       std::time_t now) const;
  void keep_autocrypt(const std::string& fingerprint, std::string_view address, std::string data,
                      std::time_t valid_until, std::time_t now, const HomeStamp& listed_under);

  // A reference the caller owns (gpgme_key_ref'd), or nullptr.
  _gpgme_key* signer(const std::string& fingerprint, std::time_t now) const;
  void keep_signer(const std::string& fingerprint, _gpgme_key* key, std::time_t now,
                   const HomeStamp& listed_under);

  // Lookups answered from the cache and lookups that went to gpg since the
  // cache was made (for tests and the debug log).
  std::size_t hits() const;
  std::size_t misses() const;
  void count(bool hit) const;

 private:
  template <typename T>
  struct Kept {
    T value;
    std::time_t made = 0;
    std::time_t until = 0;  // exclusive
  };
  template <typename T>
  static const T* fresh(const std::map<std::string, Kept<T>>& m, const std::string& k,
                        std::time_t now);

  mutable std::mutex mu_;
  std::optional<HomeStamp> stamp_;
  std::map<std::string, Kept<ListKeys>> list_keys_;     // by lower-case address
  std::map<std::string, Kept<std::string>> autocrypt_;  // by fingerprint + " " + address
  std::map<std::string, Kept<std::shared_ptr<_gpgme_key>>> signers_;  // by fingerprint
  mutable std::size_t hits_ = 0, misses_ = 0;
};

// The earliest expiry after `now` of `key`'s primary key and subkeys, or
// `fallback` when none expires after `now`.
std::time_t earliest_expiry(const KeyFacts& key, std::time_t now, std::time_t fallback);

}  // namespace tlpmail::openpgp
