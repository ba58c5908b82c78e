// list-key, import-list-key, the list key lifecycle (rotate-list-key,
// retire-list-key, extend-list-key), wkd, and the KEY column of `lists`.
// The reading commands work on a snapshot: the keyrings and secret key
// files of state_dir/gnupg copied into a throwaway home (in /dev/shm when
// there is one, so the copies of secret keys stay in memory), because gpg
// run on the daemon's own home starts gpg-agent there and writes trustdb
// files. Rotation and extension change the keys in such a snapshot too and
// import the result into state_dir/gnupg; import-list-key imports and
// retire-list-key deletes there. Every change holds the list key lock.
// The key logic is lib/openpgp's, the announcement lib/fanout's.
#include <pwd.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <system_error>

#include "config/config.h"
#include "fanout/announce.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "openpgp/list_key.h"
#include "openpgp/publish.h"
#include "openpgp/temp_home.h"
#include "queue/outbox.h"
#include "store/database.h"
#include "tlpmailctl/ctl.h"
#include "util/files.h"
#include "util/text.h"
#include "util/wiped.h"

namespace tlpmail::ctl {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNoKeyYet =
    ": start tlpmaild once, or import one with tlpmailctl import-list-key";

fs::path home_of(const config::Config& c) { return c.paths.state_dir / "gnupg"; }

// "tlpmailctl: <what>" on err; the command's exit status 1.
int fail(std::ostream& err, const std::string& what) {
  err << "tlpmailctl: " << what << "\n";
  return 1;
}

// Replaces every `from` in `text` (snapshot paths in lib/openpgp's
// messages become the real home's path, which the admin can act on).
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

Result<void> copy_into(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return Unexpected(Error::permanent("cannot read " + from.string() + ": " + ec.message()));
  return {};
}

// A private copy of the public keyrings and secret key files of `real`;
// nullopt when `real` does not exist. Nothing in `real` is changed.
// Errors: permanent when `real` or a file in it cannot be read.
Result<std::optional<openpgp::TempHome>> snapshot(const fs::path& real) {
  std::error_code ec;
  const auto st = fs::status(real, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Unexpected(
        Error::permanent("cannot read GnuPG home " + real.string() + ": " + ec.message()));
  }
  if (!fs::exists(st)) return std::optional<openpgp::TempHome>();
  if (!fs::is_directory(st)) {
    return Unexpected(Error::permanent("GnuPG home " + real.string() + " is not a folder"));
  }
  if (::access(real.c_str(), R_OK | X_OK) != 0) {
    return Unexpected(
        Error::permanent("cannot read GnuPG home " + real.string() + ": " + std::strerror(errno)));
  }
  const bool shm = fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0;
  auto tmp = openpgp::TempHome::create(shm ? "/dev/shm/tlpl-XXXXXX" : "/tmp/tlpl-XXXXXX");
  if (!tmp) return Unexpected(tmp.error());
  for (const char* name : {"pubring.kbx", "pubring.gpg"}) {
    if (!fs::exists(real / name, ec)) continue;
    if (auto r = copy_into(real / name, tmp->path() / name); !r) return Unexpected(r.error());
  }
  const fs::path secret = real / "private-keys-v1.d";
  if (fs::is_directory(secret, ec)) {
    const fs::path copy = tmp->path() / "private-keys-v1.d";
    if (::mkdir(copy.c_str(), 0700) != 0) {
      return Unexpected(
          Error::temporary("cannot create " + copy.string() + ": " + std::strerror(errno)));
    }
    fs::directory_iterator it(secret, ec);
    if (ec) {
      return Unexpected(Error::permanent("cannot read " + secret.string() + ": " + ec.message()));
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      const auto& p = it->path();
      if (p.extension() != ".key" || !it->is_regular_file(ec)) continue;
      if (auto r = copy_into(p, copy / p.filename()); !r) return Unexpected(r.error());
    }
    if (ec) {
      return Unexpected(Error::permanent("cannot read " + secret.string() + ": " + ec.message()));
    }
  }
  return std::optional<openpgp::TempHome>(std::move(*tmp));
}

// The list key of `address` in a snapshot, with messages naming `real`.
Result<std::optional<openpgp::KeyFacts>> find_in(openpgp::Context& ctx, const fs::path& real,
                                                 const std::string& address) {
  auto found = openpgp::find_list_key(ctx, address);
  if (!found) {
    Error e = found.error();
    e.message = replace_all(e.message, ctx.home().string(), real.string());
    return Unexpected(e);
  }
  return found;
}

std::string user_name(uid_t uid) {
  if (const passwd* pw = ::getpwuid(uid)) return pw->pw_name;
  return std::to_string(uid);
}

// Files under `home` that do not belong to the owner of `state_dir` (the
// service user, who must be able to use them).
std::size_t foreign_files(const fs::path& state_dir, const fs::path& home, uid_t* owner) {
  struct stat st {};
  if (::lstat(state_dir.c_str(), &st) != 0) return 0;
  *owner = st.st_uid;
  std::size_t n = 0;
  std::error_code ec;
  if (::lstat(home.c_str(), &st) == 0 && st.st_uid != *owner) ++n;
  for (fs::recursive_directory_iterator it(home, ec), end; !ec && it != end; it.increment(ec)) {
    if (::lstat(it->path().c_str(), &st) == 0 && st.st_uid != *owner) ++n;
  }
  return n;
}

ListKeyView make_view(std::string fingerprint, std::string word, std::string problem) {
  ListKeyView v;
  v.fingerprint = std::move(fingerprint);
  v.word = std::move(word);
  v.problem = std::move(problem);
  return v;
}

}  // namespace

