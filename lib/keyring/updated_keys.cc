// Keys members sent with update-key, kept in state_dir/keys.d/FPR.asc (see
// keyring.h, "keys updated by mail"): where they live, how one is stored
// (atomically, with the date in an armor header) and how that date is read
// back. Checking what a member sent is lib/requests/key_update.cc's; the
// import of these files with keys_dir is load_keys.cc's.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "util/files.h"
#include "util/text.h"

namespace tlpmail::keyring {
namespace {

constexpr std::string_view kBegin = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
constexpr std::string_view kDateHeader = "Comment: updated by mail ";

std::string utc_stamp(std::time_t t) { return utc_time(t, "%Y-%m-%dT%H:%M:%SZ"); }

Error io_error(const std::string& what, const std::filesystem::path& p) {
  return Error::temporary(what + " " + p.string() + ": " + std::strerror(errno));
}

// Writes `data` to `file` and flushes it to disk. Mode 0600.
Result<void> write_synced(const std::filesystem::path& file, std::string_view data) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected(io_error("cannot create", file));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error e = io_error("cannot write", file);
      ::close(fd);
      return Unexpected(e);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Error e = io_error("cannot flush", file);
    ::close(fd);
    return Unexpected(e);
  }
  if (::close(fd) != 0) return Unexpected(io_error("cannot close", file));
  return {};
}

Result<void> sync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unexpected(io_error("cannot open", dir));
  const int r = ::fsync(fd);
  ::close(fd);
  if (r != 0) return Unexpected(io_error("cannot flush", dir));
  return {};
}

}  // namespace

std::string_view to_string(KeySource s) {
  return s == KeySource::mail ? "update by mail" : "keys_dir";
}

std::filesystem::path updated_keys_dir(const config::Config& config) {
  return config.paths.state_dir / kUpdatedKeysFolder;
}

std::filesystem::path updated_key_file(const config::Config& config,
                                       std::string_view fingerprint) {
  return updated_keys_dir(config) / (std::string(fingerprint) + ".asc");
}

Result<std::filesystem::path> store_updated_key(const config::Config& config,
                                                std::string_view fingerprint,
                                                std::string_view armored, std::time_t now) {
  const std::string fpr = openpgp::normalize_fingerprint(fingerprint);
  if (fpr.empty()) return Unexpected(Error::permanent("not a fingerprint: " + std::string(fingerprint)));
  const std::size_t begin = armored.find(kBegin);
  if (begin == std::string_view::npos) {
    return Unexpected(Error::permanent("not an armored public key"));
  }
  const std::size_t line_end = armored.find('\n', begin);
  if (line_end == std::string_view::npos) {
    return Unexpected(Error::permanent("not an armored public key"));
  }
  std::string text(armored.substr(begin, line_end + 1 - begin));
  text += std::string(kDateHeader) + utc_stamp(now) + "\n";
  text += armored.substr(line_end + 1);

  const std::filesystem::path dir = updated_keys_dir(config);
  if (auto r = ensure_private_dir(dir, "the folder of keys updated by mail"); !r) {
    return Unexpected(Error::temporary(r.error().message));
  }
  const std::filesystem::path file = dir / (fpr + ".asc");
  const std::filesystem::path tmp = dir / ("." + fpr + ".asc.tmp");
  if (auto r = write_synced(tmp, text); !r) {
    (void)::unlink(tmp.c_str());
    return Unexpected(r.error());
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    Error e = io_error("cannot rename to", file);
    (void)::unlink(tmp.c_str());
    return Unexpected(e);
  }
  if (auto r = sync_dir(dir); !r) return Unexpected(r.error());
  return file;
}

std::time_t updated_key_date(std::string_view text) {
  // Only the armor header lines count: between the BEGIN line and the
  // first empty line.
  const std::size_t begin = text.find(kBegin);
  if (begin == std::string_view::npos) return 0;
  std::size_t pos = text.find('\n', begin);
  while (pos != std::string_view::npos && pos + 1 < text.size()) {
    const std::size_t start = pos + 1;
    std::size_t end = text.find('\n', start);
    std::string_view line = text.substr(start, end == std::string_view::npos ? end : end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return 0;
    if (line.substr(0, kDateHeader.size()) == kDateHeader) {
      const std::string stamp(line.substr(kDateHeader.size()));
      std::tm tm{};
      const char* rest = strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
      if (!rest || *rest != '\0') return 0;
      return timegm(&tm);
    }
    pos = end;
  }
  return 0;
}

}  // namespace tlpmail::keyring
