// store::Database: the one SQLite state database, state_dir/tlpmail.db.
// Opens or creates it (mode 0600; a new file with auto_vacuum=INCREMENTAL),
// sets WAL + synchronous=FULL, busy_timeout and foreign keys, and brings
// the schema up to date (schema.h). Every SQLite
// type and exception stays inside this folder: callers see Value/Row and a
// DbError. It does not know what the tables mean; the modules do.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/schema.h"
#include "util/result.h"

namespace tlpmail::store {

// What went wrong underneath, for callers that react differently (the spool
// turns disk_full into 452 and io into a poisoned spool). The ErrorClass in
// the Error part is corrupt for corrupt, permanent for schema, temporary
// for everything else.
enum class DbFault {
  busy,        // SQLITE_BUSY / SQLITE_LOCKED: "database is locked"
  disk_full,   // SQLITE_FULL
  io,          // SQLITE_IOERR*, SQLITE_CANTOPEN: the disk failed us
  corrupt,     // SQLITE_CORRUPT / SQLITE_NOTADB
  constraint,  // a UNIQUE/NOT NULL/FOREIGN KEY/CHECK violation
  schema,      // migration or version problem found by this wrapper
  other,       // anything else (misuse, out of memory, ...)
};

std::string_view to_string(DbFault f);

// An Error (kind + message, message starts with "database: ") that also
// names the fault. Slices to a plain Error where only that is wanted.
struct DbError : Error {
  DbFault fault = DbFault::other;
};

template <class T>
using DbResult = Result<T, DbError>;

// The fault an SQLite result code stands for, and the DbError for it (its
// class follows the fault: corrupt, permanent for schema, else temporary).
DbFault fault_of(int sqlite_code);
DbError make_error(DbFault fault, std::string message);

// A column value. Text is stored as given (SQLite does not check UTF-8).
using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

// One result row. Asking for the wrong type or a column past the end is a
// programming error (throws std::bad_variant_access / std::out_of_range);
// tables are declared STRICT, so SQLite enforces the declared types.
class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  std::size_t size() const { return values_.size(); }
  bool is_null(std::size_t i) const {
    return std::holds_alternative<std::nullptr_t>(values_.at(i));
  }
  std::int64_t integer(std::size_t i) const { return std::get<std::int64_t>(values_.at(i)); }
  double real(std::size_t i) const { return std::get<double>(values_.at(i)); }
  const std::string& text(std::size_t i) const { return std::get<std::string>(values_.at(i)); }
  // NULL as "" and 0: for the optional columns.
  std::string text_or_empty(std::size_t i) const { return is_null(i) ? std::string() : text(i); }
  std::int64_t integer_or_zero(std::size_t i) const { return is_null(i) ? 0 : integer(i); }
  const Value& operator[](std::size_t i) const { return values_.at(i); }

 private:
  std::vector<Value> values_;
};

using Rows = std::vector<Row>;
using Params = std::vector<Value>;  // bound to ?1, ?2, ... in order

enum class JournalMode { wal, rollback };  // rollback = journal_mode=DELETE
// Production always uses full. normal exists only so that the benchmark can
// show what it would save; it may lose the last commit on power loss.
enum class Synchronous { full, normal };

struct Options {
  JournalMode journal_mode = JournalMode::wal;
  Synchronous synchronous = Synchronous::full;
  std::chrono::milliseconds busy_timeout{5000};
  // The schema steps to apply; tests pass their own lists.
  std::span<const Migration> migrations = store::migrations();
};

class Database;

// Statements inside Database::transaction(). Only valid inside the body.
class Transaction {
 public:
  // Runs one statement; returns the number of rows it changed.
  DbResult<std::int64_t> execute(std::string_view sql, const Params& params = {});
  // Runs one statement and returns all its rows.
  DbResult<Rows> query(std::string_view sql, const Params& params = {});

 private:
  friend class Database;
  explicit Transaction(Database& db) : db_(db) {}
  Database& db_;
};

class Database {
 public:
  // Opens `file`, creating it with mode 0600 if absent (then fsyncing it and
  // its folder; an existing file with group/other bits is tightened to
  // 0600), configures the connection and applies every migration newer than
  // the file's user_version, each in its own transaction. The parent folder
  // must exist.
  // Errors: cannot open/create (io), not a database (corrupt), journal mode
  // not accepted by the filesystem, a failing migration (that step is rolled
  // back, earlier steps stay), or a file whose user_version is newer than the
  // newest migration (schema; refuse rather than guess).
  static DbResult<std::unique_ptr<Database>> open(const std::filesystem::path& file,
                                                  const Options& options = {});
  // Opens an existing `file` read-only (SQLITE_OPEN_READONLY, for readers
  // such as tlpmailctl): never creates it, changes no mode, journal mode or
  // schema; statements that write fail. Only options.busy_timeout is used.
  // Errors: io when the file is missing or unreadable, corrupt when it is
  // not a database, schema when its user_version is newer than the newest
  // of options.migrations.
  static DbResult<std::unique_ptr<Database>> open_read_only(const std::filesystem::path& file,
                                                            const Options& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one statement in its own (autocommit) transaction; returns the
  // number of rows changed. Thread-safe (one statement at a time). The
  // statement is prepared on its text's first use and kept; after each call
  // it is reset (no open read transaction) and its bindings cleared.
  DbResult<std::int64_t> execute(std::string_view sql, const Params& params = {});
  // Runs one statement and returns all its rows. Thread-safe.
  DbResult<Rows> query(std::string_view sql, const Params& params = {});

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT. If body returns an error
  // or COMMIT fails, the transaction is rolled back and that error returned.
  // Thread-safe: holds this connection's lock for the whole body, so other
  // threads' statements wait. REQUIRES: body uses only the Transaction it is
  // given, never this Database (that would deadlock).
  DbResult<void> transaction(const std::function<DbResult<void>(Transaction&)>& body);

  // The schema version found in the file when it was opened (0 = the file
  // was new or empty) and the version it has now.
  int initial_schema_version() const { return initial_version_; }
  int schema_version() const { return version_; }
  const std::filesystem::path& path() const { return path_; }
  // How many prepared statements the connection keeps (each distinct SQL
  // text run through execute/query is prepared once; at 128 the kept ones
  // are finalized and the count starts again).
  std::size_t cached_statements() const;

 private:
  friend class Transaction;
  struct Impl;
  Database(std::filesystem::path path, std::unique_ptr<Impl> impl);
  DbResult<std::int64_t> execute_locked(std::string_view sql, const Params& params);
  DbResult<Rows> query_locked(std::string_view sql, const Params& params);
  DbResult<void> migrate(std::span<const Migration> steps);

  std::filesystem::path path_;
  std::unique_ptr<Impl> impl_;
  int initial_version_ = 0;
  int version_ = 0;
};

}  // namespace tlpmail::store