std::vector<ListKeyView> view_list_keys(const config::Config& c) {
  const auto& lists = c.directory.lists();
  std::vector<ListKeyView> out(lists.size(), make_view("", "none yet", ""));
  if (lists.empty()) return out;
  const fs::path real = home_of(c);
  auto unknown = [&](const std::string& why) {
    for (auto& v : out) v = make_view("", "unknown", why);
    return out;
  };
  auto snap = snapshot(real);
  if (!snap) return unknown(snap.error().message);
  if (!snap->has_value()) return out;
  auto ctx = openpgp::Context::open((*snap)->path());
  if (!ctx) return unknown(ctx.error().message);
  const std::time_t now = std::time(nullptr);
  for (std::size_t i = 0; i < lists.size(); ++i) {
    auto found = openpgp::find_list_keys(*ctx, lists[i].address);
    if (!found) {
      out[i] = make_view("", "problem",
                         replace_all(found.error().message, ctx->home().string(), real));
      continue;
    }
    if (!found->has_value()) continue;
    const openpgp::ListKeys& keys = **found;
    ListKeyView& v = out[i];
    v = make_view(keys.current.fingerprint, keys.current.fingerprint, "");
    v.expires = keys.current.expires;
    for (const openpgp::PreviousListKey& p : keys.previous) {
      if (p.in_grace) v.in_grace.emplace_back(p.facts.fingerprint, p.facts.expires);
    }
    const std::time_t left = keys.current.expires - now;
    if (keys.current.expires > 0 && left <= std::time_t{fanout::kListKeyWarningDays} * 86400) {
      const long days = static_cast<long>(left / 86400);
      v.warning = "the list key " + keys.current.fingerprint + " of " + lists[i].address +
                  " expires on " + iso_date(keys.current.expires) + " (in " +
                  std::to_string(days) + (days == 1 ? " day" : " days") +
                  "); run tlpmailctl extend-list-key " + lists[i].address;
    }
  }
  return out;
}

void warn_about_list_keys(const config::Config& c, std::ostream& err) {
  for (const ListKeyView& v : view_list_keys(c)) {
    if (!v.warning.empty()) err << "tlpmailctl: warning: " << v.warning << "\n";
  }
}

