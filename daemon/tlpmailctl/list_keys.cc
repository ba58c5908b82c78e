// list-key, import-list-key and the KEY column of `lists`. The reading
// commands work on a snapshot: the keyrings and secret key files of
// state_dir/gnupg copied into a throwaway home (in /dev/shm when there is
// one, so the copies of secret keys stay in memory), because gpg run on the
// daemon's own home starts gpg-agent there and writes trustdb files. Only
// import-list-key writes into state_dir/gnupg. The key logic is lib/openpgp's.
#include <pwd.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <system_error>

#include "config/config.h"
#include "tlpmailctl/ctl.h"
#include "openpgp/context.h"
#include "openpgp/list_key.h"
#include "openpgp/temp_home.h"
#include "util/files.h"

namespace tlpmail::ctl {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNoKeyYet =
    ": start tlpmaild once, or import one with tlpmailctl import-list-key";

fs::path home_of(const config::Config& c) { return c.paths.state_dir / "gnupg"; }

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

}  // namespace

std::vector<ListKeyView> view_list_keys(const config::Config& c) {
  const auto& lists = c.directory.lists();
  std::vector<ListKeyView> out(lists.size(), ListKeyView{"", "none yet", ""});
  if (lists.empty()) return out;
  const fs::path real = home_of(c);
  auto unknown = [&](const std::string& why) {
    for (auto& v : out) v = ListKeyView{"", "unknown", why};
    return out;
  };
  auto snap = snapshot(real);
  if (!snap) return unknown(snap.error().message);
  if (!snap->has_value()) return out;
  auto ctx = openpgp::Context::open((*snap)->path());
  if (!ctx) return unknown(ctx.error().message);
  for (std::size_t i = 0; i < lists.size(); ++i) {
    auto found = find_in(*ctx, real, lists[i].address);
    if (!found) {
      out[i] = ListKeyView{"", "problem", found.error().message};
    } else if (found->has_value()) {
      out[i] = ListKeyView{(*found)->fingerprint, (*found)->fingerprint, ""};
    }
  }
  return out;
}

int list_key(const Options& o, std::ostream& out, std::ostream& err) {
  auto cfg = load_config_or_report(o, out, err);
  if (!cfg) return 1;
  const auto* list = find_list_or_report(*cfg, o, err);
  if (!list) return 1;
  const fs::path real = home_of(*cfg);
  const std::string no_key = "tlpmailctl: no key for list " + list->address + " yet" + kNoKeyYet;
  auto snap = snapshot(real);
  if (!snap) {
    err << "tlpmailctl: " << snap.error().message << "\n";
    return 1;
  }
  if (!snap->has_value()) {
    err << no_key << "\n";
    return 1;
  }
  auto ctx = openpgp::Context::open((*snap)->path());
  if (!ctx) {
    err << "tlpmailctl: " << ctx.error().message << "\n";
    return 1;
  }
  auto found = find_in(*ctx, real, list->address);
  if (!found) {
    err << "tlpmailctl: " << found.error().message << "\n";
    return 1;
  }
  if (!found->has_value()) {
    err << no_key << "\n";
    return 1;
  }
  const std::string fpr = (*found)->fingerprint;
  auto armored = openpgp::export_public(*ctx, fpr);
  if (!armored) {
    err << "tlpmailctl: " << replace_all(armored.error().message, ctx->home().string(), real)
        << "\n";
    return 1;
  }
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
  auto cfg = load_config_or_report(o, out, err);
  if (!cfg) return 1;
  const fs::path file = o.args.at(1);
  const auto* list = find_list_or_report(*cfg, o, err);
  if (!list) return 1;
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

}  // namespace tlpmail::ctl
