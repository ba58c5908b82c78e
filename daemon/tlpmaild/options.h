// tlpmaild's command line: --config PATH, --help, --version and the
// test-only --timeouts-ms N, --retry-seconds N, --job-tick-ms N,
// --outbox-poll-ms N, --keys-poll-ms N, --gpg-deadline-ms N and --hold-spool.
// Parsing only; main() acts on the result.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tlpmail::daemon {

inline constexpr const char* kDefaultConfig = "/etc/tlpmail/tlpmail.toml";

struct Options {
  std::string config_path = kDefaultConfig;
  // Test-only: every read deadline (RFC 5321 server timeouts) becomes
  // this many milliseconds. Not shown by --help; docs/operator-guide.md.
  std::optional<std::chrono::milliseconds> timeouts;
  // Test-only: the first retry delay of a deferred copy in seconds (then
  // doubling up to 8 times that) instead of 1 minute doubling to 1 hour.
  std::optional<int> retry_seconds;
  // Test-only: how often the periodic jobs look whether they are due
  // (default 30 s).
  std::optional<std::chrono::milliseconds> job_tick;
  // Test-only: how often the outbox is looked at without a wake-up
  // (default 30 s): mail that tlpmailctl queued (a list key rotation's
  // announcement) goes out within this.
  std::optional<std::chrono::milliseconds> outbox_poll;
  // Test-only: how often keys_dir and state_dir/keys.d are looked at for
  // changed files (default 10 s; the controller's keys watch).
  std::optional<std::chrono::milliseconds> keys_poll;
  // Test-only: the deadline of a gpg operation (default 30 s plus its
  // share for recipients and size; openpgp/deadline.h).
  std::optional<std::chrono::milliseconds> gpg_deadline;
  // Test-only: nothing is taken from the spool (no fan-out, no requests,
  // no bounces), so that intake tests see exactly what it holds.
  bool hold_spool = false;
};

enum class Action { run, help, version, usage_error };

struct Parsed {
  Action action = Action::run;
  Options options;
  std::string error;  // for usage_error: what was wrong
};

Parsed parse_options(const std::vector<std::string>& args);

extern const char* const kUsage;

}  // namespace tlpmail::daemon