int list_key(const Options& o, std::ostream& out, std::ostream& err) {
  const auto [cfg, list] = load_list_or_report(o, out, err);
  if (!list) return 1;
  const fs::path real = home_of(*cfg);
  const std::string no_key = "no key for list " + list->address + " yet" + kNoKeyYet;
  auto snap = snapshot(real);
  if (!snap) return fail(err, snap.error().message);
  if (!snap->has_value()) return fail(err, no_key);
  auto ctx = openpgp::Context::open((*snap)->path());
  if (!ctx) return fail(err, ctx.error().message);
  auto found = find_in(*ctx, real, list->address);
  if (!found) return fail(err, found.error().message);
  if (!found->has_value()) return fail(err, no_key);
  const std::string fpr = (*found)->fingerprint;
  auto armored = openpgp::export_public(*ctx, fpr);
  if (!armored) return fail(err, replace_all(armored.error().message, ctx->home().string(), real));
  if (o.json) {
    out << toml::json_formatter{toml::table{
               {"list", list->address}, {"fingerprint", fpr}, {"armored", *armored}}}
        << "\n";
  } else {
    out << *armored;
  }
  return 0;
}

int import_list_key(const Options& o, std::ostream& out, std::ostream& err) {
  const auto [cfg, list] = load_list_or_report(o, out, err);
  if (!list) return 1;
  const fs::path file = o.args.at(1);
  const fs::path state_dir = cfg->paths.state_dir;
  const fs::path home = home_of(*cfg);
  for (const auto& dir : {state_dir, home}) {
    if (auto r = ensure_private_dir(dir); !r) {
      err << "tlpmailctl: " << r.error().message << "\n";
      return 1;
    }
  }
  // An agent this command starts in the daemon's home is stopped again; one
  // that was running (the daemon's) is left alone.
  std::error_code ec;
  const bool agent_was_running = fs::exists(home / "S.gpg-agent", ec);
  Result<std::string> imported = Unexpected(Error::temporary("not run"));
  {
    auto ctx = openpgp::Context::open(home);
    if (!ctx) {
      imported = Unexpected(ctx.error());
    } else {
      imported = openpgp::import_secret_key_file(*ctx, file, list->address);
    }
  }
  if (!agent_was_running) openpgp::kill_gnupg_daemons(home);
  if (!imported) {
    err << "tlpmailctl: " << imported.error().message << "\n";
    return 1;
  }
  uid_t owner = 0;
  if (std::size_t n = foreign_files(state_dir, home, &owner)) {
    err << "tlpmailctl: warning: " << n << " file(s) in " << home.string() << " do not belong to "
        << user_name(owner) << ", who owns " << state_dir.string() << "; run: chown -R "
        << user_name(owner) << ": " << home.string() << "\n";
  }
  if (o.json) {
    out << toml::json_formatter{toml::table{
               {"list", list->address}, {"fingerprint", *imported}, {"home", home.string()}}}
        << "\n";
  } else {
    out << list->address << ": list key " << *imported << " imported into " << home.string() << "\n"
        << "tlpmaild uses it from its next start or reload (SIGHUP)\n";
  }
  return 0;
}

namespace {

// The name in a list key's user ID: the description when it can stand in
// one, else empty (lib/openpgp then takes the local part). As tlpmaild.
std::string key_name(const directory::MailingList& list) {
  for (unsigned char c : list.description) {
    if (c < 0x20 || c == 0x7f || c == '<' || c == '>') return {};
  }
  return list.description.size() > 200 ? std::string() : list.description;
}

// "2027-01-05 14:03 UTC".
std::string date_time(std::time_t t) { return utc_time(t, "%Y-%m-%d %H:%M UTC"); }

// What a key-changing command holds while it runs: the list key lock and
// the knowledge whether gpg-agent already ran in the daemon's home (one
// that this command starts there is stopped again at the end).
class HomeSession {
 public:
  static Result<HomeSession> open(const config::Config& c) {
    const fs::path home = home_of(c);
    std::error_code ec;
    if (!fs::is_directory(home, ec)) {
      return Unexpected(Error::permanent("no GnuPG home " + home.string() +
                                         " yet: start tlpmaild once, or import a key with "
                                         "tlpmailctl import-list-key"));
    }
    auto lock = openpgp::ListKeyLock::acquire(home);
    if (!lock) return Unexpected(lock.error());
    return HomeSession(home, std::move(*lock), fs::exists(home / "S.gpg-agent", ec));
  }
  HomeSession(HomeSession&& other) noexcept
      : home_(std::move(other.home_)),
        lock_(std::move(other.lock_)),
        agent_was_running_(other.agent_was_running_) {
    other.home_.clear();
  }
  HomeSession& operator=(HomeSession&&) = delete;
  ~HomeSession() {
    if (!agent_was_running_ && !home_.empty()) openpgp::kill_gnupg_daemons(home_);
  }
  const fs::path& home() const { return home_; }

