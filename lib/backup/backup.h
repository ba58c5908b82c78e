// backup::make_backup and backup::restore_backup: a consistent copy of
// tlpmaild's state folder, taken while the daemon runs, and putting it
// back (docs/operator-guide.md, "Backup and restore"). What is copied:
// tlpmail.db (SQLite's online backup API), the GnuPG home gnupg/ with the
// list secret keys, keys.d/ (members' keys updated by mail) and the
// spooled messages not yet fanned out (spool/msg/ID); the outbox lives in
// tlpmail.db. A manifest (manifest.toml) records the program version, the
// schema version, the time, and each file's size and SHA-256, and is
// written last: a folder without it is not a backup. Files are 0600,
// folders 0700. The backup holds the list secret keys unencrypted.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "util/result.h"

namespace tlpmail::backup {

inline constexpr const char* kManifestName = "manifest.toml";
inline constexpr int kFormat = 1;

struct FileEntry {
  std::string path;  // relative to the backup folder, '/'-separated
  std::uint64_t size = 0;
  std::string sha256;  // lower-case hex
};

struct Manifest {
  int format = kFormat;
  std::string version;  // tlpmail version that wrote it
  int schema = 0;       // tlpmail.db's user_version
  std::int64_t created_at = 0;
  std::vector<FileEntry> files;
};

struct BackupReport {
  Manifest manifest;
  std::size_t spooled = 0;  // messages in spool/msg copied
  std::size_t gnupg_files = 0;
  std::size_t updated_keys = 0;  // keys.d files
  int attempts = 1;              // snapshots taken until the spool matched one
};

// Copies `state_dir` into `out_dir`, which must not exist or be an empty
// folder (created 0700). `version` is written into the manifest.
// Consistency: the spool files are copied, then tlpmail.db is copied from
// one read snapshot in which every message still waiting (state received)
// must have its file; a message spooled in between is copied then, one
// fanned out in between (its file gone) makes a new attempt, at most 5.
// gnupg/ is copied under the list key lock (no key rotation meanwhile);
// its sockets and lock files are skipped.
// Errors: permanent for a missing state_dir or database, an out_dir that
// is not empty; temporary for I/O and database faults.
Result<BackupReport> make_backup(const std::filesystem::path& state_dir,
                                 const std::filesystem::path& out_dir, const std::string& version,
                                 std::time_t now);

// Reads and checks the manifest of `dir`: format known, every listed file
// present with its size and SHA-256, nothing else there but folders,
// tlpmail.db passes quick_check and has the manifest's schema version,
// not newer than `newest_schema`. Errors: permanent, saying what is wrong.
Result<Manifest> verify_backup(const std::filesystem::path& dir, int newest_schema);

struct RestoreOptions {
  bool force = false;  // replace a state_dir that is not empty
  int newest_schema = 0;
};

struct RestoreReport {
  Manifest manifest;
  bool replaced = false;  // state_dir held a state before (with force)
};

// Verifies `dir` (verify_backup), then puts it into `state_dir` (created
// 0700 when missing). Refuses (permanent error) while a tlpmaild runs on
// state_dir (its status file, metrics/status_file.h), and when state_dir is
// not empty unless `force`; with force, tlpmail.db (and its -wal/-shm),
// gnupg/, keys.d/ and spool/ there are removed first (the GnuPG agents of
// that home are stopped), other files are left alone. Files are copied
// into a temporary folder inside state_dir and renamed into place.
Result<RestoreReport> restore_backup(const std::filesystem::path& dir,
                                     const std::filesystem::path& state_dir,
                                     const RestoreOptions& options);

}  // namespace tlpmail::backup
