// The backup folder as plain files: each copied with read/write, hashed on
// the way (OpenSSL SHA-256), fsynced; the manifest last. See backup.h for
// what is copied and why in this order.
#include "backup/backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "metrics/status_file.h"
#include "openpgp/list_key.h"
#include "openpgp/temp_home.h"
#include "store/online_copy.h"
#include "util/text.h"
#include "util/toml_file.h"

namespace tlpmail::backup {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxAttempts = 5;
constexpr const char* kDatabase = "tlpmail.db";
constexpr const char* kGnupg = "gnupg";
constexpr const char* kKeysD = "keys.d";
constexpr const char* kSpoolMsg = "spool/msg";

Error io_error(const std::string& what, const fs::path& p, int err) {
  return Error::temporary(what + " " + p.string() + ": " + std::strerror(err));
}

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* d = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(d[p[i] >> 4]);
    out.push_back(d[p[i] & 15]);
  }
  return out;
}

struct Hasher {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};
  Hasher() { EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr); }
  void add(const char* p, std::size_t n) { EVP_DigestUpdate(ctx.get(), p, n); }
  std::string done() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    return hex(md, len);
  }
};

Result<void> fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unexpected(io_error("cannot open", dir, errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Unexpected(io_error("cannot fsync", dir, err));
  return {};
}

Result<void> make_private_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno != EEXIST) return Unexpected(io_error("cannot create", dir, errno));
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Unexpected(Error::permanent(dir.string() + " is not a folder"));
    }
  }
  if (::chmod(dir.c_str(), 0700) != 0) return Unexpected(io_error("cannot chmod", dir, errno));
  return {};
}

// Where hash_stream() stopped: a read of the file, or its sink, failed.
struct StreamFault {
  bool reading = true;
  int err = 0;
};

// Reads `fd` to its end into `e` (size and SHA-256), handing every chunk to
// `sink`, which returns 0 or the errno of its own failure.
template <class Sink>
std::optional<StreamFault> hash_stream(int fd, FileEntry& e, Sink&& sink) {
  Hasher h;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return StreamFault{true, errno};
    if (n == 0) break;
    h.add(buf, static_cast<std::size_t>(n));
    e.size += static_cast<std::uint64_t>(n);
    if (int err = sink(buf, static_cast<std::size_t>(n)); err != 0) return StreamFault{false, err};
  }
  e.sha256 = h.done();
  return std::nullopt;
}

// Hashes `file` (size and SHA-256). ENOENT is reported as nullopt.
Result<std::optional<FileEntry>> hash_file(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<FileEntry>();
    return Unexpected(io_error("cannot open", file, errno));
  }
  FileEntry e;
  const auto fault = hash_stream(fd, e, [](const char*, std::size_t) { return 0; });
  ::close(fd);
  if (fault) return Unexpected(io_error("cannot read", file, fault->err));
  return std::optional<FileEntry>(std::move(e));
}

// Copies the regular file `from` to the new file `to` (0600, fsynced) and
// returns its size and SHA-256; nullopt when `from` no longer exists.
Result<std::optional<FileEntry>> copy_one_file(const fs::path& from, const fs::path& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) {
    if (errno == ENOENT) return std::optional<FileEntry>();
    return Unexpected(io_error("cannot open", from, errno));
  }
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0) {
    int err = errno;
    ::close(in);
    return Unexpected(io_error("cannot create", to, err));
  }
  auto fail = [&](const char* what, const fs::path& p, int err) {
    ::close(in);
    ::close(out);
    return Unexpected(io_error(what, p, err));
  };
  FileEntry e;
  const auto fault = hash_stream(in, e, [&](const char* data, std::size_t n) {
    for (std::size_t done = 0; done < n;) {
      ssize_t w = ::write(out, data + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return errno;
      done += static_cast<std::size_t>(w);
    }
    return 0;
  });
  if (fault && fault->reading) return fail("cannot read", from, fault->err);
  if (fault) return fail("cannot write", to, fault->err);
  if (::fsync(out) != 0) return fail("cannot fsync", to, errno);
  ::close(in);
  if (::close(out) != 0) return Unexpected(io_error("cannot close", to, errno));
  return std::optional<FileEntry>(std::move(e));
}

