// Plaintext in memory that is overwritten before it is freed: wipe() for a
// string, Wiped for a value that must be wiped when it goes (move-only, so
// that no copy of it is left behind unwiped, or wiped twice, by accident).
#pragma once

#include <string>
#include <utility>

namespace tlpmail {

// Overwrites a string's bytes (the compiler may not drop the writes),
// then releases its memory.
inline void wipe(std::string& s) {
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
  s.shrink_to_fit();
}

struct Wiped {
  std::string value;
  Wiped() = default;
  explicit Wiped(std::string v) : value(std::move(v)) {}
  Wiped(Wiped&& other) noexcept : value(std::move(other.value)) { other.value.clear(); }
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
  Wiped& operator=(Wiped&&) = delete;
  ~Wiped() { wipe(value); }
};

}  // namespace tlpmail
