// store::copy_online: a consistent copy of tlpmail.db made while tlpmaild
// writes to it, with SQLite's online backup API, and store::check_copy,
// the check of such a copy before it is restored. The copy is taken inside
// one read transaction of a separate connection: `during` runs inside that
// same snapshot (to copy files the rows name), and the backup then copies
// exactly the pages of that snapshot. It knows nothing of what the tables
// mean; lib/backup does.
#pragma once

#include <filesystem>
#include <functional>

#include "store/database.h"

namespace tlpmail::store {

// Read-only statements on the snapshot the copy is made of. Only valid
// inside the `during` callback of copy_online.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
  virtual DbResult<Rows> query(std::string_view sql, const Params& params = {}) = 0;
};

struct CopyInfo {
  int schema_version = 0;  // PRAGMA user_version of the snapshot
  std::int64_t pages = 0;  // pages copied
};

// Opens `source` read-only, begins a read transaction, runs `during` on
// it, then copies the snapshot into `dest` (created with mode 0600; it
// must not exist) and fsyncs it. Writers are never blocked (WAL): the
// snapshot is the last commit before the read transaction began.
// Errors: the source cannot be opened or read, `during` failed (its error),
// `dest` exists or cannot be written.
DbResult<CopyInfo> copy_online(const std::filesystem::path& source,
                               const std::filesystem::path& dest,
                               const std::function<DbResult<void>(Snapshot&)>& during);

// Opens the copy `file` read-only and runs PRAGMA quick_check; returns its
// schema version. Errors: corrupt when quick_check finds damage or the
// file is not a database, io when it cannot be read.
DbResult<int> check_copy(const std::filesystem::path& file);

}  // namespace tlpmail::store
