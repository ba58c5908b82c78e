// toml++ access with line-accurate diagnostics (toml_read.h). toml++ is
// built with exceptions on Debian, so parse errors arrive as
// toml::parse_error and are turned into diagnostics here, never rethrown.
#include "config/toml_read.h"

#include <algorithm>
#include <array>
#include <limits>

#include "util/enum_names.h"
#include "util/text.h"

namespace tlpmail::config::detail {
namespace {

// Optimal string alignment distance (Levenshtein plus adjacent
// transpositions), on ASCII-lower-cased input.
std::size_t osa_distance(std::string_view a_in, std::string_view b_in) {
  std::string a = ascii_lower(a_in), b = ascii_lower(b_in);
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::string_view node_type_of(const toml::node& n) { return type_name(n.type()); }

void report_wrong_type(std::string_view key, std::string_view expected, const toml::node& n,
                       FileReporter& f) {
  f.error(line_of(n), "wrong type for " + quote(key) + ": expected " + std::string(expected) +
                          ", got " + std::string(node_type_of(n)));
}

// The value of type T at `key`: nullopt when the key is absent, or after
// reporting that it is not `expected`.
template <class T>
std::optional<Located<T>> get_value(const toml::table& t, std::string_view key,
                                    std::string_view expected, FileReporter& f) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (auto v = n->as<T>()) return Located<T>{v->get(), line_of(*n)};
  report_wrong_type(key, expected, *n, f);
  return std::nullopt;
}

}  // namespace

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

// In the order of toml::node_type's values.
constexpr auto kTypeNames =
    std::to_array<std::string_view>({"nothing", "a table", "an array", "a string", "an integer",
                                     "a float", "a boolean", "a date", "a time", "a date-time"});
static_assert(util::names_cover(kTypeNames, toml::node_type::date_time));

std::string_view type_name(toml::node_type t) { return util::name_of(kTypeNames, t, "a value"); }

std::string quote(std::string_view text) { return "'" + escape_for_log(text) + "'"; }

std::optional<std::string_view> suggest(std::string_view key,
                                        std::span<const std::string_view> known) {
  std::optional<std::string_view> best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (std::string_view k : known) {
    std::size_t limit = k.size() <= 4 ? 1 : 2;
    std::size_t d = osa_distance(key, k);
    if (d <= limit && d < best_distance) {
      best = k;
      best_distance = d;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view key, std::span<const std::string_view> known) {
  auto s = suggest(key, known);
  return s ? " (did you mean " + quote(*s) + "?)" : std::string();
}

std::optional<toml::table> parse_toml(std::string_view text, FileReporter& f) {
  try {
    return toml::parse(text, std::string_view(f.file()));
  } catch (const toml::parse_error& e) {
    std::string desc(e.description());
    if (!desc.empty() && desc[0] >= 'A' && desc[0] <= 'Z')
      desc[0] = static_cast<char>(desc[0] - 'A' + 'a');
    f.error(static_cast<int>(e.source().begin.line),
            "TOML syntax error at column " + std::to_string(e.source().begin.column) + ": " + desc);
    return std::nullopt;
  }
}

void report_unknown_keys(const toml::table& t, std::span<const std::string_view> known,
                         std::string_view where, FileReporter& f) {
  for (auto it = t.begin(); it != t.end(); ++it) {
    const toml::key& k = it->first;
    if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
    f.error(static_cast<int>(k.source().begin.line),
            "unknown key " + quote(k.str()) + std::string(where) + did_you_mean(k.str(), known));
  }
}

bool require_key(const toml::table& t, std::string_view key, int line, std::string_view where,
                 FileReporter& f) {
  if (t.contains(key)) return true;
  f.error(line, "missing required key " + quote(key) + std::string(where));
  return false;
}

std::optional<Located<std::string>> get_string(const toml::table& t, std::string_view key,
                                               FileReporter& f) {
  return get_value<std::string>(t, key, "a string", f);
}

std::optional<Located<std::int64_t>> get_integer(const toml::table& t, std::string_view key,
                                                 FileReporter& f) {
  return get_value<std::int64_t>(t, key, "an integer", f);
}

std::optional<Located<bool>> get_bool(const toml::table& t, std::string_view key, FileReporter& f) {
  return get_value<bool>(t, key, "a boolean (true or false)", f);
}

std::optional<Located<std::vector<Located<std::string>>>> get_string_array(const toml::table& t,
                                                                           std::string_view key,
                                                                           FileReporter& f) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    report_wrong_type(key, "an array of strings", *n, f);
    return std::nullopt;
  }
  Located<std::vector<Located<std::string>>> out{{}, line_of(*n)};
  for (const toml::node& item : *a) {
    if (auto s = item.as_string()) {
      out.value.push_back({s->get(), line_of(item)});
    } else {
      f.error(line_of(item), "wrong type for an item of " + quote(key) +
                                 ": expected a string, got " + std::string(node_type_of(item)));
    }
  }
  return out;
}

std::optional<Located<std::string>> get_text(const toml::table& t, std::string_view key,
                                             FileReporter& f) {
  auto v = get_string(t, key, f);
  if (!v) return std::nullopt;
  for (unsigned char c : v->value) {
    if (c < 0x20 || c == 0x7f) {
      f.error(v->line, quote(key) + " must not contain control characters (line breaks, tabs)");
      return std::nullopt;
    }
  }
  return v;
}

std::optional<Located<policy::Tlp>> get_tlp(const toml::table& t, std::string_view key,
                                            FileReporter& f) {
  auto v = get_string(t, key, f);
  if (!v) return std::nullopt;
  if (auto label = policy::parse_name(v->value)) return Located<policy::Tlp>{*label, v->line};
  std::string_view text = v->value;
  if (text.size() > 4 && iequals(text.substr(0, 4), "TLP:")) {
    if (policy::parse_name(text.substr(4))) {
      f.error(v->line, "invalid TLP label " + quote(text) +
                           " (write the name without 'TLP:', e.g. " + quote(text.substr(4)) + ")");
      return std::nullopt;
    }
  }
  f.error(v->line, "invalid TLP label " + quote(text) +
                       " (expected CLEAR, GREEN, AMBER, AMBER+STRICT or RED)");
  return std::nullopt;
}

const toml::table* get_table(const toml::table& t, std::string_view key, FileReporter& f) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return nullptr;
  if (auto tb = n->as_table()) return tb;
  report_wrong_type(key, "a table", *n, f);
  return nullptr;
}

}  // namespace tlpmail::config::detail