// GnuPG's sockets, its dotlock files and our list key lock are not state.
bool skipped_in_gnupg(const std::string& name) {
  return name.starts_with("S.") || name.starts_with(".#lk") || name.ends_with(".lock") ||
         name.ends_with(".tmp");
}

// Copies the regular files below `from` into `to` (folders 0700), adding
// entries named `prefix/...`. Anything but files and folders is skipped.
Result<std::size_t> copy_tree(const fs::path& from, const fs::path& to, const std::string& prefix,
                              bool gnupg, std::vector<FileEntry>& entries) {
  if (auto r = make_private_dir(to); !r) return Unexpected(r.error());
  std::size_t copied = 0;
  std::error_code ec;
  std::vector<fs::directory_entry> children;
  for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    children.push_back(*it);
  }
  if (ec) return Unexpected(Error::temporary("cannot list " + from.string() + ": " + ec.message()));
  std::sort(children.begin(), children.end());
  for (const auto& child : children) {
    const std::string name = child.path().filename().string();
    if (gnupg && skipped_in_gnupg(name)) continue;
    const auto status = child.symlink_status(ec);
    std::string path = prefix;  // inside the backup
    path.append("/").append(name);
    if (fs::is_directory(status)) {
      auto r = copy_tree(child.path(), to / name, path, gnupg, entries);
      if (!r) return Unexpected(r.error());
      copied += *r;
    } else if (fs::is_regular_file(status)) {
      auto r = copy_one_file(child.path(), to / name);
      if (!r) return Unexpected(r.error());
      if (!*r) continue;  // gone meanwhile
      (*r)->path = std::move(path);
      entries.push_back(std::move(**r));
      ++copied;
    }
  }
  if (auto r = fsync_dir(to); !r) return Unexpected(r.error());
  return copied;
}

bool is_empty_dir(const fs::path& dir, bool& exists) {
  std::error_code ec;
  exists = fs::exists(dir, ec);
  if (!exists) return true;
  return fs::is_directory(dir, ec) && fs::is_empty(dir, ec);
}

std::string utc(std::int64_t t) {
  return utc_time(static_cast<std::time_t>(t), "%Y-%m-%dT%H:%M:%SZ");
}

Result<void> write_manifest(const fs::path& dir, const Manifest& m) {
  toml::array files;
  for (const auto& f : m.files) {
    files.push_back(toml::table{
        {"path", f.path}, {"size", static_cast<std::int64_t>(f.size)}, {"sha256", f.sha256}});
  }
  toml::table t{{"format", m.format},           {"version", m.version},
                {"schema", m.schema},           {"created_at", m.created_at},
                {"created", utc(m.created_at)}, {"files", std::move(files)}};
  const fs::path file = dir / kManifestName;
  {
    std::ofstream out(file, std::ios::trunc);
    out << "# tlpmail backup: holds the list SECRET keys (gnupg/); keep it like them.\n"
        << "# Restore with: tlpmailctl restore DIR (tlpmaild stopped)\n"
        << t << "\n";
    out.flush();
    if (!out) return Unexpected(Error::temporary("cannot write " + file.string()));
  }
  std::error_code ec;
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, ec);
  if (auto r = hash_file(file); !r) return Unexpected(r.error());  // fsync below covers it
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
  return fsync_dir(dir);
}

