// MemoryEnv: two maps from path to node, "live" (what the process sees)
// and "durable" (what a power cut would leave), plus per-file synced
// content. One mutex guards everything; handles keep the state alive.
#include "queue/memory_env.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <set>

namespace tlpmail::queue {

struct MemoryEnv::Node {
  bool is_dir = false;
  std::string data;    // what a read sees now
  std::string synced;  // what survives a crash
};

struct MemoryEnv::State {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Node>> live;
  std::map<std::string, std::shared_ptr<Node>> durable;
  std::set<std::string> locks;
  std::uint64_t epoch = 0;  // incremented by crash(); older handles are dead
  std::optional<std::uint64_t> capacity;

  // Bytes of every file there is now. REQUIRES: mu held.
  std::uint64_t used() const {
    std::uint64_t n = 0;
    for (const auto& [path, node] : live) n += node->data.size();
    return n;
  }
};

namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == 0 || slash == std::string::npos) return "/";
  return path.substr(0, slash);
}

bool is_clean_path(const std::string& path) {
  if (path.empty() || path[0] != '/') return false;
  if (path == "/") return true;
  if (path.back() == '/' || path.find("//") != std::string::npos) return false;
  return path.find("/./") == std::string::npos && path.find("/../") == std::string::npos &&
         !path.ends_with("/.") && !path.ends_with("/..");
}

IoError err(IoOp op, const std::string& path, int e) { return io_error_from_errno(op, path, e); }

std::size_t depth(const std::string& p) {
  return static_cast<std::size_t>(std::count(p.begin(), p.end(), '/'));
}

}  // namespace

class MemoryEnv::File final : public WritableFile {
 public:
  File(std::shared_ptr<State> state, std::shared_ptr<Node> node, std::string path)
      : state_(std::move(state)),
        node_(std::move(node)),
        path_(std::move(path)),
        epoch_(state_->epoch) {}

  IoResult<void> append(std::string_view data) override {
    std::lock_guard lock(state_->mu);
    if (auto r = check(IoOp::write); !r) return r;
    if (state_->capacity && state_->used() + data.size() > *state_->capacity)
      return Unexpected(err(IoOp::write, path_, ENOSPC));
    node_->data.append(data);
    return {};
  }
  IoResult<void> sync() override {
    std::lock_guard lock(state_->mu);
    if (auto r = check(IoOp::sync); !r) return r;
    node_->synced = node_->data;
    return {};
  }
  IoResult<void> close() override {
    std::lock_guard lock(state_->mu);
    if (closed_) return {};
    closed_ = true;
    if (epoch_ != state_->epoch) return Unexpected(err(IoOp::close, path_, EIO));
    return {};
  }

 private:
  IoResult<void> check(IoOp op) const {
    if (closed_) return Unexpected(err(op, path_, EBADF));
    if (epoch_ != state_->epoch) return Unexpected(err(op, path_, EIO));  // opened before a crash
    return {};
  }

  std::shared_ptr<State> state_;
  std::shared_ptr<Node> node_;
  std::string path_;
  std::uint64_t epoch_;
  bool closed_ = false;
};

namespace {

class MemoryReader final : public SequentialFile {
 public:
  explicit MemoryReader(std::string data) : data_(std::move(data)) {}
  IoResult<std::size_t> read(char* buf, std::size_t n) override {
    std::size_t k = std::min(n, data_.size() - pos_);
    std::copy_n(data_.data() + pos_, k, buf);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

}  // namespace

class MemoryEnv::Lock final : public FileLock {
 public:
  Lock(std::shared_ptr<State> state, std::string path)
      : state_(std::move(state)), path_(std::move(path)), epoch_(state_->epoch) {}
  ~Lock() override {
    std::lock_guard lock(state_->mu);
    if (epoch_ == state_->epoch) state_->locks.erase(path_);
  }