 private:
  HomeSession(fs::path home, openpgp::ListKeyLock lock, bool agent)
      : home_(std::move(home)), lock_(std::move(lock)), agent_was_running_(agent) {}
  fs::path home_;
  openpgp::ListKeyLock lock_;
  bool agent_was_running_ = false;
};

// A snapshot of the daemon's home with a context on it.
struct Snapshot {
  openpgp::TempHome home;
  openpgp::Context ctx;
};

Result<Snapshot> open_snapshot(const fs::path& real) {
  auto snap = snapshot(real);
  if (!snap) return Unexpected(snap.error());
  if (!snap->has_value()) {
    return Unexpected(Error::permanent("no GnuPG home " + real.string() + " yet"));
  }
  auto ctx = openpgp::Context::open((*snap)->path());
  if (!ctx) return Unexpected(ctx.error());
  return Snapshot{std::move(**snap), std::move(*ctx)};
}

// Where a key-changing command works: the session on the daemon's home and
// a snapshot of that home, changed first and imported from afterwards.
struct KeyWork {
  HomeSession session;
  Snapshot snap;

  const fs::path& real() const { return session.home(); }
  // `e`'s message with the snapshot's path replaced by the daemon's home
  // (a path the admin can act on).
  std::string named(const Error& e) const {
    return replace_all(e.message, snap.home.path().string(), real().string());
  }
};

Result<KeyWork> open_key_work(const config::Config& c) {
  auto session = HomeSession::open(c);
  if (!session) return Unexpected(session.error());
  auto snap = open_snapshot(session->home());
  if (!snap) return Unexpected(snap.error());
  return KeyWork{std::move(*session), std::move(*snap)};
}

// Imports `data` into the daemon's home; the message names `what`.
Result<void> import_into(const fs::path& home, std::string_view data, const std::string& what) {
  auto ctx = openpgp::Context::open(home);
  if (!ctx) return Unexpected(ctx.error());
  auto r = ctx->import_data(data);
  if (!r) {
    return Unexpected(Error{r.error().kind, "importing " + what + " into " + home.string() +
                                                ": " + r.error().message});
  }
  if (!r->problems.empty()) {
    return Unexpected(Error::temporary("importing " + what + " into " + home.string() + ": " +
                                       r->problems.front()));
  }
  return {};
}

// Warns when files the command wrote under `state_dir` belong to someone
// other than its owner (the service user must be able to use them).
void warn_foreign(const fs::path& state_dir, const fs::path& home, std::ostream& err) {
  uid_t owner = 0;
  if (std::size_t n = foreign_files(state_dir, home, &owner)) {
    err << "tlpmailctl: warning: " << n << " file(s) in " << home.string()
        << " do not belong to " << user_name(owner) << ", who owns " << state_dir.string()
        << "; run: chown -R " << user_name(owner) << ": " << home.string() << "\n";
  }
}

toml::array not_reached_json(const std::vector<fanout::Withheld>& w) {
  toml::array a;
  for (const auto& x : w) a.push_back(toml::table{{"email", x.email}, {"why", x.why}});
  return a;
}

// Writes `data` to `path` (mode `mode`) through a temporary file and a
// rename, creating missing folders with mode 0755.
Result<void> publish_file(const fs::path& path, std::string_view data, mode_t mode) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Unexpected(Error::permanent("cannot create " + path.parent_path().string() + ": " + ec.message()));
  for (fs::path p = path.parent_path(); !p.empty(); p = p.parent_path()) {
    // Folders made here are world-readable whatever the umask (a web server reads them).
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || (st.st_mode & 0755) == 0755) break;
    if (st.st_uid != ::geteuid()) break;
    ::chmod(p.c_str(), st.st_mode | 0755);
  }
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    f.close();
    if (!f) return Unexpected(Error::permanent("cannot write " + tmp.string()));
  }
  if (::chmod(tmp.c_str(), mode) != 0) {
    return Unexpected(Error::permanent("cannot chmod " + tmp.string() + ": " + std::strerror(errno)));
  }
  fs::rename(tmp, path, ec);
  if (ec) return Unexpected(Error::permanent("cannot rename " + tmp.string() + ": " + ec.message()));
  return {};
}

}  // namespace