// One attempt at the spool and the database: the spool files first, then
// the snapshot, in which every waiting message must have its file.
Result<bool> copy_spool_and_database(const fs::path& state_dir, const fs::path& out_dir,
                                     BackupReport& report, std::vector<FileEntry>& entries) {
  std::error_code ec;
  fs::remove_all(out_dir / "spool", ec);
  fs::remove(out_dir / kDatabase, ec);
  const fs::path spool_from = state_dir / kSpoolMsg;
  const fs::path spool_to = out_dir / kSpoolMsg;
  if (auto r = make_private_dir(out_dir / "spool"); !r) return Unexpected(r.error());
  if (auto r = make_private_dir(spool_to); !r) return Unexpected(r.error());
  std::map<std::string, FileEntry> copied;
  if (fs::is_directory(spool_from, ec)) {
    for (fs::directory_iterator it(spool_from, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      const std::string id = it->path().filename().string();
      auto r = copy_one_file(it->path(), spool_to / id);
      if (!r) return Unexpected(r.error());
      if (*r) copied.emplace(id, std::move(**r));
    }
    if (ec)
      return Unexpected(
          Error::temporary("cannot list " + spool_from.string() + ": " + ec.message()));
  }

  std::set<std::string> waiting;
  bool file_vanished = false;
  auto info = store::copy_online(
      state_dir / kDatabase, out_dir / kDatabase,
      [&](store::Snapshot& snap) -> store::DbResult<void> {
        // SQL of lib/queue's spool_messages, read-only: which messages the
        // snapshot still has to fan out.
        auto rows = snap.query("SELECT id FROM spool_messages WHERE state = 'received'");
        if (!rows) return Unexpected(rows.error());
        for (const auto& row : *rows) {
          const std::string& id = row.text(0);
          waiting.insert(id);
          if (copied.contains(id)) continue;
          auto r = copy_one_file(spool_from / id, spool_to / id);  // spooled after the listing
          if (!r) {
            store::DbError e;
            e.kind = r.error().kind;
            e.message = r.error().message;
            return Unexpected(e);
          }
          if (!*r) {
            file_vanished = true;  // fanned out meanwhile: this snapshot is too old
            continue;
          }
          copied.emplace(id, std::move(**r));
        }
        return {};
      });
  if (!info) return Unexpected(Error{info.error().kind, info.error().message});
  if (file_vanished) return false;
  report.manifest.schema = info->schema_version;
  for (auto& [id, entry] : copied) {
    if (!waiting.contains(id)) {  // finished or not yet committed in the snapshot
      fs::remove(spool_to / id, ec);
      continue;
    }
    entry.path = std::string(kSpoolMsg) + "/" + id;
    entries.push_back(std::move(entry));
  }
  report.spooled = waiting.size();
  if (auto r = fsync_dir(spool_to); !r) return Unexpected(r.error());
  auto db = hash_file(out_dir / kDatabase);
  if (!db) return Unexpected(db.error());
  if (!*db) return Unexpected(Error::temporary("the copy of tlpmail.db vanished"));
  (*db)->path = kDatabase;
  entries.insert(entries.begin(), std::move(**db));
  return true;
}

// A manifest path: relative, '/'-separated, no "..", ".", or empty parts.
bool is_safe_path(const std::string& p) {
  if (p.empty() || p.front() == '/' || p.size() > 4096) return false;
  std::stringstream in(p);
  std::string part;
  while (std::getline(in, part, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return p.back() != '/';
}

Result<Manifest> read_manifest(const fs::path& dir) {
  const fs::path file = dir / kManifestName;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return Unexpected(Error::permanent(dir.string() + " is not a tlpmail backup (no " +
                                       kManifestName + "; an interrupted backup has none)"));
  }
  auto parsed = util::read_toml_file(file);
  if (!parsed) return Unexpected(parsed.error());
  const toml::table& t = *parsed;
  Manifest m;
  m.format = static_cast<int>(t["format"].value_or<std::int64_t>(0));
  if (m.format != kFormat) {
    return Unexpected(Error::permanent(file.string() + ": unknown backup format " +
                                       std::to_string(m.format) + " (this tlpmailctl reads " +
                                       std::to_string(kFormat) + ")"));
  }
  m.version = t["version"].value_or<std::string>("");
  m.schema = static_cast<int>(t["schema"].value_or<std::int64_t>(0));
  m.created_at = t["created_at"].value_or<std::int64_t>(0);
  const toml::array* files = t["files"].as_array();
  if (files == nullptr) return Unexpected(Error::permanent(file.string() + ": no files"));
  for (const auto& node : *files) {
    const toml::table* f = node.as_table();
    FileEntry e;
    if (f != nullptr) {
      e.path = (*f)["path"].value_or<std::string>("");
      e.size = static_cast<std::uint64_t>((*f)["size"].value_or<std::int64_t>(-1));
      e.sha256 = (*f)["sha256"].value_or<std::string>("");
    }
    if (f == nullptr || !is_safe_path(e.path) || e.path == kManifestName || e.sha256.size() != 64) {
      return Unexpected(
          Error::permanent(file.string() + ": a file entry is malformed ('" + e.path + "')"));
    }
    m.files.push_back(std::move(e));
  }
  return m;
}

// Every regular file below `dir`, relative and '/'-separated.
void list_files(const fs::path& dir, const std::string& prefix, std::set<std::string>& out) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = prefix.empty() ? it->path().filename().string()
                                            : prefix + "/" + it->path().filename().string();
    auto st = it->symlink_status(ec);
    if (fs::is_directory(st)) {
      list_files(it->path(), name, out);
    } else {
      out.insert(name);
    }
  }
}

}  // namespace

