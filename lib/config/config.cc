// load_config(): reads tlpmail.toml, then the directory and every list file
// it points to, checks what spans files (members known, admins members,
// list addresses unique) and builds the immutable Config only when no error
// was found. Never throws for bad input; never stops at the first problem.
#include "config/config.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <system_error>

#include "config/directory_file.h"
#include "config/list_file.h"
#include "config/main_file.h"
#include "config/toml_read.h"
#include "util/result.h"
#include "util/text.h"

namespace tlpmail::config {
namespace {

namespace fs = std::filesystem;
using detail::FileReporter;
using detail::PathRef;

Result<std::string> read_text(const fs::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Unexpected(Error::permanent(std::strerror(errno)));
  }
  std::string out;
  char buf[8192];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) out.append(buf, n);
  bool failed = std::ferror(file) != 0;
  int err = errno;
  (void)std::fclose(file);
  if (failed) return Unexpected(Error::permanent(std::strerror(err)));
  return out;
}

enum class Want { file, folder };

// Checks that a configured path exists and is a file or folder; problems
// are reported where the path was configured (line 0: the default).
bool check_exists(const PathRef& ref, Want want, FileReporter& main) {
  if (!ref.path) return false;
  std::error_code ec;
  fs::file_status st = fs::status(*ref.path, ec);
  const std::string what = std::string(ref.key) + " " + detail::quote(ref.path->string());
  if (st.type() == fs::file_type::not_found) {
    main.error(ref.line, what + " not found");
    return false;
  }
  if (ec) {
    main.error(ref.line, what + ": cannot access: " + ec.message());
    return false;
  }
  if (want == Want::file && fs::is_directory(st)) {
    main.error(ref.line, what + " is a folder, not a file");
    return false;
  }
  if (want == Want::folder && !fs::is_directory(st)) {
    main.error(ref.line, what + " is not a folder");
    return false;
  }
  return true;
}

// Reads and parses one file; problems are reported against the file itself.
std::optional<toml::table> load_toml(const fs::path& path, FileReporter& f) {
  auto text = read_text(path);
  if (!text) {
    f.error(0, "cannot read: " + text.error().message);
    return std::nullopt;
  }
  return detail::parse_toml(*text, f);
}

// The list files of lists_dir, sorted by name: *.toml, not hidden.
std::vector<fs::path> list_files(const fs::path& dir, const PathRef& ref, FileReporter& main) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.') continue;
    if (name.size() <= 5 || name.substr(name.size() - 5) != ".toml") continue;
    out.push_back(dir / name);
  }
  if (ec) {
    main.error(ref.line, std::string(ref.key) + " " + detail::quote(dir.string()) +
                             ": cannot read: " + ec.message());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Where {
  std::string list_address;
  std::string file;
  directory::ListRole role;
};

// Cross-file checks: every list's members and admins against the
// directory, and every address against every other.
void check_lists(std::vector<detail::ListEntry>& lists,
                 const std::vector<detail::PersonEntry>& people, bool directory_usable,
                 const std::string& directory_file, detail::Reporter& rep) {
  std::map<std::string, const detail::PersonEntry*> person_by_email;
  for (const auto& p : people) {
    if (p.email_ok) person_by_email.emplace(ascii_lower(p.person.email), &p);
  }
  std::map<std::string, Where> taken;  // lower-cased address -> owner
  for (auto& e : lists) {
    FileReporter f(rep, e.list.at.file);
    const directory::MailingList& l = e.list;
    if (directory_usable) {
      for (std::size_t i = 0; i < l.members.size(); ++i) {
        if (!person_by_email.contains(ascii_lower(l.members[i]))) {
          f.error(e.member_lines[i],
                  "member " + detail::quote(l.members[i]) + " is not in the directory");
        }
      }
    }
    for (std::size_t i = 0; i < l.admins.size(); ++i) {
      if (directory_usable && !person_by_email.contains(ascii_lower(l.admins[i]))) {
        f.error(e.admin_lines[i],
                "admin " + detail::quote(l.admins[i]) + " is not in the directory");
      } else if (e.members_read && !l.has_member(l.admins[i])) {
        f.error(e.admin_lines[i],
                "admin " + detail::quote(l.admins[i]) + " is not a member of this list");
      }
    }
    if (!e.address_ok) continue;

    const int line = l.at.line;
    const std::array<std::pair<directory::ListRole, std::string>, 3> own = {{
        {directory::ListRole::post, l.address},
        {directory::ListRole::request, l.request_address()},
        {directory::ListRole::bounces, l.bounces_address()},
    }};
    auto role_name = [](directory::ListRole r) -> std::string {
      switch (r) {
        case directory::ListRole::post:
          return "list address";
        case directory::ListRole::request:
          return "-request address";
        case directory::ListRole::bounces:
          return "-bounces address";
      }
      return "address";
    };
    bool collided = false;
    for (const auto& [role, addr] : own) {
      auto it = taken.find(ascii_lower(addr));
      if (it == taken.end()) continue;
      const Where& w = it->second;
      collided = true;
      if (role == directory::ListRole::post && w.role == directory::ListRole::post) {
        f.error(line, "list address " + detail::quote(addr) + " is already used by " + w.file);
      } else if (role == directory::ListRole::post) {
        f.error(line, "address " + detail::quote(addr) + " collides with the " + role_name(w.role) +
                          " of list " + detail::quote(w.list_address) + " (" + w.file + ")");
      } else {
        f.error(line, role_name(role) + " " + detail::quote(addr) +
                          " of this list collides with list " + detail::quote(w.list_address) +
                          " (" + w.file + ")");
      }
      break;  // one collision says enough about this address
    }
    for (const auto& [role, addr] : own) {
      auto p = person_by_email.find(ascii_lower(addr));
      if (p == person_by_email.end()) continue;
      f.error(line, role_name(role) + " " + detail::quote(addr) +
                        " is also the e-mail address of a person in the directory (" +
                        directory_file + ":" + std::to_string(p->second->email_line) + ")");
    }
    if (!collided) {
      for (const auto& [role, addr] : own) {
        taken.emplace(ascii_lower(addr), Where{l.address, l.at.file, role});
      }
    }
  }
}

}  // namespace

