// parse_duration() and format_duration() (see duration.h).
#include "config/duration.h"

namespace tlpmail::config {
namespace {

constexpr std::int64_t kMax = std::int64_t{100} * 366 * 86400;

std::int64_t unit_seconds(char u) {
  switch (u) {
    case 's':
      return 1;
    case 'm':
      return 60;
    case 'h':
      return 3600;
    case 'd':
      return 86400;
    case 'w':
      return std::int64_t{7} * 86400;
    default:
      return 0;
  }
}

}  // namespace

std::optional<std::int64_t> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t n = 0;
    const std::size_t digits_from = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > kMax) return std::nullopt;
      ++i;
    }
    if (i == digits_from || i == text.size()) return std::nullopt;  // no number, or no unit
    const std::int64_t unit = unit_seconds(text[i++]);
    if (unit == 0) return std::nullopt;
    total += n * unit;
    if (total > kMax) return std::nullopt;
  }
  return total;
}

std::string format_duration(std::int64_t seconds) {
  if (seconds <= 0) return "0s";
  std::string out;
  for (auto [unit, name] : {std::pair<std::int64_t, char>{86400, 'd'}, {3600, 'h'}, {60, 'm'},
                            {1, 's'}}) {
    if (seconds >= unit) {
      out += std::to_string(seconds / unit) + name;
      seconds %= unit;
    }
  }
  return out;
}

}  // namespace tlpmail::config
