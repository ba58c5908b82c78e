// The daemon's status file, state_dir/tlpmaild.status: written by tlpmaild
// once it is ready (pid, version, start time, listen and metrics
// addresses) and removed when it stops cleanly. tlpmailctl status reads it
// to say whether tlpmaild runs, and restore to refuse to replace the state
// of a running daemon. A stale file (kill -9, power loss) is recognised by
// its pid: not alive, or alive but not a tlpmaild. Holds no secrets.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace tlpmail::metrics {

inline constexpr const char* kStatusFileName = "tlpmaild.status";

struct DaemonStatus {
  std::int64_t pid = 0;
  std::string version;
  std::int64_t started_at = 0;      // Unix time of the ready line
  std::vector<std::string> listen;  // "127.0.0.1:10030", as bound
  std::string metrics;              // "127.0.0.1:9465"; empty: no [metrics]
};

// Writes `status` to state_dir/tlpmaild.status (mode 0600) atomically
// (temporary file, rename). Errors: temporary, naming the file.
Result<void> write_status(const std::filesystem::path& state_dir, const DaemonStatus& status);

// Removes the file if it names `pid` (a newer daemon's file stays).
void remove_status(const std::filesystem::path& state_dir, std::int64_t pid);

// The file's content; nullopt when there is none. Errors: the file exists
// but cannot be read or parsed (permanent, naming it).
Result<std::optional<DaemonStatus>> read_status(const std::filesystem::path& state_dir);

// True when `pid` is a live process named tlpmaild (from /proc/PID/comm;
// where /proc cannot tell, any live process counts).
bool is_tlpmaild_alive(std::int64_t pid);

}  // namespace tlpmail::metrics
