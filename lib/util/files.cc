// Filesystem helpers (see files.h).
#include "util/files.h"

#include <sys/stat.h>

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

}  // namespace tlpmail