int rotate_list_key(const Options& o, std::ostream& out, std::ostream& err) {
  const auto [cfg, list] = load_list_or_report(o, out, err);
  if (!list) return 1;
  if (o.grace_days < 0 || o.grace_days > 365) {
    return fail(err, "--grace wants 0 to 365 days, got " + std::to_string(o.grace_days));
  }
  auto work = open_key_work(*cfg);
  if (!work) return fail(err, work.error().message);
  const fs::path real = work->real();
  openpgp::Context& gpg = work->snap.ctx;

  // 1. In the snapshot: the successor, certified; the members' keys; the
  // announcement, signed while the old key has no end yet; the grace.
  auto keys = openpgp::find_list_keys(gpg, list->address);
  if (!keys) return fail(err, work->named(keys.error()));
  if (!keys->has_value()) {
    return fail(err, "no key for list " + list->address + " yet" + kNoKeyYet);
  }
  const std::string old_fpr = (*keys)->current.fingerprint;
  const std::time_t now = std::time(nullptr);
  auto report = keyring::load_keys(*cfg, work->snap.home.path(), now);
  if (!report) return fail(err, "cannot read the members' keys: " + work->named(report.error()));
  auto new_fpr = openpgp::create_successor_key(gpg, list->address, key_name(*list));
  if (!new_fpr) return fail(err, work->named(new_fpr.error()));
  auto armored = openpgp::export_key(gpg, *new_fpr, openpgp::KeyExport::public_full, true);
  if (!armored) return fail(err, work->named(armored.error()));
  const std::time_t grace = static_cast<std::time_t>(o.grace_days) * 86400;
  fanout::KeyChange change{old_fpr, *new_fpr, *armored, now + grace, now};
  auto announcement = fanout::announce_new_list_key(gpg, *cfg, *report, *list, change);
  if (!announcement) return fail(err, work->named(announcement.error()));
  if (auto r = openpgp::end_grace_in(gpg, old_fpr, grace > 0 ? grace : 1); !r) {
    return fail(err, work->named(r.error()));
  }
  Wiped secret;
  {
    auto s = openpgp::export_key(gpg, *new_fpr, openpgp::KeyExport::secret, false);
    if (!s) return fail(err, work->named(s.error()));
    secret.value = std::move(*s);
  }
  auto old_public = openpgp::export_key(gpg, old_fpr, openpgp::KeyExport::public_full, false);
  if (!old_public) return fail(err, work->named(old_public.error()));

  // 2. Into the daemon's home: the new key whole (it is the current key
  // from this import on), then the old key's new expiry.
  if (auto r = import_into(real, secret.value, "the new list key " + *new_fpr); !r) {
    return fail(err, r.error().message);
  }
  if (auto r = import_into(real, *old_public, "the old list key's grace period"); !r) {
    return fail(err, r.error().message + " (the new key " + *new_fpr +
                         " is in place; the old key stays accepted until you retire it)");
  }
  {
    auto ctx = openpgp::Context::open(real);
    auto now_keys = ctx ? openpgp::find_list_key(*ctx, list->address)
                        : Result<std::optional<openpgp::KeyFacts>>(Unexpected(ctx.error()));
    if (!now_keys || !now_keys->has_value() || (*now_keys)->fingerprint != *new_fpr) {
      return fail(err, "the new list key " + *new_fpr + " was imported into " + real.string() +
                           " but is not taken as the list's key: " +
                           (now_keys ? std::string("another key is") : now_keys.error().message));
    }
  }

  // 3. The announcement, durable in the outbox; tlpmaild sends it.
  const fs::path db_path = cfg->paths.state_dir / "tlpmail.db";
  auto db = store::Database::open(db_path);
  if (!db) {
    return fail(err, "the new key " + *new_fpr + " is in place, but the announcement could not "
                     "be queued: " + db.error().message +
                     "; send the members the key (tlpmailctl list-key " + list->address + ")");
  }
  queue::Outbox outbox(**db);
  if (auto r = outbox.add(announcement->message, now); !r) {
    return fail(err, "the new key " + *new_fpr + " is in place, but the announcement could not "
                     "be queued: " + r.error().message +
                     "; send the members the key (tlpmailctl list-key " + list->address + ")");
  }
  warn_foreign(cfg->paths.state_dir, real, err);

  const auto& copies = announcement->message.copies;
  if (o.json) {
    toml::array to;
    for (const auto& c : copies) to.push_back(c.recipient);
    out << toml::json_formatter{toml::table{
               {"list", list->address},
               {"fingerprint", *new_fpr},
               {"previous_fingerprint", old_fpr},
               {"grace_until", date_time(now + grace)},
               {"grace_until_unix", static_cast<std::int64_t>(now + grace)},
               {"announcement", announcement->message.id},
               {"announced_to", to},
               {"not_reached", not_reached_json(announcement->not_reached)}}}
        << "\n";
  } else {
    out << list->address << ": new list key " << *new_fpr << " (replaces " << old_fpr << ")\n";
    if (grace > 0) {
      out << "  mail encrypted to the old key is accepted until " << date_time(now + grace)
          << "\n";
    } else {
      out << "  mail encrypted to the old key is refused from now on\n";
    }
    out << "  announcement queued for " << copies.size() << " member(s) and admin(s), signed by "
        << "both keys (tlpmailctl queue shows its delivery)\n"
        << "tlpmaild uses the new key at once; once the grace period is over, run\n"
        << "  tlpmailctl retire-list-key " << list->address << " " << old_fpr << "\n";
  }
  for (const auto& w : announcement->not_reached) {
    err << "tlpmailctl: warning: " << w.email << " gets no announcement (" << w.why << ")\n";
  }
  return 0;
}

