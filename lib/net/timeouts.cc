// Test timeouts and the parsing of --timeouts-ms.
#include "net/timeouts.h"

#include <algorithm>
#include <charconv>

namespace tlpmail::net {

Timeouts test_timeouts(milliseconds n) {
  Timeouts t;
  t.command = n;
  t.data_block = n;
  t.shutdown_grace = std::min(t.shutdown_grace, n);
  t.overload = std::min(t.overload, n);
  return t;
}

std::optional<milliseconds> parse_milliseconds(std::string_view text) {
  constexpr unsigned long long kMax = 86'400'000;
  if (text.empty() || text.size() > 9) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  unsigned long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (v < 1 || v > kMax) return std::nullopt;
  return milliseconds(static_cast<milliseconds::rep>(v));
}

}  // namespace tlpmail::net
