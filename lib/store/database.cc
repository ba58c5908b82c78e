// Implementation of store::Database on SQLiteCpp. Every SQLiteCpp call is
// made under the connection's mutex and inside a try block: SQLite
// exceptions end here and become DbError values. Statements are prepared
// once per SQL text and kept (Impl::statements): the outbox runs the same
// few statements for every copy, and preparing them again each time was
// 10 % of tlpmaild's CPU in a fan-out to 1,000 members (perf).
#include "store/database.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "util/enum_names.h"

namespace tlpmail::store {

constexpr auto kDbFaultNames = std::to_array<std::string_view>(
    {"busy", "disk_full", "io", "corrupt", "constraint", "schema", "other"});
static_assert(util::names_cover(kDbFaultNames, DbFault::other));
std::string_view to_string(DbFault f) { return util::name_of(kDbFaultNames, f, "other"); }

DbError make_error(DbFault fault, std::string message) {
  DbError e;
  e.kind = fault == DbFault::corrupt  ? ErrorClass::corrupt
           : fault == DbFault::schema ? ErrorClass::permanent
                                      : ErrorClass::temporary;
  e.message = "database: " + std::move(message);
  e.fault = fault;
  return e;
}

DbFault fault_of(int sqlite_code) {
  switch (sqlite_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return DbFault::busy;
    case SQLITE_FULL:
      return DbFault::disk_full;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return DbFault::io;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DbFault::corrupt;
    case SQLITE_CONSTRAINT:
      return DbFault::constraint;
    default:
      return DbFault::other;
  }
}

namespace {

DbError from_exception(const SQLite::Exception& e) {
  // e.what() is SQLite's own message, e.g. "database is locked".
  return make_error(fault_of(e.getErrorCode()), e.what());
}

DbError from_exception(const std::exception& e) { return make_error(DbFault::other, e.what()); }

void bind_all(SQLite::Statement& st, const Params& params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::nullptr_t>) {
            st.bind(index);
          } else if constexpr (std::is_same_v<V, std::int64_t>) {
            st.bind(index, static_cast<int64_t>(v));
          } else {
            st.bind(index, v);
          }
        },
        params[i]);
  }
}

Value column_value(const SQLite::Column& c) {
  switch (c.getType()) {
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(c.getInt64());
    case SQLITE_FLOAT:
      return c.getDouble();
    case SQLITE_TEXT:
      return std::string(c.getText(), static_cast<std::size_t>(c.getBytes()));
    case SQLITE_BLOB:
      return std::string(static_cast<const char*>(c.getBlob()),
                         static_cast<std::size_t>(c.getBytes()));
    default:
      return nullptr;
  }
}

// Creates the file with mode 0600 before SQLite sees it (SQLite would use
// 0644 & ~umask), and tightens an existing file. SQLite gives the -wal and
// -shm files the database file's mode, and fsyncs the folder when it
// creates a WAL, but not for the database file itself: a new file and its
// folder entry are fsynced here, so the first commit cannot vanish with it.
DbResult<void> prepare_file(const std::filesystem::path& file) {
  auto fail = [&](const char* what, int err) {
    return Unexpected(
        make_error(err == ENOSPC || err == EDQUOT ? DbFault::disk_full : DbFault::io,
                   std::string(what) + " " + file.string() + ": " + std::strerror(err)));
  };
  bool created = true;
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0) return fail("cannot open", errno);
  struct stat st {};
  DbResult<void> result;
  if (::fstat(fd, &st) != 0) {
    result = fail("cannot stat", errno);
  } else if (!S_ISREG(st.st_mode)) {
    result = Unexpected(make_error(DbFault::io, file.string() + " is not a regular file"));
  } else if ((st.st_mode & 077) != 0 && ::fchmod(fd, 0600) != 0) {
    result = fail("cannot chmod 0600", errno);
  } else if (created && ::fsync(fd) != 0) {
    result = fail("cannot fsync", errno);
  }
  ::close(fd);
  if (result && created) {
    std::filesystem::path parent = file.parent_path().empty() ? "." : file.parent_path();
    int dfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return fail("cannot open folder of", errno);
    if (::fsync(dfd) != 0) result = fail("cannot fsync folder of", errno);
    ::close(dfd);
  }
  return result;
}

// At most this many prepared statements are kept. The program's SQL texts
// are far fewer; built ones (retention's "PRAGMA incremental_vacuum(N)",
// up to 256 texts) could fill the cache, so a full cache is emptied and
// fills again with what is in use.
constexpr std::size_t kMaxCachedStatements = 128;

