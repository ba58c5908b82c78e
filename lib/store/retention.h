// store::prune: the retention of tlpmail.db (docs/retention.md). Deletes
// what is older than each cut-off, in small batches (each its own short
// transaction, so that the intake's commits get the connection between
// them), then gives free pages back to the filesystem with incremental
// vacuum. Knows which rows are finished (a copy still waiting, an open
// check, a message not yet fanned out are never touched); knows nothing
// of configuration files: the daemon turns [retention] into Cutoffs.
#pragma once

#include <cstdint>
#include <string>

#include "store/database.h"

namespace tlpmail::store {

// Unix times; rows strictly older are deleted. 0: keep that kind forever.
struct Cutoffs {
  std::int64_t audit = 0;      // audit_log.at (audit_recipients go with their row)
  std::int64_t replay = 0;     // replay_digests.signed_at, replay_cross_posts.seen_at
  std::int64_t finished = 0;   // spool rows done/corrupt (updated_at); outbox messages whose
                               // copies are all final (created_at); request_key_replies
  std::int64_t bounces = 0;    // bounce_reports.at
  std::int64_t comchecks = 0;  // closed comchecks (closed_at) with their members
};

struct PruneReport {
  std::int64_t audit = 0;
  std::int64_t replay = 0;
  std::int64_t spool = 0;
  std::int64_t outbox = 0;  // outbox messages (their copies go with them)
  std::int64_t request_replies = 0;
  std::int64_t bounces = 0;
  std::int64_t comchecks = 0;
  std::int64_t pages_freed = 0;     // given back by incremental vacuum
  bool incremental_vacuum = false;  // the file has auto_vacuum = INCREMENTAL
  std::string text() const;         // "audit 3, replay 0, ..., 12 pages freed"
};

// REQUIRES: db's schema is the project's (all steps applied). `batch`:
// rows per transaction. Errors: the first database fault (rows deleted
// before it stay deleted).
DbResult<PruneReport> prune(Database& db, const Cutoffs& cutoffs, int batch = 500);

// Frees at most `max_pages` free pages (PRAGMA incremental_vacuum), in
// steps of 256; returns how many were freed (0 when the file was not
// created with auto_vacuum = INCREMENTAL: docs/retention.md says how to
// convert one).
DbResult<std::int64_t> vacuum_incrementally(Database& db, std::int64_t max_pages = 100000);

}  // namespace tlpmail::store
