// queue::SpaceGuard: free space on the state filesystem, for the two sides
// of a full disk. Intake asks shortage() before the spool takes a message
// (Postfix's queue_minfree: below [server] min_free_space it answers 452
// 4.3.1), and a reserve file in the state folder (the "ballast") is given
// up when space runs short, so that delivery can still record what it
// sends and fan out what is held when something else filled the disk to
// the last byte; it is made again once space is back. No logging here:
// callers log the SpaceChange they get. See docs/reliability.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "queue/env.h"

namespace tlpmail::queue {

struct SpaceSettings {
  // Intake takes no message while less than this is available. 0: no
  // check and no reserve.
  std::uint64_t min_free = std::uint64_t{64} << 20;
  // The reserve file's size.
  std::uint64_t reserve = std::uint64_t{8} << 20;
  // shortage() looks at the filesystem at most this often.
  std::chrono::milliseconds probe_interval{250};
};

// The rule, pure. Intake needs min_free available while the reserve is
// held, and min_free + reserve while it is given up: it opens again only
// when the reserve can be made again and min_free still be left.
std::uint64_t space_needed(const SpaceSettings& s, bool reserve_held);

enum class SpaceAction { none, release, recreate };
// Held and less than min_free available: release. Not held and
// min_free + reserve available: recreate. Disabled (min_free 0): release
// a reserve still there, never recreate.
SpaceAction decide_space(const SpaceSettings& s, std::uint64_t available, bool reserve_held);

// True for the text of a failure for want of space: SQLite's "database
// or disk is full" (SQLITE_FULL), strerror's ENOSPC and EDQUOT. For layers
// whose errors reach the caller as text only (the outbox's).
bool looks_like_no_space(std::string_view error_text);

// Why intake may not take a message now.
struct SpaceShortage {
  std::uint64_t available = 0;
  std::uint64_t needed = 0;
  bool reserve_held = true;
  std::string error;  // the probe failed (refused rather than guessed)
  // "state filesystem nearly full: 3.1 MiB available, 72.0 MiB needed
  // (min_free_space 64.0 MiB + the 8.0 MiB reserve, given up)"
  std::string describe() const;
};

// What maintain() / start() did, for the caller's log line.
struct SpaceChange {
  enum class Kind { none, released, recreated, failed };
  Kind kind = Kind::none;
  std::uint64_t available = 0;  // before the change
  std::uint64_t needed = 0;     // space_needed() after it
  std::string reason;           // released: why; failed: what failed
};

// Thread-safe. shortage() only reads (a statvfs at most every
// probe_interval); start(), maintain() and release() write and fsync
// (worker threads). REQUIRES: env outlives it; `dir` exists.
class SpaceGuard {
 public:
  SpaceGuard(Env& env, std::string dir, SpaceSettings settings);
  SpaceGuard(const SpaceGuard&) = delete;
  SpaceGuard& operator=(const SpaceGuard&) = delete;

  bool is_enabled() const { return settings_.min_free > 0; }
  const SpaceSettings& settings() const { return settings_; }
  const std::string& reserve_path() const { return reserve_path_; }

  // At start: keeps a reserve of the right size left by the last run
  // (removes one of another size, a half-made one, or any when disabled),
  // then maintain().
  SpaceChange start();
  // Looks at the filesystem and releases or recreates the reserve
  // (decide_space). A recreation that fails (the disk filled meanwhile)
  // removes what it wrote and reports failed; the next call tries again.
  SpaceChange maintain();
  // Gives the reserve up now (a write failed for space), whatever the
  // figures say; maintain() recreates it once space is back.
  SpaceChange release(const std::string& reason);

  // Intake's question: nullopt when a message may be taken.
  std::optional<SpaceShortage> shortage();

  bool is_reserve_held() const { return held_.load(); }
  std::uint64_t releases() const { return releases_.load(); }

 private:
  SpaceChange release_locked(std::uint64_t available, std::string reason);
  SpaceChange create_locked(std::uint64_t available);
  IoResult<std::uint64_t> probe();

  Env& env_;
  std::string dir_, reserve_path_, temp_path_;
  SpaceSettings settings_;
  std::mutex mu_;  // start, maintain, release: one at a time
  std::atomic<bool> held_{false};
  std::atomic<std::uint64_t> releases_{0};
  std::mutex probe_mu_;  // the cached figure of shortage()
  std::optional<std::chrono::steady_clock::time_point> probed_at_;
  IoResult<std::uint64_t> probed_{std::uint64_t{0}};
};

}  // namespace tlpmail::queue
