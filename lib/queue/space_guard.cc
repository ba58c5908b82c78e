// queue::SpaceGuard (see space_guard.h): the rule, the reserve file's life
// (made as space-reserve.tmp, allocated, fsynced, renamed; given up by an
// unlink) and intake's cached look at the filesystem.
#include "queue/space_guard.h"

#include <utility>

namespace tlpmail::queue {
namespace {

// "3.1 MiB": tenths, rounded.
std::string mib(std::uint64_t bytes) {
  constexpr std::uint64_t kTenth = (std::uint64_t{1} << 20) / 10;
  const std::uint64_t tenths = (bytes + kTenth / 2) / kTenth;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MiB";
}

}  // namespace

std::uint64_t space_needed(const SpaceSettings& s, bool reserve_held) {
  if (s.min_free == 0) return 0;
  return reserve_held ? s.min_free : s.min_free + s.reserve;
}

SpaceAction decide_space(const SpaceSettings& s, std::uint64_t available, bool reserve_held) {
  if (s.min_free == 0) return reserve_held ? SpaceAction::release : SpaceAction::none;
  if (reserve_held) return available < s.min_free ? SpaceAction::release : SpaceAction::none;
  return available >= s.min_free + s.reserve ? SpaceAction::recreate : SpaceAction::none;
}

bool looks_like_no_space(std::string_view error_text) {
  return error_text.find("disk is full") != std::string_view::npos ||
         error_text.find("No space left on device") != std::string_view::npos ||
         error_text.find("Disk quota exceeded") != std::string_view::npos;
}

std::string SpaceShortage::describe() const {
  if (!error.empty()) return "state filesystem: free space unknown (" + error + ")";
  std::string out =
      "state filesystem nearly full: " + mib(available) + " available, " + mib(needed) + " needed";
  out += reserve_held ? " (min_free_space)"
                      : " (min_free_space and the reserve, given up until space is back)";
  return out;
}

SpaceGuard::SpaceGuard(Env& env, std::string dir, SpaceSettings settings)
    : env_(env),
      dir_(std::move(dir)),
      reserve_path_(dir_ + "/space-reserve"),
      temp_path_(dir_ + "/space-reserve.tmp"),
      settings_(settings) {}

SpaceChange SpaceGuard::start() {
  {
    std::lock_guard lock(mu_);
    (void)env_.remove_file(temp_path_);  // a creation cut short by a crash
    auto size = env_.file_size(reserve_path_);
    if (size && *size == settings_.reserve && is_enabled()) {
      held_ = true;
    } else if (size) {
      // Another size (the setting changed) or the guard is off: gone now,
      // made again below when it should be there.
      (void)env_.remove_file(reserve_path_);
    }
  }
  return maintain();
}

SpaceChange SpaceGuard::maintain() {
  std::lock_guard lock(mu_);
  auto available = env_.available_space(dir_);
  if (!available) {
    SpaceChange c;
    c.kind = SpaceChange::Kind::failed;
    c.reason = available.error().message;
    return c;
  }
  switch (decide_space(settings_, *available, held_.load())) {
    case SpaceAction::release:
      return release_locked(*available, is_enabled() ? "less than min_free_space available"
                                                     : "min_free_space is 0 (the reserve is off)");
    case SpaceAction::recreate:
      return create_locked(*available);
    case SpaceAction::none:
      break;
  }
  return {};
}

SpaceChange SpaceGuard::release(const std::string& reason) {
  std::lock_guard lock(mu_);
  if (!held_.load()) return {};
  auto available = env_.available_space(dir_);
  return release_locked(available ? *available : 0, reason);
}

SpaceChange SpaceGuard::release_locked(std::uint64_t available, std::string reason) {
  SpaceChange c;
  c.available = available;
  c.reason = std::move(reason);
  // Not durable on purpose (no folder fsync): the space is free once the
  // name is gone, and a reserve that comes back after a crash is checked
  // by the next start.
  auto removed = env_.remove_file(reserve_path_);
  if (!removed && removed.error().fault != IoFault::not_found) {
    c.kind = SpaceChange::Kind::failed;
    c.reason = removed.error().message;
    return c;
  }
  held_ = false;
  ++releases_;
  c.kind = SpaceChange::Kind::released;
  c.needed = space_needed(settings_, false);
  {
    std::lock_guard probe_lock(probe_mu_);
    probed_at_.reset();  // intake looks again at once
  }
  return c;
}

SpaceChange SpaceGuard::create_locked(std::uint64_t available) {
  SpaceChange c;
  c.available = available;
  auto fail = [&](const IoError& e) {
    (void)env_.remove_file(temp_path_);
    c.kind = SpaceChange::Kind::failed;
    c.reason = e.message;
    return c;
  };
  (void)env_.remove_file(temp_path_);
  auto file = env_.new_writable_file(temp_path_);
  if (!file) return fail(file.error());
  if (auto r = (*file)->allocate(settings_.reserve); !r) return fail(r.error());
  if (auto r = (*file)->sync(); !r) return fail(r.error());
  if (auto r = (*file)->close(); !r) return fail(r.error());
  if (auto r = env_.rename_file(temp_path_, reserve_path_); !r) return fail(r.error());
  if (auto r = env_.sync_dir(dir_); !r) return fail(r.error());
  held_ = true;
  c.kind = SpaceChange::Kind::recreated;
  c.needed = space_needed(settings_, true);
  {
    std::lock_guard probe_lock(probe_mu_);
    probed_at_.reset();
  }
  return c;
}

IoResult<std::uint64_t> SpaceGuard::probe() {
  std::lock_guard lock(probe_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!probed_at_ || now - *probed_at_ >= settings_.probe_interval) {
    probed_ = env_.available_space(dir_);
    probed_at_ = now;
  }
  return probed_;
}

std::optional<SpaceShortage> SpaceGuard::shortage() {
  if (!is_enabled()) return std::nullopt;
  auto available = probe();
  SpaceShortage s;
  s.reserve_held = held_.load();
  s.needed = space_needed(settings_, s.reserve_held);
  if (!available) {
    s.error = available.error().message;
    return s;
  }
  if (*available >= s.needed) return std::nullopt;
  s.available = *available;
  return s;
}

}  // namespace tlpmail::queue
