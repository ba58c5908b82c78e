// Durations as the configuration and tlpmailctl write them: a number and a
// unit, one or more times ("90d", "48h", "1d12h", "30m", "45s", "2w"), for
// the intervals of communication checks and reviews and a check's deadline
// and spread. Pure; no locale, no fractions, no negative values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tlpmail::config {

// Seconds of `text`, or nullopt when it is not a duration: empty, a bare
// number, an unknown unit (s, m, h, d, w), or more than 100 years.
std::optional<std::int64_t> parse_duration(std::string_view text);

// The shortest form: 7776000 -> "90d", 172800 -> "2d", 5400 -> "1h30m",
// 0 -> "0s".
std::string format_duration(std::int64_t seconds);

}  // namespace tlpmail::config
