// Filesystem helpers (see files.h).
#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace tlpmail {

Result<void> ensure_private_dir(const std::filesystem::path& dir, std::string_view what) {
  const std::string name = (what.empty() ? "" : std::string(what) + " ") + dir.string();
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  if (std::filesystem::exists(dir, ec)) {
    return Unexpected(Error::permanent(name + " is not a folder"));
  }
  if (dir.has_parent_path() && !dir.parent_path().empty()) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) {
      return Unexpected(
          Error::permanent("cannot create " + dir.parent_path().string() + ": " + ec.message()));
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    const int err = errno;
    return Unexpected(Error::permanent("cannot create " + name + ": " + std::strerror(err)));
  }
  return {};
}

Result<std::string> read_small_file(const std::filesystem::path& file, std::size_t max) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return Unexpected(Error::permanent(std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Unexpected(Error::permanent(std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) return Unexpected(Error::permanent(std::strerror(EISDIR)));
  if (!S_ISREG(st.st_mode)) return Unexpected(Error::permanent("not a regular file"));
  std::string out;
  char buf[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unexpected(Error::permanent(std::strerror(errno)));
    if (n == 0) break;
    if (static_cast<std::size_t>(n) > max - out.size()) {
      return Unexpected(Error::permanent("larger than " + std::to_string(max) + " bytes"));
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace tlpmail
