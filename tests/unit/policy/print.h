// Shared by the policy test files: GoogleTest printers for policy types, so
// that a failing table row shows "AMBER" rather than raw bytes, and short
// names for the labels that keep the tables' rows on one line.
#pragma once

#include <optional>
#include <ostream>

#include "policy/decision.h"
#include "policy/tlp.h"

namespace tlpmail::policy {

inline constexpr std::optional<Tlp> kNone = std::nullopt;
inline constexpr Tlp kClear = Tlp::clear;
inline constexpr Tlp kGreen = Tlp::green;
inline constexpr Tlp kAmber = Tlp::amber;
inline constexpr Tlp kStrict = Tlp::amber_strict;
inline constexpr Tlp kRed = Tlp::red;

inline void PrintTo(Tlp t, std::ostream* os) { *os << to_string(t); }

inline void PrintTo(const LabelScan& s, std::ostream* os) {
  *os << "{label=" << (s.label ? to_string(*s.label) : "none")
      << " loose=" << (s.loose ? to_string(*s.loose) : "none") << "}";
}

inline void PrintTo(const Raise& r, std::ostream* os) { *os << describe(r); }

inline void PrintTo(Exclusion e, std::ostream* os) { *os << to_string(e); }

inline void PrintTo(RefusalKind k, std::ostream* os) { *os << to_string(k); }

inline void PrintTo(LabelSource s, std::ostream* os) {
  *os << (s == LabelSource::message ? "message" : "list_default");
}

}  // namespace tlpmail::policy
