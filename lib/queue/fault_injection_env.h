// FaultInjectionEnv: wraps another queue::Env and makes chosen calls fail,
// for failure tests of the spool over MemoryEnv or the real POSIX Env:
// "the 2nd fsync fails with EIO", "every write fails with ENOSPC", or "the
// power goes after 5 more changes" (every later call fails until reset()).
// It changes nothing it passes through and is not meant for production.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "queue/env.h"

namespace tlpmail::queue {

class FaultInjectionEnv final : public Env {
 public:
  // REQUIRES: base outlives this object.
  explicit FaultInjectionEnv(Env& base);
  ~FaultInjectionEnv() override;

  // The nth call of `op` from now on (1 = the next one) fails with errno
  // `err`, once. May be called several times to arm several faults.
  void fail_nth(IoOp op, int nth, int err);
  // Every call of `op` from now on fails with `err`, until reset().
  void fail_always(IoOp op, int err);
  // After `n` more changing calls (create, write, sync, close, rename,
  // remove, sync_dir, mkdir) have succeeded, every call of any kind fails
  // with EIO until reset(): a power cut in the middle of a sequence.
  void cut_power_after(int n);
  // Disarms every fault and ends a power cut; counters restart at zero.
  void reset();
  // Changing calls that went through since construction or reset().
  int changing_calls() const;

  IoResult<std::unique_ptr<WritableFile>> new_writable_file(const std::string& path) override;
  IoResult<std::unique_ptr<SequentialFile>> new_sequential_file(const std::string& path) override;
  IoResult<void> rename_file(const std::string& from, const std::string& to) override;
  IoResult<void> remove_file(const std::string& path) override;
  IoResult<void> sync_dir(const std::string& path) override;
  IoResult<bool> create_dir(const std::string& path) override;
  IoResult<std::vector<std::string>> list_dir(const std::string& path) override;
  IoResult<std::uint64_t> file_size(const std::string& path) override;
  IoResult<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;
  IoResult<std::uint64_t> available_space(const std::string& path) override;  // gated as stat

 private:
  class File;
  struct Fault {
    IoOp op;
    int countdown;  // calls of op still to let through; -1: every call
    int err;
  };
  // Decides one call: returns an error to report, or nothing to pass it on.
  IoResult<void> gate(IoOp op, const std::string& path);

  Env& base_;
  mutable std::mutex mu_;
  std::vector<Fault> faults_;
  int power_budget_ = -1;  // changing calls left before the cut; -1: no cut
  bool power_cut_ = false;
  int changing_calls_ = 0;
};

}  // namespace tlpmail::queue