int retire_list_key(const Options& o, std::ostream& out, std::ostream& err) {
  const auto [cfg, list] = load_list_or_report(o, out, err);
  if (!list) return 1;
  const std::string fpr = openpgp::normalize_fingerprint(o.args.at(1));
  if (fpr.empty()) return fail(err, "not a fingerprint: '" + o.args.at(1) + "'");
  auto session = HomeSession::open(*cfg);
  if (!session) return fail(err, session.error().message);
  {
    auto ctx = openpgp::Context::open(session->home());
    if (!ctx) return fail(err, ctx.error().message);
    if (auto r = openpgp::retire_list_key(*ctx, list->address, fpr); !r) {
      return fail(err, r.error().message);
    }
  }
  if (o.json) {
    out << toml::json_formatter{toml::table{{"list", list->address}, {"retired", fpr}}} << "\n";
  } else {
    out << list->address << ": list key " << fpr << " deleted from " << session->home().string()
        << "\n  mail encrypted to it can no longer be decrypted here\n";
  }
  return 0;
}

int extend_list_key(const Options& o, std::ostream& out, std::ostream& err) {
  const auto [cfg, list] = load_list_or_report(o, out, err);
  if (!list) return 1;
  if (o.days < 1 || o.days > 10 * 365) {
    return fail(err, "--days wants 1 to 3650 days, got " + std::to_string(o.days));
  }
  auto work = open_key_work(*cfg);
  if (!work) return fail(err, work.error().message);
  const fs::path real = work->real();
  auto fpr = openpgp::extend_list_key(work->snap.ctx, list->address, o.days);
  if (!fpr) return fail(err, work->named(fpr.error()));
  auto added = openpgp::add_request_user_id(work->snap.ctx, *fpr, list->address);
  if (!added) return fail(err, work->named(added.error()));
  auto extended = openpgp::export_key(work->snap.ctx, *fpr, openpgp::KeyExport::public_full, false);
  if (!extended) return fail(err, work->named(extended.error()));
  auto facts = work->snap.ctx.find_key(*fpr);
  if (!facts || !facts->has_value()) return fail(err, "the extended key " + *fpr + " is gone");
  if (auto r = import_into(real, *extended, "the extended list key " + *fpr); !r) {
    return fail(err, r.error().message);
  }
  warn_foreign(cfg->paths.state_dir, real, err);
  const std::time_t expires = (*facts)->expires;
  if (o.json) {
    out << toml::json_formatter{toml::table{{"list", list->address},
                                            {"fingerprint", *fpr},
                                            {"expires", iso_date(expires)},
                                            {"expires_unix", static_cast<std::int64_t>(expires)},
                                            {"request_user_id_added", *added}}}
        << "\n";
  } else {
    out << list->address << ": list key " << *fpr << " now expires on " << iso_date(expires)
        << "\n";
    if (*added) out << "  added the user ID for " << list->request_address() << "\n";
    out << "  members need not do anything; tlpmailctl list-key gives the updated key\n";
  }
  return 0;
}

