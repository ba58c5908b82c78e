// TempHome and kill_gnupg_daemons: a short-lived private GnuPG home and
// the clean-up of the agents gpg started for it. Runs gpgconf directly
// (posix_spawnp, no shell), output discarded.
#include "openpgp/temp_home.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <vector>

#include "openpgp/context.h"

extern char** environ;

namespace tlpmail::openpgp {

bool kill_gnupg_daemons(const std::filesystem::path& home) noexcept {
  posix_spawn_file_actions_t actions;
  if (posix_spawn_file_actions_init(&actions) != 0) return false;
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::string home_s = home.string();
  char arg0[] = "gpgconf";
  char arg1[] = "--homedir";
  char arg3[] = "--kill";
  char arg4[] = "all";
  char* argv[] = {arg0, arg1, home_s.data(), arg3, arg4, nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "gpgconf", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Result<TempHome> TempHome::create(const std::string& pattern) {
  if (pattern.size() < 6 || pattern.compare(pattern.size() - 6, 6, "XXXXXX") != 0) {
    return Unexpected(Error::permanent("temporary GnuPG home pattern must end in XXXXXX: " +
                                       pattern));
  }
  auto checked = check_home_path(pattern);
  if (!checked) return Unexpected(checked.error());
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {  // mkdtemp creates the folder with mode 0700
    return Unexpected(Error::temporary("cannot create temporary GnuPG home " + pattern + ": " +
                                       std::strerror(errno)));
  }
  return TempHome(std::filesystem::path(buf.data()));
}

TempHome::TempHome(TempHome&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

TempHome& TempHome::operator=(TempHome&& other) noexcept {
  if (this != &other) {
    destroy();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempHome::~TempHome() { destroy(); }

void TempHome::destroy() noexcept {
  if (path_.empty()) return;
  kill_gnupg_daemons(path_);
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  path_.clear();
}

}  // namespace tlpmail::openpgp
