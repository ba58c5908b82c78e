// openpgp::Handoff: the decryption made at intake, kept in memory for the
// fan-out of the same spooled message, so that gpg does not decrypt the
// message a second time (one gpg run and one private-key operation less
// per posting). The spool keeps the message as it came, encrypted; this is
// the only place its plaintext waits between the stages, and only in
// memory: bounded in messages, bytes and age, taken once, wiped when taken
// over or dropped. A message whose decryption is not here (dropped for the
// bounds, a restart, a reload) is decrypted by the fan-out as before.
#pragma once

#include <cstddef>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "openpgp/decrypt.h"

namespace tlpmail::openpgp {

// A Decryption whose plaintext is wiped when the last owner lets it go.
std::shared_ptr<Decryption> shared_decryption(Decryption d);

class Handoff {
 public:
  // The largest plaintext handed over: a larger posting is decrypted again
  // by the fan-out (its gpg run is cheap next to its size, and the copy
  // the intake would keep must not raise the peak a large posting sets).
  static constexpr std::size_t kLargest = std::size_t{4} * 1024 * 1024;

  struct Limits {
    std::size_t max_messages = 64;
    std::size_t max_bytes = std::size_t{32} * 1024 * 1024;  // of plaintext
    std::time_t max_age = 600;                              // seconds
  };

  Handoff() : Handoff(Limits{}) {}
  explicit Handoff(Limits limits) : limits_(limits) {}
  ~Handoff();
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;

  // Keeps `d` (status decrypted; anything else is ignored) for the spooled
  // message `id`. Entries older than max_age are dropped first; a
  // plaintext larger than kLargest is not kept, nor one the rest leave no
  // room for (max_messages, max_bytes): the fan-out takes messages oldest
  // first, so under a backlog the entries already here are the ones it
  // uses next. Whatever is not kept, or is dropped, is wiped.
  void put(const std::string& id, Decryption d, std::time_t now);
  // The decryption kept for `id` (made by shared_decryption: wiped when the
  // caller lets it go), removed from here (it is used once), or null when
  // there is none (never kept, dropped, or older than max_age by `now`, or
  // made "later" than `now`: the clock went back).
  std::shared_ptr<Decryption> take(std::string_view id, std::time_t now);

  std::size_t size() const;
  std::size_t bytes() const;

 private:
  struct Entry {
    std::string id;
    std::shared_ptr<Decryption> d;  // shared_decryption: wiped when dropped
    std::time_t at = 0;
  };

  Limits limits_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // oldest first
  std::size_t bytes_ = 0;
};

}  // namespace tlpmail::openpgp
