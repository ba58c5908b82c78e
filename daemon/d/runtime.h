// What tlpmaild runs on, loaded as one unit at start and on SIGHUP: the
// configuration, the members' keys (imported into state_dir/gnupg) and the
// STARTTLS context. Either everything loads without an error and a new
// Runtime replaces the old one, or nothing changes. No logging here: the
// caller reports the diagnostics (stderr at start, log events on reload).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "keyring/keyring.h"

namespace tlpmail::daemon {

struct Runtime {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const keyring::KeyReport> keys;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: no STARTTLS
};

struct Loaded {
  std::shared_ptr<const Runtime> runtime;  // null when anything below is an error
  // Every configuration and key problem, errors and warnings, FILE:LINE.
  std::vector<config::Diagnostic> diagnostics;
  // Errors that are not about a line of a file: GnuPG unusable, a TLS
  // certificate that does not load, the state folder not creatable.
  std::vector<std::string> errors;
  bool ok() const { return runtime != nullptr; }
};

// The GnuPG home tlpmaild imports keys into: state_dir/gnupg.
std::filesystem::path gnupg_home(const config::Config& config);

// Loads config_file, creates state_dir (0700) when it is missing, imports
// keys_dir into `home` (empty: gnupg_home() of the new configuration; on
// reload the home of the running daemon) and loads the TLS files.
// Blocking (gpg, file reads): call it on a worker thread once the daemon
// runs. Thread safety: after openpgp::initialize(), from any thread.
Loaded load_runtime(const std::filesystem::path& config_file, const std::filesystem::path& home,
                    std::time_t now);

// Creates `dir` (and missing parents) with mode 0700 when it does not
// exist. Errors name the folder and the reason.
Result<void> ensure_private_dir(const std::filesystem::path& dir);

}  // namespace tlpmail::daemon
