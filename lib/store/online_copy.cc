// store::copy_online on the C API of SQLite (sqlite3_backup_*): SQLiteCpp's
// Backup class cannot share the caller's read transaction, and the copy
// must be of exactly the snapshot the caller's file copies saw.
#include "store/online_copy.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tlpmail::store {
namespace {

DbError sqlite_error(sqlite3* db, int code, const std::string& what) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  return make_error(fault_of(code), what + ": " + msg);
}

// A connection closed on every path.
struct Connection {
  sqlite3* db = nullptr;
  ~Connection() {
    if (db != nullptr) sqlite3_close_v2(db);
  }
};

DbResult<Rows> run_query(sqlite3* db, std::string_view sql, const Params& params) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &st, nullptr);
  if (rc != SQLITE_OK) return Unexpected(sqlite_error(db, rc, "prepare"));
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int at = static_cast<int>(i) + 1;
    const Value& v = params[i];
    if (std::holds_alternative<std::nullptr_t>(v)) {
      sqlite3_bind_null(st, at);
    } else if (auto* n = std::get_if<std::int64_t>(&v)) {
      sqlite3_bind_int64(st, at, *n);
    } else if (auto* d = std::get_if<double>(&v)) {
      sqlite3_bind_double(st, at, *d);
    } else {
      const std::string& s = std::get<std::string>(v);
      sqlite3_bind_text(st, at, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
  }
  Rows rows;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<Value> values;
    const int n = sqlite3_column_count(st);
    for (int i = 0; i < n; ++i) {
      switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(st, i)));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(st, i));
          break;
        case SQLITE_TEXT:
        case SQLITE_BLOB: {
          const void* p = sqlite3_column_blob(st, i);
          const int size = sqlite3_column_bytes(st, i);
          values.emplace_back(
              std::string(static_cast<const char*>(p), static_cast<std::size_t>(size)));
          break;
        }
        default:
          values.emplace_back(nullptr);
      }
    }
    rows.emplace_back(std::move(values));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Unexpected(sqlite_error(db, rc, "query"));
  return rows;
}

class SnapshotOn final : public Snapshot {
 public:
  explicit SnapshotOn(sqlite3* db) : db_(db) {}
  DbResult<Rows> query(std::string_view sql, const Params& params) override {
    return run_query(db_, sql, params);
  }

 private:
  sqlite3* db_;
};

DbResult<void> fsync_path(const std::filesystem::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0)
    return Unexpected(
        make_error(DbFault::io, "cannot open " + p.string() + ": " + std::strerror(errno)));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0)
    return Unexpected(
        make_error(DbFault::io, "cannot fsync " + p.string() + ": " + std::strerror(err)));
  return {};
}

}  // namespace

DbResult<CopyInfo> copy_online(const std::filesystem::path& source,
                               const std::filesystem::path& dest,
                               const std::function<DbResult<void>(Snapshot&)>& during) {
  Connection src;
  int rc = sqlite3_open_v2(source.c_str(), &src.db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK)
    return Unexpected(sqlite_error(src.db, rc, "cannot open " + source.string()));
  sqlite3_busy_timeout(src.db, 5000);
  // The read transaction starts with its first read: from then on this
  // connection sees one snapshot, and sqlite3_backup_step uses it (it only
  // opens a read transaction of its own when none is open).
  if (rc = sqlite3_exec(src.db, "BEGIN", nullptr, nullptr, nullptr); rc != SQLITE_OK) {
    return Unexpected(sqlite_error(src.db, rc, "BEGIN"));
  }
  auto version = run_query(src.db, "PRAGMA user_version", {});
  if (!version) return Unexpected(version.error());
  CopyInfo info;
  info.schema_version = version->empty() ? 0 : static_cast<int>((*version)[0].integer(0));
  SnapshotOn snapshot(src.db);
  if (auto r = during(snapshot); !r) return Unexpected(r.error());

  // The destination file is made 0600 before SQLite opens it.
  int fd = ::open(dest.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Unexpected(
        make_error(DbFault::io, "cannot create " + dest.string() + ": " + std::strerror(errno)));
  }
  ::close(fd);
  Connection out;
  rc = sqlite3_open_v2(dest.c_str(), &out.db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) return Unexpected(sqlite_error(out.db, rc, "cannot open " + dest.string()));
  sqlite3_backup* b = sqlite3_backup_init(out.db, "main", src.db, "main");
  if (b == nullptr) return Unexpected(sqlite_error(out.db, sqlite3_errcode(out.db), "backup"));
  rc = sqlite3_backup_step(b, -1);
  info.pages = sqlite3_backup_pagecount(b);
  const int finish = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE)
    return Unexpected(sqlite_error(nullptr, rc, "backup of " + source.string()));
  if (finish != SQLITE_OK) return Unexpected(sqlite_error(out.db, finish, "backup"));
  (void)sqlite3_exec(src.db, "COMMIT", nullptr, nullptr, nullptr);
  // A copy restored is opened by tlpmaild, which sets WAL itself; in the
  // backup folder it is one self-contained file.
  (void)sqlite3_exec(out.db, "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
  sqlite3_close_v2(out.db);
  out.db = nullptr;
  if (auto r = fsync_path(dest, O_RDONLY); !r) return Unexpected(r.error());
  return info;
}

DbResult<int> check_copy(const std::filesystem::path& file) {
  Connection c;
  int rc = sqlite3_open_v2(file.c_str(), &c.db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) return Unexpected(sqlite_error(c.db, rc, "cannot open " + file.string()));
  auto check = run_query(c.db, "PRAGMA quick_check", {});
  if (!check) return Unexpected(check.error());
  if (check->empty() || check->front().is_null(0) || check->front().text(0) != "ok") {
    std::string what =
        check->empty() || check->front().is_null(0) ? "no answer" : check->front().text(0);
    return Unexpected(make_error(DbFault::corrupt, file.string() + " fails quick_check: " + what));
  }
  auto version = run_query(c.db, "PRAGMA user_version", {});
  if (!version) return Unexpected(version.error());
  return static_cast<int>((*version)[0].integer(0));
}

}  // namespace tlpmail::store