Result<BackupReport> make_backup(const fs::path& state_dir, const fs::path& out_dir,
                                 const std::string& version, std::time_t now) {
  std::error_code ec;
  if (!fs::exists(state_dir / kDatabase, ec)) {
    return Unexpected(
        Error::permanent("no " + (state_dir / kDatabase).string() +
                         ": nothing to back up (has tlpmaild run on this state_dir?)"));
  }
  bool exists = false;
  if (!is_empty_dir(out_dir, exists)) {
    return Unexpected(Error::permanent(out_dir.string() +
                                       " is not an empty folder: a backup goes into a new one"));
  }
  if (!exists) {
    fs::create_directories(out_dir.parent_path().empty() ? fs::path(".") : out_dir.parent_path(),
                           ec);
  }
  if (auto r = make_private_dir(out_dir); !r) return Unexpected(r.error());

  BackupReport report;
  report.manifest.version = version;
  report.manifest.created_at = static_cast<std::int64_t>(now);
  std::vector<FileEntry> entries;
  bool done = false;
  for (int attempt = 1; attempt <= kMaxAttempts && !done; ++attempt) {
    entries.clear();
    report.attempts = attempt;
    auto r = copy_spool_and_database(state_dir, out_dir, report, entries);
    if (!r) return Unexpected(r.error());
    done = *r;
  }
  if (!done) {
    return Unexpected(Error::temporary("the spool changed under every one of " +
                                       std::to_string(kMaxAttempts) +
                                       " snapshots; try again when tlpmaild is less busy"));
  }

  const fs::path home = state_dir / kGnupg;
  if (fs::is_directory(home, ec)) {
    // No list key is created, rotated or retired while the home is copied.
    auto lock = openpgp::ListKeyLock::acquire(home);
    if (!lock) return Unexpected(lock.error());
    auto n = copy_tree(home, out_dir / kGnupg, kGnupg, true, entries);
    if (!n) return Unexpected(n.error());
    report.gnupg_files = *n;
  }
  if (fs::is_directory(state_dir / kKeysD, ec)) {
    auto n = copy_tree(state_dir / kKeysD, out_dir / kKeysD, kKeysD, false, entries);
    if (!n) return Unexpected(n.error());
    report.updated_keys = *n;
  }
  report.manifest.files = std::move(entries);
  if (auto r = write_manifest(out_dir, report.manifest); !r) return Unexpected(r.error());
  return report;
}

