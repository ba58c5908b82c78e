// What tlpmaild runs on, loaded as one unit at start and on SIGHUP: the
// configuration, the members' keys (imported into state_dir/gnupg), a list
// key per list (found or created in the same home) and the STARTTLS
// context. Either everything loads without an error and a new Runtime
// replaces the old one, or nothing changes (list keys created before a
// later failure stay in the home and are reused). No logging here: the
// caller reports the diagnostics and list key events.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "keyring/keyring.h"
#include "openpgp/handoff.h"

namespace tlpmail::daemon {

struct Runtime {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const keyring::KeyReport> keys;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: no STARTTLS
  std::filesystem::path home;  // the GnuPG home the keys and list keys are in
  // Accepted postings' decryptions from the intake to the fan-out (one per
  // load: after a reload, postings accepted before it are decrypted again).
  std::shared_ptr<openpgp::Handoff> handoff;
};

// The list key of one list after loading: found in the home or made now.
struct ListKeyEvent {
  std::string list;         // the list's address, as configured
  std::string fingerprint;  // primary fingerprint, 40 upper-case hex digits
  bool created = false;     // made by this load (else it was there already)
};

struct Loaded {
  std::shared_ptr<const Runtime> runtime;  // null when anything below is an error
  // Every configuration and key problem, errors and warnings, FILE:LINE.
  std::vector<config::Diagnostic> diagnostics;
  // Errors that are not about a line of a file: GnuPG unusable, a TLS
  // certificate that does not load, the state folder not creatable, a
  // list key that can neither be found nor created ("list key for X: ...").
  std::vector<std::string> errors;
  // One per list whose key was found or created, in list order; also
  // filled when a later list's key failed (those made stay in the home).
  std::vector<ListKeyEvent> list_keys;
  bool ok() const { return runtime != nullptr; }
};

// The GnuPG home tlpmaild imports keys into: state_dir/gnupg.
std::filesystem::path gnupg_home(const config::Config& config);

// Loads config_file, creates state_dir (0700) when it is missing, imports
// keys_dir into `home` (empty: gnupg_home() of the new configuration; on
// reload the home of the running daemon), loads the TLS files and, when
// all of that is free of errors, makes sure every list has its list key in
// `home` (openpgp::find_list_key; openpgp::create_list_key with the list's
// description, or its local part, as name). A list whose key cannot be
// found or made is an error: without its key a list can neither decrypt
// what members send nor sign what it distributes.
// Blocking (gpg, file reads): call it on a worker thread once the daemon
// runs. Thread safety: after openpgp::initialize(), from any thread.
Loaded load_runtime(const std::filesystem::path& config_file, const std::filesystem::path& home,
                    std::time_t now);

}  // namespace tlpmail::daemon