LoadResult load_config(const fs::path& main_file) {
  detail::Reporter rep;
  FileReporter main(rep, main_file.string());
  LoadResult result;

  std::error_code ec;
  if (fs::status(main_file, ec).type() == fs::file_type::not_found) {
    main.error(0, "file not found");
    result.diagnostics = rep.sorted();
    return result;
  }
  if (fs::is_directory(main_file, ec)) {
    main.error(0, "is a folder, not a file");
    result.diagnostics = rep.sorted();
    return result;
  }
  auto root = load_toml(main_file, main);
  if (!root) {
    result.diagnostics = rep.sorted();
    return result;
  }
  detail::MainFile m = detail::read_main_file(*root, main_file.parent_path(), main);

  // Files and folders the main file names, in the order of [paths].
  std::vector<detail::PersonEntry> people;
  bool directory_usable = false;
  std::int64_t review_interval = 0;  // the directory's directory_review_interval
  std::string directory_name = m.directory.path ? m.directory.path->string() : "";
  if (check_exists(m.directory, Want::file, main)) {
    FileReporter f(rep, directory_name);
    if (auto droot = load_toml(*m.directory.path, f)) {
      detail::DirectoryFile d = detail::read_directory_file(*droot, f);
      people = std::move(d.people);
      directory_usable = d.usable;
      review_interval = d.review_interval;
    }
  }

  std::vector<detail::ListEntry> lists;
  if (check_exists(m.lists_dir, Want::folder, main)) {
    const fs::path& dir = *m.lists_dir.path;
    rep.add_file(dir.string());
    auto files = list_files(dir, m.lists_dir, main);
    if (files.empty()) {
      rep.warning(dir.string(), 0, "no list files (*.toml)");
    }
    for (const fs::path& path : files) {
      FileReporter f(rep, path.string());
      if (fs::is_directory(path, ec)) {
        f.error(0, "is a folder, not a list file");
        continue;
      }
      auto lroot = load_toml(path, f);
      if (!lroot) continue;
      lists.push_back(detail::read_list_file(*lroot, f));
    }
  }
  check_exists(m.keys_dir, Want::folder, main);
  if (m.tls_certificate.path && m.tls_private_key.path) {
    check_exists(m.tls_certificate, Want::file, main);
    check_exists(m.tls_private_key, Want::file, main);
  }

  check_lists(lists, people, directory_usable, directory_name, rep);

  result.diagnostics = rep.sorted();
  if (rep.has_errors()) return result;

  auto config = std::make_shared<Config>();
  config->main_file = main_file;
  config->server = std::move(m.server);
  config->relay = std::move(m.relay);
  config->log = std::move(m.log);
  config->metrics = std::move(m.metrics);
  config->retention = m.retention;
  config->paths.state_dir = *m.state_dir.path;
  config->paths.directory = *m.directory.path;
  config->paths.lists_dir = *m.lists_dir.path;
  config->paths.keys_dir = *m.keys_dir.path;
  std::vector<directory::Person> persons;
  persons.reserve(people.size());
  for (auto& p : people) persons.push_back(std::move(p.person));
  std::vector<directory::MailingList> mailing_lists;
  mailing_lists.reserve(lists.size());
  for (auto& l : lists) {
    if (!l.review_interval_set) l.list.directory_review_interval = review_interval;
    mailing_lists.push_back(std::move(l.list));
  }
  config->directory = directory::Directory(std::move(persons), std::move(mailing_lists));
  result.config = std::move(config);
  return result;
}

}  // namespace tlpmail::config