Result<Manifest> verify_backup(const fs::path& dir, int newest_schema) {
  auto m = read_manifest(dir);
  if (!m) return Unexpected(m.error());
  std::set<std::string> present;
  list_files(dir, "", present);
  present.erase(kManifestName);
  bool has_db = false;
  for (const auto& f : m->files) {
    if (!present.erase(f.path)) {
      return Unexpected(
          Error::permanent(dir.string() + ": " + f.path + " is in the manifest but missing"));
    }
    auto h = hash_file(dir / f.path);
    if (!h) return Unexpected(h.error());
    if (!*h || (*h)->size != f.size || (*h)->sha256 != f.sha256) {
      return Unexpected(Error::permanent(dir.string() + ": " + f.path +
                                         " differs from the manifest (size or SHA-256)"));
    }
    has_db = has_db || f.path == kDatabase;
  }
  if (!present.empty()) {
    return Unexpected(
        Error::permanent(dir.string() + ": " + *present.begin() + " is not in the manifest"));
  }
  if (!has_db)
    return Unexpected(Error::permanent(dir.string() + ": no tlpmail.db in the manifest"));
  if (m->schema > newest_schema) {
    return Unexpected(
        Error::permanent(dir.string() + " has schema version " + std::to_string(m->schema) +
                         ", newer than this tlpmail knows (" + std::to_string(newest_schema) +
                         "): restore it with tlpmail " + m->version + " or later"));
  }
  auto version = store::check_copy(dir / kDatabase);
  if (!version) return Unexpected(Error::permanent(version.error().message));
  if (*version != m->schema) {
    return Unexpected(Error::permanent(dir.string() + ": tlpmail.db has schema version " +
                                       std::to_string(*version) + ", the manifest says " +
                                       std::to_string(m->schema)));
  }
  return m;
}

Result<RestoreReport> restore_backup(const fs::path& dir, const fs::path& state_dir,
                                     const RestoreOptions& options) {
  auto m = verify_backup(dir, options.newest_schema);
  if (!m) return Unexpected(m.error());

  auto status = metrics::read_status(state_dir);
  if (status && *status && metrics::is_tlpmaild_alive((*status)->pid)) {
    return Unexpected(Error::permanent("tlpmaild (pid " + std::to_string((*status)->pid) +
                                       ") is running on " + state_dir.string() +
                                       ": stop it first (systemctl stop tlpmail)"));
  }
  RestoreReport report;
  report.manifest = *m;
  bool exists = false;
  if (!is_empty_dir(state_dir, exists)) {
    if (!options.force) {
      return Unexpected(Error::permanent(state_dir.string() +
                                         " is not empty: pass --force to replace the state there"));
    }
    report.replaced = true;
  }
  std::error_code ec;
  if (!exists) fs::create_directories(state_dir, ec);
  if (auto r = make_private_dir(state_dir); !r) return Unexpected(r.error());

  // Everything is copied (and checked again) before anything is replaced.
  const fs::path temp = state_dir / ".restore";
  fs::remove_all(temp, ec);
  if (auto r = make_private_dir(temp); !r) return Unexpected(r.error());
  for (const auto& f : m->files) {
    const fs::path to = temp / f.path;
    for (fs::path p = temp, rel = fs::path(f.path).parent_path(); const auto& part : rel) {
      p /= part;
      if (auto r = make_private_dir(p); !r) return Unexpected(r.error());
    }
    auto c = copy_one_file(dir / f.path, to);
    if (!c) return Unexpected(c.error());
    if (!*c || (*c)->sha256 != f.sha256) {
      fs::remove_all(temp, ec);
      return Unexpected(Error::permanent(f.path + " changed while it was restored"));
    }
  }
  // An empty spool is a folder in the state too.
  if (auto r = make_private_dir(temp / "spool"); !r) return Unexpected(r.error());
  if (auto r = make_private_dir(temp / kSpoolMsg); !r) return Unexpected(r.error());

  if (report.replaced) {
    if (fs::is_directory(state_dir / kGnupg, ec)) openpgp::kill_gnupg_daemons(state_dir / kGnupg);
    for (const char* name : {"tlpmail.db", "tlpmail.db-wal", "tlpmail.db-shm", "tlpmail.db-journal",
                             metrics::kStatusFileName}) {
      fs::remove(state_dir / name, ec);
    }
    for (const char* name : {kGnupg, kKeysD, "spool"}) fs::remove_all(state_dir / name, ec);
  }
  for (const char* name : {kDatabase, kGnupg, kKeysD, "spool"}) {
    if (!fs::exists(temp / name, ec)) continue;
    fs::rename(temp / name, state_dir / name, ec);
    if (ec) {
      return Unexpected(Error::temporary("cannot move " + (temp / name).string() +
                                         " into place: " + ec.message()));
    }
  }
  fs::remove_all(temp, ec);
  if (auto r = fsync_dir(state_dir); !r) return Unexpected(r.error());
  return report;
}

}  // namespace tlpmail::backup
