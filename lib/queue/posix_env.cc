// The POSIX implementation of queue::Env (Env::posix()). Plain syscalls:
// O_CLOEXEC on every descriptor, EINTR retried, short writes continued,
// ENOSPC/EDQUOT reported as no_space. It adds no retry or recovery logic of
// its own: deciding what a failure means is the spool's job.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "queue/env.h"
#include "util/enum_names.h"

namespace tlpmail::queue {

constexpr auto kIoOpNames =
    std::to_array<std::string_view>({"create", "write", "fsync", "close", "rename", "unlink",
                                     "fsync-dir", "mkdir", "list", "read", "stat", "lock"});
static_assert(util::names_cover(kIoOpNames, IoOp::lock));
std::string_view to_string(IoOp op) { return util::name_of(kIoOpNames, op, "io"); }

IoError io_error_from_errno(IoOp op, const std::string& path, int err) {
  IoError e;
  e.op = op;
  e.sys_errno = err;
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      e.fault = IoFault::no_space;
      break;
    case ENOENT:
      e.fault = IoFault::not_found;
      break;
    case EEXIST:
      e.fault = IoFault::already_exists;
      break;
    case EWOULDBLOCK:
      e.fault = IoFault::busy;
      break;
    default:
      e.fault = IoFault::other;
      break;
  }
  e.message = std::string(to_string(op)) + " " + path + ": " + std::strerror(err);
  return e;
}

IoResult<void> WritableFile::allocate(std::uint64_t size) {
  const std::string zeros(std::size_t{64} * 1024, '\0');
  for (std::uint64_t left = size; left > 0;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, zeros.size()));
    if (auto r = append(std::string_view(zeros).substr(0, n)); !r) return r;
    left -= n;
  }
  return {};
}

namespace {

IoResult<void> write_all(int fd, const std::string& path, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Unexpected(io_error_from_errno(IoOp::write, path, errno));
    }
    if (w == 0) return Unexpected(io_error_from_errno(IoOp::write, path, EIO));
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

IoResult<void> fsync_fd(int fd, const std::string& path, IoOp op) {
  // fsync is not restarted after EINTR by every kernel; retrying is safe.
  while (::fsync(fd) != 0) {
    if (errno == EINTR) continue;
    return Unexpected(io_error_from_errno(op, path, errno));
  }
  return {};
}

class PosixWritableFile final : public WritableFile {
 public:
  static constexpr std::size_t kBufferSize = std::size_t{64} * 1024;

  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
    buffer_.reserve(kBufferSize);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  IoResult<void> append(std::string_view data) override {
    if (fd_ < 0) return Unexpected(io_error_from_errno(IoOp::write, path_, EBADF));
    if (buffer_.size() + data.size() <= kBufferSize) {
      buffer_.append(data);
      return {};
    }
    if (auto r = flush(); !r) return r;
    if (data.size() <= kBufferSize) {
      buffer_.append(data);
      return {};
    }
    return write_all(fd_, path_, data.data(), data.size());
  }

  IoResult<void> sync() override {
    if (fd_ < 0) return Unexpected(io_error_from_errno(IoOp::sync, path_, EBADF));
    if (auto r = flush(); !r) return r;
    return fsync_fd(fd_, path_, IoOp::sync);
  }

  IoResult<void> allocate(std::uint64_t size) override {
    if (fd_ < 0) return Unexpected(io_error_from_errno(IoOp::write, path_, EBADF));
    if (auto r = flush(); !r) return r;
    for (;;) {
      if (::fallocate(fd_, 0, 0, static_cast<off_t>(size)) == 0) return {};
      if (errno == EINTR) continue;
      // A filesystem without fallocate: zeros, written (and counted) block by block.
      if (errno == EOPNOTSUPP) return WritableFile::allocate(size);
      return Unexpected(io_error_from_errno(IoOp::write, path_, errno));
    }
  }

  IoResult<void> close() override {
    if (fd_ < 0) return {};
    auto flushed = flush();
    int fd = fd_;
    fd_ = -1;
    // Never retry close() after EINTR on Linux: the descriptor is gone.
    if (::close(fd) != 0 && errno != EINTR)
      return Unexpected(io_error_from_errno(IoOp::close, path_, errno));
    return flushed;
  }

 private:
  IoResult<void> flush() {
    if (buffer_.empty()) return {};
    auto r = write_all(fd_, path_, buffer_.data(), buffer_.size());
    buffer_.clear();
    return r;
  }

  int fd_;
  std::string path_;
  std::string buffer_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  IoResult<std::size_t> read(char* buf, std::size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) return static_cast<std::size_t>(r);
      if (errno != EINTR) return Unexpected(io_error_from_errno(IoOp::read, path_, errno));
    }
  }

 private:
  int fd_;
  std::string path_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // releases the flock

 private:
  int fd_;
};

int open_retry(const char* path, int flags, mode_t mode = 0) {
  for (;;) {
    int fd = ::open(path, flags, mode);
    if (fd >= 0 || errno != EINTR) return fd;
  }
}

class PosixEnv final : public Env {
 public:
  IoResult<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path) override {
    int fd = open_retry(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return Unexpected(io_error_from_errno(IoOp::create, path, errno));
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
  }

  IoResult<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& path) override {
    int fd = open_retry(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return Unexpected(io_error_from_errno(IoOp::read, path, errno));
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(fd, path));
  }

  IoResult<void> rename_file(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return Unexpected(io_error_from_errno(IoOp::rename, from, errno));
    return {};
  }

  IoResult<void> remove_file(const std::string& path) override {
    if (::unlink(path.c_str()) != 0)
      return Unexpected(io_error_from_errno(IoOp::remove, path, errno));
    return {};
  }

  IoResult<void> sync_dir(const std::string& path) override {
    int fd = open_retry(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Unexpected(io_error_from_errno(IoOp::sync_dir, path, errno));
    auto r = fsync_fd(fd, path, IoOp::sync_dir);
    ::close(fd);
    return r;
  }

  IoResult<bool> create_dir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0700) == 0) return true;
    int err = errno;
    if (err == EEXIST) {
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return false;
      return Unexpected(io_error_from_errno(IoOp::mkdir, path, ENOTDIR));
    }
    return Unexpected(io_error_from_errno(IoOp::mkdir, path, err));
  }

  IoResult<std::vector<std::string>> list_dir(const std::string& path) override {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return Unexpected(io_error_from_errno(IoOp::list, path, errno));
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name(e->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
      errno = 0;
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return Unexpected(io_error_from_errno(IoOp::list, path, err));
    return names;
  }

  IoResult<std::uint64_t> file_size(const std::string& path) override {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
      return Unexpected(io_error_from_errno(IoOp::stat, path, errno));
    return static_cast<std::uint64_t>(st.st_size);
  }

  IoResult<std::unique_ptr<FileLock>> lock_file(const std::string& path) override {
    int fd = open_retry(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return Unexpected(io_error_from_errno(IoOp::lock, path, errno));
    for (;;) {
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Unexpected(io_error_from_errno(IoOp::lock, path, err));
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }

  IoResult<std::uint64_t> available_space(const std::string& path) override {
    struct statvfs st {};
    for (;;) {
      if (::statvfs(path.c_str(), &st) == 0) break;
      if (errno != EINTR) return Unexpected(io_error_from_errno(IoOp::stat, path, errno));
    }
    return static_cast<std::uint64_t>(st.f_bavail) * static_cast<std::uint64_t>(st.f_frsize);
  }
};

}  // namespace

Env& Env::posix() {
  static PosixEnv env;
  return env;
}

}  // namespace tlpmail::queue