// A statement borrowed from the cache: reset and its bindings cleared when
// the borrow ends, so it never holds a read transaction or a bound value
// (a copy's PKESK) after the call.
class Borrowed {
 public:
  explicit Borrowed(SQLite::Statement& st) : st_(&st) {}
  ~Borrowed() {
    (void)st_->tryReset();
    try {
      st_->clearBindings();
    } catch (const SQLite::Exception&) {  // sqlite3_clear_bindings always returns SQLITE_OK
    }
  }
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;
  SQLite::Statement& operator*() const { return *st_; }

 private:
  SQLite::Statement* st_;
};

}  // namespace

struct Database::Impl {
  explicit Impl(const std::filesystem::path& file, int busy_ms, int flags = SQLite::OPEN_READWRITE)
      : db(file.string(), flags, busy_ms) {}

  // The statement for `sql`, prepared on first use. Throws SQLite::Exception
  // when it does not prepare. REQUIRES: mu held.
  Borrowed statement(std::string_view sql) {
    auto it = statements.find(sql);
    if (it != statements.end()) return Borrowed(*it->second);
    auto st = std::make_unique<SQLite::Statement>(db, std::string(sql));
    // No statement is borrowed now: one call at a time, under mu.
    if (statements.size() >= kMaxCachedStatements) statements.clear();
    SQLite::Statement& kept = *st;
    statements.emplace(std::string(sql), std::move(st));
    return Borrowed(kept);
  }

  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::mutex mu;
  SQLite::Database db;
  // Declared after db: finalized before the connection is closed.
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>, TextHash, std::equal_to<>>
      statements;
};

Database::Database(std::filesystem::path path, std::unique_ptr<Impl> impl)
    : path_(std::move(path)), impl_(std::move(impl)) {}

Database::~Database() = default;

DbResult<std::unique_ptr<Database>> Database::open(const std::filesystem::path& file,
                                                   const Options& options) {
  if (auto r = prepare_file(file); !r) return Unexpected(r.error());
  std::unique_ptr<Database> db;
  try {
    auto impl = std::make_unique<Impl>(file, static_cast<int>(options.busy_timeout.count()));
    db.reset(new Database(file, std::move(impl)));
    SQLite::Database& c = db->impl_->db;
    // Only a new (empty) file takes it; an older file keeps auto_vacuum =
    // NONE until a VACUUM converts it (docs/retention.md).
    c.exec("PRAGMA auto_vacuum = INCREMENTAL");

    const std::string want_mode = options.journal_mode == JournalMode::wal ? "wal" : "delete";
    std::string got_mode = c.execAndGet("PRAGMA journal_mode = " + want_mode).getString();
    if (got_mode != want_mode) {
      return Unexpected(make_error(DbFault::io, "journal_mode " + want_mode + " refused by " +
                                                    file.string() + " (got " + got_mode + ")"));
    }
    const bool full = options.synchronous == Synchronous::full;
    c.exec(full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    if (c.execAndGet("PRAGMA synchronous").getInt() != (full ? 2 : 1)) {
      return Unexpected(make_error(DbFault::other, "PRAGMA synchronous was not applied"));
    }
    c.exec("PRAGMA foreign_keys = ON");
    if (c.execAndGet("PRAGMA foreign_keys").getInt() != 1) {
      return Unexpected(make_error(DbFault::other, "PRAGMA foreign_keys was not applied"));
    }
    db->initial_version_ = c.execAndGet("PRAGMA user_version").getInt();
    db->version_ = db->initial_version_;
  } catch (const SQLite::Exception& e) {
    return Unexpected(from_exception(e));
  } catch (const std::exception& e) {
    return Unexpected(from_exception(e));
  }
  if (auto r = db->migrate(options.migrations); !r) return Unexpected(r.error());
  return db;
}

DbResult<std::unique_ptr<Database>> Database::open_read_only(const std::filesystem::path& file,
                                                             const Options& options) {
  std::unique_ptr<Database> db;
  try {
    auto impl = std::make_unique<Impl>(file, static_cast<int>(options.busy_timeout.count()),
                                       SQLite::OPEN_READONLY);
    db.reset(new Database(file, std::move(impl)));
    db->initial_version_ = db->impl_->db.execAndGet("PRAGMA user_version").getInt();
    db->version_ = db->initial_version_;
  } catch (const SQLite::Exception& e) {
    return Unexpected(from_exception(e));
  } catch (const std::exception& e) {
    return Unexpected(from_exception(e));
  }
  const int newest = static_cast<int>(options.migrations.size());
  if (db->version_ > newest) {
    return Unexpected(make_error(
        DbFault::schema, file.string() + " has schema version " + std::to_string(db->version_) +
                             ", newer than this program knows (" + std::to_string(newest) +
                             "); refusing to use it"));
  }
  return db;
}

DbResult<void> Database::migrate(std::span<const Migration> steps) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].version != static_cast<int>(i) + 1) {
      return Unexpected(make_error(DbFault::schema, "migration list is not numbered 1..N (entry " +
                                                        std::to_string(i) + " has version " +
                                                        std::to_string(steps[i].version) + ")"));
    }
  }
  const int newest = static_cast<int>(steps.size());
  if (version_ > newest) {
    return Unexpected(make_error(
        DbFault::schema, path_.string() + " has schema version " + std::to_string(version_) +
                             ", newer than this program knows (" + std::to_string(newest) +
                             "); refusing to use it"));
  }
  std::lock_guard lock(impl_->mu);
  SQLite::Database& c = impl_->db;
  for (const Migration& step : steps) {
    if (step.version <= version_) continue;
    try {
      c.exec("BEGIN IMMEDIATE");
      // Another process may have migrated while we waited for the lock.
      int current = c.execAndGet("PRAGMA user_version").getInt();
      if (current < step.version) {
        c.exec(std::string(step.sql));
        c.exec("PRAGMA user_version = " + std::to_string(step.version));
      }
      c.exec("COMMIT");
      version_ = std::max(current, step.version);
    } catch (const std::exception& e) {
      (void)c.tryExec("ROLLBACK");
      DbError err = make_error(DbFault::schema, "");
      if (auto* se = dynamic_cast<const SQLite::Exception*>(&e)) err = from_exception(*se);
      err.message = "database: migration to version " + std::to_string(step.version) + " (" +
                    std::string(step.description) + ") failed: " + e.what();
      return Unexpected(err);
    }
  }
  return {};
}

