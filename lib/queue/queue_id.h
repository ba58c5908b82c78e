// Queue ids: 16 lowercase hex digits, 44 bits of milliseconds since the
// Unix epoch then 20 random bits, so they sort by arrival time (roughly
// across restarts, strictly within one generator). A generator never hands
// out the same id twice and never one at or below an id it has observed.
// Ids are file names in the spool: is_valid_queue_id guards every path.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

namespace tlpmail::queue {

using QueueId = std::string;

// True for exactly 16 characters of [0-9a-f].
bool is_valid_queue_id(std::string_view s);

// Thread-safe.
class QueueIdGenerator {
 public:
  QueueIdGenerator();
  // Makes every later id greater than `id` (ids already in the database
  // are observed at start-up, so a clock that went backwards cannot cause
  // reuse). Invalid ids are ignored.
  void observe(std::string_view id);
  QueueId next(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

 private:
  std::mutex mu_;
  std::uint64_t last_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace tlpmail::queue