int wkd(const Options& o, std::ostream& out, std::ostream& err) {
  auto cfg = load_config_or_report(o, out, err);
  if (!cfg) return 1;
  std::vector<const directory::MailingList*> lists;
  for (const std::string& a : o.args) {
    const auto* l = cfg->directory.find_list(a);
    if (!l) return fail(err, "no list with address '" + a + "'");
    lists.push_back(l);
  }
  const fs::path real = home_of(*cfg);
  auto snap = open_snapshot(real);
  if (!snap) return fail(err, snap.error().message);
  const fs::path dir = o.out_dir;
  toml::array files;
  for (const auto* l : lists) {
    auto found = find_in(snap->ctx, real, l->address);
    if (!found) return fail(err, found.error().message);
    if (!found->has_value()) return fail(err, "no key for list " + l->address + " yet" + kNoKeyYet);
    const openpgp::KeyFacts& key = **found;
    const std::string domain = ascii_lower(l->domain());
    for (const std::string& address : {l->address, l->request_address()}) {
      auto data = openpgp::wkd_key_of(snap->ctx, key, address);
      if (!data) {
        err << "tlpmailctl: " << address << ": not published: " << data.error().message
            << (address == l->address ? "" : " (tlpmailctl extend-list-key adds the user ID)")
            << "\n";
        if (address == l->address) return 1;
        continue;
      }
      const std::string local = address.substr(0, address.rfind('@'));
      const std::string hash = openpgp::wkd_hash(local);
      const fs::path advanced = dir / ("openpgpkey." + domain) / ".well-known" / "openpgpkey" /
                                domain / "hu" / hash;
      const fs::path direct = dir / domain / ".well-known" / "openpgpkey" / "hu" / hash;
      for (const fs::path& p : {advanced, direct}) {
        if (auto r = publish_file(p, *data, 0644); !r) return fail(err, r.error().message);
        if (auto r = publish_file(p.parent_path().parent_path() / "policy", "", 0644); !r) {
          return fail(err, r.error().message);
        }
      }
      files.push_back(toml::table{{"list", l->address},
                                  {"address", address},
                                  {"fingerprint", key.fingerprint},
                                  {"hash", hash},
                                  {"advanced", advanced.string()},
                                  {"direct", direct.string()}});
      if (!o.json) {
        out << address << " " << key.fingerprint << " " << hash << "\n  " << advanced.string()
            << "\n  " << direct.string() << "\n";
      }
    }
  }
  if (o.json) out << toml::json_formatter{toml::table{{"files", files}}} << "\n";
  return 0;
}

}  // namespace tlpmail::ctl
