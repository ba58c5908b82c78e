// The fixed time of the keylife tests (2026-09-21T14:13:20Z) and a day in
// seconds: every table states its times as kNow plus or minus days. In
// namespace tlpmail, so the keylife and fanout tests both see them.
#pragma once

#include <ctime>

namespace tlpmail {

inline constexpr std::time_t kNow = 1790000000;
inline constexpr std::time_t kDay = 86400;

}  // namespace tlpmail
