// A thin RAII wrapper over GPGME's C API for OpenPGP: library start-up,
// one Context per GnuPG home and thread, key import and key listing.
// GPGME types stay inside lib/openpgp; callers see KeyFacts and Result.
// Not here: signing, encryption and decryption (later), policy decisions
// about keys (lib/keyring), temporary homes (temp_home.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "openpgp/key_facts.h"
#include "util/result.h"

struct gpgme_context;  // GPGME's context type, kept opaque here

namespace tlpmail::openpgp {

class HomeCache;  // home_cache.h

// Starts GPGME: gpgme_check_version, the locale GPGME passes to gpg
// (LC_CTYPE and LC_MESSAGES as the process has them; this does not call
// setlocale(LC_ALL, "") for the process) and a check that the OpenPGP
// engine (gpg) is installed. Call it once in main() before any thread
// starts. Later calls are cheap and return the first call's result.
// Errors: temporary, naming what is missing (no gpg, old GPGME).
Result<void> initialize();

// gpg-agent puts its sockets inside the GnuPG home when the system has no
// /run/user/UID; a socket path is limited to 107 bytes, and GnuPG fails
// with a bare "General error" past that. Homes are therefore limited to
// this many bytes (absolute path), which leaves room for the socket names.
inline constexpr std::size_t kMaxHomeLength = 80;

// Makes `home` absolute and checks its length. Errors: permanent, e.g.
// "GnuPG home /very/long/... is 93 bytes long; at most 80 are supported
// (gpg-agent's socket paths)".
Result<std::filesystem::path> check_home_path(const std::filesystem::path& home);

// What one import did. `fingerprints` lists the primary fingerprints of
// every key gpg accepted from the data (new, updated or unchanged), each
// once, in the order gpg reported them. Keys gpg refused are in `problems`.
struct ImportResult {
  std::vector<std::string> fingerprints;
  int considered = 0;       // keys gpg found in the data
  int imported = 0;         // new keys
  int unchanged = 0;        // already present, nothing new
  int not_imported = 0;     // refused by gpg
  int new_sub_keys = 0;
  int new_revocations = 0;
  int secret_read = 0;      // secret keys found in the data
  int secret_imported = 0;
  std::vector<std::string> problems;  // "FPR: reason" or "reason"
};

// One GPGME context for OpenPGP bound to one GnuPG home. The home is set
// on this context only (gpgme_ctx_set_engine_info), never through the
// process-wide GNUPGHOME. The context runs offline (no keyserver, WKD or
// CRL lookups) and never asks for a passphrase (pinentry loopback without
// a callback: a protected key fails instead of hanging).
//
// Thread safety: a Context is used by one thread at a time; give each
// worker thread its own. Several Contexts may share a home (gpg locks its
// keyring files). Every operation spawns a gpg process (about 6-7 ms), so
// prefer one list_keys() over many find_key() calls.
class Context {
 public:
  // Opens a context on `home`. A missing home is created with mode 0700
  // (its parent must exist). Errors: permanent when the path is too long
  // (check_home_path) or not a folder; temporary when GPGME fails.
  static Result<Context> open(const std::filesystem::path& home);

  Context(Context&& other) noexcept;
  Context& operator=(Context&& other) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();

  const std::filesystem::path& home() const { return home_; }

  // Imports every key (public, secret, revocation certificate) in `data`,
  // armored or binary. Data in which gpg finds no OpenPGP key at all is an
  // error: permanent "no OpenPGP key found". GPGME failures: temporary,
  // with gpgme_strerror's text.
  Result<ImportResult> import_data(std::string_view data);

  // Reads `file` (at most kMaxKeyFileSize bytes) and imports it as
  // import_data does. An unreadable or oversized file: permanent.
  Result<ImportResult> import_file(const std::filesystem::path& file);
  static constexpr std::uintmax_t kMaxKeyFileSize = std::uintmax_t{16} * 1024 * 1024;

  // From this call on, every import through this context keeps only
  // self-signatures on user IDs: a certification made by any other key is
  // dropped before gpg stores the key (gpg --import-filter drop-sig, which
  // does what --import-options self-sigs-only does for user IDs; GPGME
  // 1.18 cannot pass import options). Against key flooding: third-party
  // certifications grant nothing here and only make a key larger. Cannot
  // be undone on this context. Errors: temporary when GPGME lacks the flag
  // (before 1.14).
  Result<void> keep_only_self_signatures();

  // Every public key in the home, in one gpg run.
  Result<std::vector<KeyFacts>> list_keys();

  // The public keys whose primary fingerprint is one of `fingerprints`
  // (40 hex digits, any case), in one gpg run. Fingerprints that match no
  // key's primary fingerprint are simply absent from the result (a subkey
  // fingerprint does not select its key here).
  Result<std::vector<KeyFacts>> list_keys(const std::vector<std::string>& fingerprints);

  // The key whose primary fingerprint is `fingerprint`, or nullopt.
  Result<std::optional<KeyFacts>> find_key(std::string_view fingerprint);

  // For the other adapter files of lib/openpgp only.
  gpgme_context* native() { return ctx_; }

  // What the process remembers of this context's home between messages
  // (list keys, Autocrypt data, signing keys; shared by every context on
  // the home; see home_cache.h). Not on a context moved from.
  HomeCache& cache() { return *cache_; }

 private:
  Context(gpgme_context* ctx, std::filesystem::path home);
  Result<std::vector<KeyFacts>> run_keylist(const std::vector<std::string>* patterns);

  gpgme_context* ctx_ = nullptr;
  std::filesystem::path home_;
  std::shared_ptr<HomeCache> cache_;
};

// Upper-case hex of a 40-digit fingerprint with spaces removed, or an
// empty string when `s` is not 40 hex digits (spaces allowed anywhere).
std::string normalize_fingerprint(std::string_view s);

// The calling thread's own Context on `home`, made on first use and kept
// for the thread's life (made anew when asked for another home). For
// worker pools: one Context per thread, never shared. Errors: as open().
Result<Context*> thread_context(const std::filesystem::path& home);

}  // namespace tlpmail::openpgp
