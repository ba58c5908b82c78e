// The names of an enum's values, in one table read both ways: name_of for
// logs, JSON and the database, value_of to parse them back. The table lists
// the names in the order of the enumerators (0, 1, 2, ...); each table is
// followed by a static_assert on its size against the enum's last value, so
// that a new enumerator without a name fails to compile. A value outside the
// table (only from a cast) gets the fallback name.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace tlpmail::util {

template <typename E, std::size_t N>
constexpr std::string_view name_of(const std::array<std::string_view, N>& names, E value,
                                   std::string_view fallback = "unknown") {
  auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : fallback;
}

template <typename E, std::size_t N>
constexpr std::optional<E> value_of(const std::array<std::string_view, N>& names,
                                    std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

// True when the table has one name for each value up to and including last.
template <typename E, std::size_t N>
constexpr bool names_cover(const std::array<std::string_view, N>&, E last) {
  return static_cast<std::size_t>(last) + 1 == N;
}

}  // namespace tlpmail::util
