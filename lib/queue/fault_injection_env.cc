// FaultInjectionEnv: every call goes through gate(), which consults the
// armed faults and the power budget under one mutex, then either returns
// the injected error or forwards the call to the wrapped Env.
#include "queue/fault_injection_env.h"

#include <cerrno>

namespace tlpmail::queue {

namespace {

bool is_changing(IoOp op) {
  switch (op) {
    case IoOp::create:
    case IoOp::write:
    case IoOp::sync:
    case IoOp::close:
    case IoOp::rename:
    case IoOp::remove:
    case IoOp::sync_dir:
    case IoOp::mkdir:
      return true;
    default:
      return false;
  }
}

}  // namespace

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv& env, std::unique_ptr<WritableFile> base, std::string path)
      : env_(env), base_(std::move(base)), path_(std::move(path)) {}

  IoResult<void> append(std::string_view data) override {
    if (auto g = env_.gate(IoOp::write, path_); !g) return g;
    return base_->append(data);
  }
  IoResult<void> sync() override {
    if (auto g = env_.gate(IoOp::sync, path_); !g) return g;
    return base_->sync();
  }
  IoResult<void> allocate(std::uint64_t size) override {
    if (auto g = env_.gate(IoOp::write, path_); !g) return g;
    return base_->allocate(size);
  }
  IoResult<void> close() override {
    if (auto g = env_.gate(IoOp::close, path_); !g) return g;
    return base_->close();
  }

 private:
  FaultInjectionEnv& env_;
  std::unique_ptr<WritableFile> base_;
  std::string path_;
};

FaultInjectionEnv::FaultInjectionEnv(Env& base) : base_(base) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::fail_nth(IoOp op, int nth, int err) {
  std::lock_guard lock(mu_);
  faults_.push_back({op, nth - 1, err});
}

void FaultInjectionEnv::fail_always(IoOp op, int err) {
  std::lock_guard lock(mu_);
  faults_.push_back({op, -1, err});
}

void FaultInjectionEnv::cut_power_after(int n) {
  std::lock_guard lock(mu_);
  power_budget_ = n;
  power_cut_ = n == 0;
}

void FaultInjectionEnv::reset() {
  std::lock_guard lock(mu_);
  faults_.clear();
  power_budget_ = -1;
  power_cut_ = false;
  changing_calls_ = 0;
}

int FaultInjectionEnv::changing_calls() const {
  std::lock_guard lock(mu_);
  return changing_calls_;
}

IoResult<void> FaultInjectionEnv::gate(IoOp op, const std::string& path) {
  std::lock_guard lock(mu_);
  if (power_cut_) return Unexpected(io_error_from_errno(op, path, EIO));
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->op != op) continue;
    if (it->countdown < 0) return Unexpected(io_error_from_errno(op, path, it->err));
    if (it->countdown == 0) {
      int e = it->err;
      faults_.erase(it);
      return Unexpected(io_error_from_errno(op, path, e));
    }
    --it->countdown;
  }
  if (is_changing(op)) {
    ++changing_calls_;
    if (power_budget_ > 0 && --power_budget_ == 0) power_cut_ = true;
  }
  return {};
}

IoResult<std::unique_ptr<WritableFile>> FaultInjectionEnv::new_writable_file(
    const std::string& path) {
  if (auto g = gate(IoOp::create, path); !g) return Unexpected(g.error());
  auto f = base_.new_writable_file(path);
  if (!f) return f;
  return std::unique_ptr<WritableFile>(new File(*this, std::move(f.value()), path));
}

IoResult<std::unique_ptr<SequentialFile>> FaultInjectionEnv::new_sequential_file(
    const std::string& path) {
  if (auto g = gate(IoOp::read, path); !g) return Unexpected(g.error());
  return base_.new_sequential_file(path);
}

IoResult<void> FaultInjectionEnv::rename_file(const std::string& from, const std::string& to) {
  if (auto g = gate(IoOp::rename, from); !g) return g;
  return base_.rename_file(from, to);
}

IoResult<void> FaultInjectionEnv::remove_file(const std::string& path) {
  if (auto g = gate(IoOp::remove, path); !g) return g;
  return base_.remove_file(path);
}

IoResult<void> FaultInjectionEnv::sync_dir(const std::string& path) {
  if (auto g = gate(IoOp::sync_dir, path); !g) return g;
  return base_.sync_dir(path);
}

IoResult<bool> FaultInjectionEnv::create_dir(const std::string& path) {
  if (auto g = gate(IoOp::mkdir, path); !g) return Unexpected(g.error());
  return base_.create_dir(path);
}

IoResult<std::vector<std::string>> FaultInjectionEnv::list_dir(const std::string& path) {
  if (auto g = gate(IoOp::list, path); !g) return Unexpected(g.error());
  return base_.list_dir(path);
}

IoResult<std::uint64_t> FaultInjectionEnv::file_size(const std::string& path) {
  if (auto g = gate(IoOp::stat, path); !g) return Unexpected(g.error());
  return base_.file_size(path);
}

IoResult<std::unique_ptr<FileLock>> FaultInjectionEnv::lock_file(const std::string& path) {
  if (auto g = gate(IoOp::lock, path); !g) return Unexpected(g.error());
  return base_.lock_file(path);
}

IoResult<std::uint64_t> FaultInjectionEnv::available_space(const std::string& path) {
  if (auto g = gate(IoOp::stat, path); !g) return Unexpected(g.error());
  return base_.available_space(path);
}

}  // namespace tlpmail::queue
