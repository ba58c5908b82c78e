// Typed access to toml++ tables that reports every problem with the line
// of the offending node: syntax errors, wrong types, missing and unknown
// keys (with a "did you mean" hint). Absent keys are silent here; callers
// decide what is required. Internal to lib/config.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.h"
#include "policy/tlp.h"

namespace tlpmail::config::detail {

template <class T>
struct Located {
  T value;
  int line = 0;
};

int line_of(const toml::node& n);

// "a string", "an integer", "a table", ...
std::string_view type_name(toml::node_type t);

// 'text' with untrusted bytes escaped, for messages.
std::string quote(std::string_view text);

// The known name closest to `key` when it looks like a typo of it
// (optimal string alignment distance, case-insensitive, at most 1 for
// names of up to 4 letters and 2 for longer ones); nullopt otherwise.
std::optional<std::string_view> suggest(std::string_view key,
                                        std::span<const std::string_view> known);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view key, std::span<const std::string_view> known);

// Parses a whole document. On a syntax error reports
// "TOML syntax error at column C: ..." at its line and returns nullopt.
std::optional<toml::table> parse_toml(std::string_view text, FileReporter& f);

// Reports "unknown key 'k'<where> (did you mean 'x'?)" for every key of
// `t` not in `known`. `where` is e.g. " in [server]" or "".
void report_unknown_keys(const toml::table& t, std::span<const std::string_view> known,
                         std::string_view where, FileReporter& f);

// Reports "missing required key 'k'<where>" at `line` when `t` lacks `key`.
// Returns whether the key is present (of whatever type).
bool require_key(const toml::table& t, std::string_view key, int line, std::string_view where,
                 FileReporter& f);

// Getters: nullopt when the key is absent, or when it has the wrong type
// (then reported as "wrong type for 'k': expected a string, got an integer").
std::optional<Located<std::string>> get_string(const toml::table& t, std::string_view key,
                                               FileReporter& f);
std::optional<Located<std::int64_t>> get_integer(const toml::table& t, std::string_view key,
                                                 FileReporter& f);
std::optional<Located<bool>> get_bool(const toml::table& t, std::string_view key, FileReporter& f);
// An array of strings; items of another type are reported at their own
// line ("wrong type for an item of 'k': ...") and left out.
std::optional<Located<std::vector<Located<std::string>>>> get_string_array(const toml::table& t,
                                                                           std::string_view key,
                                                                           FileReporter& f);
// A string that may end up in a mail header or a one-line display (names,
// descriptions, prefixes): control characters (line breaks, tabs) are
// reported as "'k' must not contain control characters (line breaks,
// tabs)" and make it nullopt. UTF-8 text is fine.
std::optional<Located<std::string>> get_text(const toml::table& t, std::string_view key,
                                             FileReporter& f);
// A TLP label name ("AMBER", "amber+strict", "WHITE" reads as CLEAR);
// anything else is reported as "invalid TLP label 'X' (expected CLEAR,
// GREEN, AMBER, AMBER+STRICT or RED)".
std::optional<Located<policy::Tlp>> get_tlp(const toml::table& t, std::string_view key,
                                            FileReporter& f);
// A sub-table ([section]); nullptr when absent or of the wrong type.
const toml::table* get_table(const toml::table& t, std::string_view key, FileReporter& f);

}  // namespace tlpmail::config::detail
