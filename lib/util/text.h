// Small text helpers shared by the modules: ASCII case folding and
// comparison, trimming, and escaping of untrusted strings before logging.
// ASCII only on purpose: addresses and protocol keywords are ASCII.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace tlpmail {

std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
// True when s is min_len to max_len ASCII digits.
bool is_digits(std::string_view s, std::size_t min_len, std::size_t max_len);

// Escapes a string from the network or a file for a single log line:
// printable ASCII except '\' and '"' passes through; everything else
// becomes \n, \r, \t, \\, \" or \xHH. Output is at most max_len bytes of
// input (longer input ends in "...").
std::string escape_for_log(std::string_view s, std::size_t max_len = 200);

// The line of `text` that starts at `pos`, without its LF and a CR before
// that; `pos` moves past the LF (or to text.size() + 1 after a last line
// without one). For `while (pos < text.size()) { line = next_line(...` .
std::string_view next_line(std::string_view text, std::size_t& pos);

// Every bare LF (not preceded by CR) becomes CRLF; everything else is kept
// (a bare CR stays a bare CR).
std::string to_crlf(std::string_view bytes);

// A Unix time in UTC, formatted by strftime(3) (at most 63 bytes).
std::string utc_time(std::time_t t, const char* format);
// "2026-11-22": the UTC date of a Unix time, as every report prints dates.
std::string iso_date(std::time_t t);

}  // namespace tlpmail
