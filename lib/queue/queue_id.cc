// QueueIdGenerator: time in the high bits, randomness in the low bits, and
// a strictly increasing floor so that two calls in the same millisecond, or
// after the clock stepped back, still give distinct, increasing ids.
#include "queue/queue_id.h"

#include <cstdio>

namespace tlpmail::queue {

namespace {
constexpr int kRandomBits = 20;
constexpr std::uint64_t kMillisMask = (std::uint64_t{1} << 44) - 1;
}  // namespace

bool is_valid_queue_id(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Seeded in the member's initialiser, not after a default (fixed) seed.
static std::mt19937_64 seeded_from_device() {
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd()};
  return std::mt19937_64(seq);
}

QueueIdGenerator::QueueIdGenerator() : rng_(seeded_from_device()) {}

void QueueIdGenerator::observe(std::string_view id) {
  if (!is_valid_queue_id(id)) return;
  std::uint64_t v = std::stoull(std::string(id), nullptr, 16);
  std::lock_guard lock(mu_);
  if (v > last_) last_ = v;
}

QueueId QueueIdGenerator::next(std::chrono::system_clock::time_point now) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::uint64_t t = static_cast<std::uint64_t>(ms < 0 ? 0 : ms) & kMillisMask;
  std::lock_guard lock(mu_);
  std::uint64_t v = (t << kRandomBits) | (rng_() & ((std::uint64_t{1} << kRandomBits) - 1));
  if (v <= last_) v = last_ + 1;
  last_ = v;
  char buf[17];
  (void)std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return QueueId(buf);
}

}  // namespace tlpmail::queue