DbResult<std::int64_t> Database::execute_locked(std::string_view sql, const Params& params) {
  try {
    Borrowed borrowed = impl_->statement(sql);
    SQLite::Statement& st = *borrowed;
    bind_all(st, params);
    return static_cast<std::int64_t>(st.exec());
  } catch (const SQLite::Exception& e) {
    return Unexpected(from_exception(e));
  } catch (const std::exception& e) {
    return Unexpected(from_exception(e));
  }
}

DbResult<Rows> Database::query_locked(std::string_view sql, const Params& params) {
  try {
    Borrowed borrowed = impl_->statement(sql);
    SQLite::Statement& st = *borrowed;
    bind_all(st, params);
    Rows rows;
    while (st.executeStep()) {
      std::vector<Value> values;
      const int n = st.getColumnCount();
      values.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) values.push_back(column_value(st.getColumn(i)));
      rows.emplace_back(std::move(values));
    }
    return rows;
  } catch (const SQLite::Exception& e) {
    return Unexpected(from_exception(e));
  } catch (const std::exception& e) {
    return Unexpected(from_exception(e));
  }
}

std::size_t Database::cached_statements() const {
  std::lock_guard lock(impl_->mu);
  return impl_->statements.size();
}

DbResult<std::int64_t> Database::execute(std::string_view sql, const Params& params) {
  std::lock_guard lock(impl_->mu);
  return execute_locked(sql, params);
}

DbResult<Rows> Database::query(std::string_view sql, const Params& params) {
  std::lock_guard lock(impl_->mu);
  return query_locked(sql, params);
}

DbResult<void> Database::transaction(const std::function<DbResult<void>(Transaction&)>& body) {
  std::lock_guard lock(impl_->mu);
  SQLite::Database& c = impl_->db;
  try {
    c.exec("BEGIN IMMEDIATE");
  } catch (const SQLite::Exception& e) {
    return Unexpected(from_exception(e));
  }
  Transaction tx(*this);
  DbResult<void> result;
  try {
    result = body(tx);
  } catch (...) {
    (void)c.tryExec("ROLLBACK");
    throw;
  }
  if (!result) {
    (void)c.tryExec("ROLLBACK");
    return result;
  }
  try {
    c.exec("COMMIT");
  } catch (const SQLite::Exception& e) {
    (void)c.tryExec("ROLLBACK");
    return Unexpected(from_exception(e));
  }
  return {};
}

DbResult<std::int64_t> Transaction::execute(std::string_view sql, const Params& params) {
  return db_.execute_locked(sql, params);
}

DbResult<Rows> Transaction::query(std::string_view sql, const Params& params) {
  return db_.query_locked(sql, params);
}

}  // namespace tlpmail::store