 private:
  std::shared_ptr<State> state_;
  std::string path_;
  std::uint64_t epoch_;
};

MemoryEnv::MemoryEnv() : state_(std::make_shared<State>()) {
  auto root = std::make_shared<Node>();
  root->is_dir = true;
  state_->live["/"] = root;
  state_->durable["/"] = root;
}

MemoryEnv::~MemoryEnv() = default;

IoResult<std::unique_ptr<WritableFile>> MemoryEnv::new_writable_file(const std::string& path) {
  std::lock_guard lock(state_->mu);
  if (!is_clean_path(path) || path == "/") return Unexpected(err(IoOp::create, path, EINVAL));
  if (state_->live.count(path)) return Unexpected(err(IoOp::create, path, EEXIST));
  auto parent = state_->live.find(parent_of(path));
  if (parent == state_->live.end()) return Unexpected(err(IoOp::create, path, ENOENT));
  if (!parent->second->is_dir) return Unexpected(err(IoOp::create, path, ENOTDIR));
  auto node = std::make_shared<Node>();
  state_->live[path] = node;
  return std::unique_ptr<WritableFile>(new File(state_, node, path));
}

IoResult<std::unique_ptr<SequentialFile>> MemoryEnv::new_sequential_file(const std::string& path) {
  std::lock_guard lock(state_->mu);
  auto it = state_->live.find(path);
  if (it == state_->live.end()) return Unexpected(err(IoOp::read, path, ENOENT));
  if (it->second->is_dir) return Unexpected(err(IoOp::read, path, EISDIR));
  return std::unique_ptr<SequentialFile>(new MemoryReader(it->second->data));
}

IoResult<void> MemoryEnv::rename_file(const std::string& from, const std::string& to) {
  std::lock_guard lock(state_->mu);
  if (!is_clean_path(to) || to == "/") return Unexpected(err(IoOp::rename, from, EINVAL));
  auto it = state_->live.find(from);
  if (it == state_->live.end()) return Unexpected(err(IoOp::rename, from, ENOENT));
  if (it->second->is_dir)
    return Unexpected(err(IoOp::rename, from, EISDIR));  // not needed by the spool
  auto parent = state_->live.find(parent_of(to));
  if (parent == state_->live.end() || !parent->second->is_dir)
    return Unexpected(err(IoOp::rename, from, ENOENT));
  if (auto target = state_->live.find(to); target != state_->live.end() && target->second->is_dir) {
    return Unexpected(err(IoOp::rename, from, EISDIR));
  }
  auto node = it->second;
  state_->live.erase(it);
  state_->live[to] = node;
  return {};
}

IoResult<void> MemoryEnv::remove_file(const std::string& path) {
  std::lock_guard lock(state_->mu);
  auto it = state_->live.find(path);
  if (it == state_->live.end()) return Unexpected(err(IoOp::remove, path, ENOENT));
  if (it->second->is_dir) return Unexpected(err(IoOp::remove, path, EISDIR));
  state_->live.erase(it);
  return {};
}

IoResult<void> MemoryEnv::sync_dir(const std::string& path) {
  std::lock_guard lock(state_->mu);
  auto dir = state_->live.find(path);
  if (dir == state_->live.end()) return Unexpected(err(IoOp::sync_dir, path, ENOENT));
  if (!dir->second->is_dir) return Unexpected(err(IoOp::sync_dir, path, ENOTDIR));
  std::erase_if(state_->durable,
                [&](const auto& kv) { return kv.first != "/" && parent_of(kv.first) == path; });
  for (const auto& [p, node] : state_->live) {
    if (p != "/" && parent_of(p) == path) state_->durable[p] = node;
  }
  return {};
}

IoResult<bool> MemoryEnv::create_dir(const std::string& path) {
  std::lock_guard lock(state_->mu);
  if (!is_clean_path(path)) return Unexpected(err(IoOp::mkdir, path, EINVAL));
  if (auto it = state_->live.find(path); it != state_->live.end()) {
    if (it->second->is_dir) return false;
    return Unexpected(err(IoOp::mkdir, path, ENOTDIR));
  }
  auto parent = state_->live.find(parent_of(path));
  if (parent == state_->live.end()) return Unexpected(err(IoOp::mkdir, path, ENOENT));
  if (!parent->second->is_dir) return Unexpected(err(IoOp::mkdir, path, ENOTDIR));
  auto node = std::make_shared<Node>();
  node->is_dir = true;
  state_->live[path] = node;
  return true;
}

IoResult<std::vector<std::string>> MemoryEnv::list_dir(const std::string& path) {
  std::lock_guard lock(state_->mu);
  auto dir = state_->live.find(path);
  if (dir == state_->live.end()) return Unexpected(err(IoOp::list, path, ENOENT));
  if (!dir->second->is_dir) return Unexpected(err(IoOp::list, path, ENOTDIR));
  std::vector<std::string> names;
  for (const auto& [p, node] : state_->live) {
    if (p != "/" && parent_of(p) == path) names.push_back(p.substr(p.rfind('/') + 1));
  }
  return names;
}

IoResult<std::uint64_t> MemoryEnv::file_size(const std::string& path) {
  std::lock_guard lock(state_->mu);
  auto it = state_->live.find(path);
  if (it == state_->live.end()) return Unexpected(err(IoOp::stat, path, ENOENT));
  return static_cast<std::uint64_t>(it->second->data.size());
}

IoResult<std::unique_ptr<FileLock>> MemoryEnv::lock_file(const std::string& path) {
  std::lock_guard lock(state_->mu);
  auto parent = state_->live.find(parent_of(path));
  if (parent == state_->live.end() || !parent->second->is_dir)
    return Unexpected(err(IoOp::lock, path, ENOENT));
  if (!state_->locks.insert(path).second) return Unexpected(err(IoOp::lock, path, EWOULDBLOCK));
  return std::unique_ptr<FileLock>(new Lock(state_, path));
}

IoResult<std::uint64_t> MemoryEnv::available_space(const std::string& path) {
  std::lock_guard lock(state_->mu);
  if (!state_->live.count(path)) return Unexpected(err(IoOp::stat, path, ENOENT));
  if (!state_->capacity) return std::uint64_t{1} << 40;
  return *state_->capacity - std::min(*state_->capacity, state_->used());
}

void MemoryEnv::set_capacity(std::optional<std::uint64_t> bytes) {
  std::lock_guard lock(state_->mu);
  state_->capacity = bytes;
}

void MemoryEnv::crash() {
  std::lock_guard lock(state_->mu);
  ++state_->epoch;
  state_->locks.clear();
  // Restore the durable entries, parents before children; an entry whose
  // folder did not survive is gone with it.
  std::vector<std::string> paths;
  for (const auto& kv : state_->durable) paths.push_back(kv.first);
  std::stable_sort(paths.begin(), paths.end(),
                   [](const std::string& a, const std::string& b) { return depth(a) < depth(b); });
  std::map<std::string, std::shared_ptr<Node>> restored;
  for (const std::string& p : paths) {
    if (p != "/") {
      auto parent = restored.find(parent_of(p));
      if (parent == restored.end() || !parent->second->is_dir) continue;
    }
    restored[p] = state_->durable[p];
  }
  for (auto& [p, node] : restored) {
    if (!node->is_dir) node->data = node->synced;
  }
  state_->live = restored;
  state_->durable = std::move(restored);
}

bool MemoryEnv::read_all(const std::string& path, std::string* out) {
  std::lock_guard lock(state_->mu);
  auto it = state_->live.find(path);
  if (it == state_->live.end() || it->second->is_dir) return false;
  *out = it->second->data;
  return true;
}

}  // namespace tlpmail::queue
