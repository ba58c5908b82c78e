// queue::Env: the few file-system calls the spool makes, behind an
// interface (after LevelDB's Env) so that durability is a unit test:
// Env::posix() is the real one, MemoryEnv (memory_env.h) forgets what was
// not synced, FaultInjectionEnv (fault_injection_env.h) makes calls fail.
// It knows nothing about messages; paths are plain strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace tlpmail::queue {

// Which call failed; the spool decides from this whether data may have been
// lost (write, sync, close, rename) or not (create, list, ...).
enum class IoOp {
  create,
  write,
  sync,
  close,
  rename,
  remove,
  sync_dir,
  mkdir,
  list,
  read,
  stat,
  lock
};

enum class IoFault {
  no_space,        // ENOSPC, EDQUOT
  not_found,       // ENOENT
  already_exists,  // EEXIST
  busy,            // the lock is held by someone else
  other,           // anything else (EIO, EACCES, EMFILE, ...)
};

std::string_view to_string(IoOp op);

struct IoError {
  IoOp op = IoOp::write;
  IoFault fault = IoFault::other;
  int sys_errno = 0;    // 0 when not from the OS
  std::string message;  // "write /path: No space left on device"
};

// Builds an IoError from an errno value (ENOSPC/EDQUOT -> no_space, ...).
IoError io_error_from_errno(IoOp op, const std::string& path, int err);

template <class T>
using IoResult = Result<T, IoError>;

// A file being written. Not thread-safe: one user at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;  // closes if still open, errors ignored
  // Appends data. May buffer; the data is on disk only after sync().
  virtual IoResult<void> append(std::string_view data) = 0;
  // Writes out buffered data and fsyncs the file (data and metadata).
  virtual IoResult<void> sync() = 0;
  virtual IoResult<void> close() = 0;
  // Makes the file `size` bytes long with every block allocated (a
  // reserve of space, queue/space_guard.h). This default appends zeros;
  // the POSIX file uses fallocate(2) where the filesystem has it.
  virtual IoResult<void> allocate(std::uint64_t size);
};

// A file being read from the start. Not thread-safe.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes into buf; returns the count, 0 at end of file.
  virtual IoResult<std::size_t> read(char* buf, std::size_t n) = 0;
};

// Held while the object lives; released by its destructor.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// All methods are thread-safe in every implementation here.
class Env {
 public:
  virtual ~Env() = default;

  // Creates a new file (mode 0600) for writing. Fails with already_exists
  // if the path exists: files are never overwritten.
  virtual IoResult<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path) = 0;
  virtual IoResult<std::unique_ptr<SequentialFile>> new_sequential_file(
      const std::string& path) = 0;
  // rename(2): atomically replaces `to`. Durable only after sync_dir of
  // both folders.
  virtual IoResult<void> rename_file(const std::string& from, const std::string& to) = 0;
  // unlink(2). Durable only after sync_dir of the folder.
  virtual IoResult<void> remove_file(const std::string& path) = 0;
  // fsync(2) of a folder: makes its entries (creates, renames, removes)
  // durable.
  virtual IoResult<void> sync_dir(const std::string& path) = 0;
  // mkdir(2) with mode 0700. Returns true if created, false if a folder
  // was already there; another kind of file there is an error.
  virtual IoResult<bool> create_dir(const std::string& path) = 0;
  // Names in a folder (no "." or ".."), in no particular order.
  virtual IoResult<std::vector<std::string>> list_dir(const std::string& path) = 0;
  virtual IoResult<std::uint64_t> file_size(const std::string& path) = 0;
  // Takes an exclusive, non-blocking lock on `path` (created 0600 if
  // absent). Fails with busy while another holder has it.
  virtual IoResult<std::unique_ptr<FileLock>> lock_file(const std::string& path) = 0;
  // Bytes an unprivileged writer may still use on the filesystem holding
  // `path` (statvfs: f_bavail * f_frsize). Errors: stat.
  virtual IoResult<std::uint64_t> available_space(const std::string& path) = 0;

  // The real thing: POSIX calls, O_CLOEXEC everywhere, EINTR retried,
  // short writes continued, 64 KiB write buffer per file. Lives forever.
  static Env& posix();
};

}  // namespace tlpmail::queue
