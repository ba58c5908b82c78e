// MemoryEnv: an in-memory queue::Env that remembers what would survive a
// power cut and can simulate one (crash()). It is the strict POSIX model:
// file data is durable only after the file's sync(); a create, rename or
// remove only after sync_dir() of the folder holding the entry. It is a
// test double for durability tests, not a cache or a production store.
// A capacity (set_capacity) makes it a small disk that can fill up.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "queue/env.h"

namespace tlpmail::queue {

class MemoryEnv final : public Env {
 public:
  // Starts with only the folder "/" (durable). Paths must be absolute,
  // without "." / ".." parts or a trailing '/'.
  MemoryEnv();
  ~MemoryEnv() override;

  IoResult<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path) override;
  IoResult<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& path) override;
  IoResult<void> rename_file(const std::string& from, const std::string& to) override;
  IoResult<void> remove_file(const std::string& path) override;
  IoResult<void> sync_dir(const std::string& path) override;
  IoResult<bool> create_dir(const std::string& path) override;
  IoResult<std::vector<std::string>> list_dir(const std::string& path) override;
  IoResult<std::uint64_t> file_size(const std::string& path) override;
  IoResult<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;
  // Without a capacity: 1 TiB. With one: the capacity less the bytes of
  // every file there is now.
  IoResult<std::uint64_t> available_space(const std::string& path) override;

  // A disk of `bytes` (nullopt: unlimited, the default): an append that
  // would take the files beyond it fails with ENOSPC and writes nothing.
  void set_capacity(std::optional<std::uint64_t> bytes);

  // Power cut: every folder entry goes back to its state at the folder's
  // last sync_dir (entries under a folder that did not survive vanish too),
  // every file's content goes back to its last sync(), locks are released,
  // and files opened before the crash fail every later call.
  void crash();

  // Test helper: copies the current content of the file at `path` into
  // *out; false if there is no such file.
  bool read_all(const std::string& path, std::string* out);

 private:
  struct Node;
  struct State;
  class File;
  class Lock;
  std::shared_ptr<State> state_;
};

}  // namespace tlpmail::queue
