// directory.toml: one [[person]] table per person or team mailbox
// (directory_file.h), and the directory's global review interval. Known
// keys are validated (the contact fields too: phone numbers in
// international form, IANA time zones looked up in the tz database);
// other string-valued keys are kept as free-form extras unless they look
// like a typo of a known key.
#include "config/directory_file.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "config/duration.h"
#include "config/toml_read.h"
#include "directory/address.h"
#include "util/text.h"

namespace tlpmail::config::detail {
namespace {

constexpr std::array<std::string_view, 12> kPersonKeys = {
    "email",       "name",      "organization", "country",         "fingerprint",
    "clearance",   "kind",      "team",         "phone",           "emergency_phone",
    "timezone",    "business_hours"};
constexpr std::array<std::string_view, 2> kTopKeys = {"person", "directory_review_interval"};

constexpr std::size_t kMaxTeam = 64;
constexpr std::size_t kMaxBusinessHours = 200;
// A review asked for more often than this would only annoy people.
constexpr std::int64_t kMinReviewInterval = 86400;

// "+43 1 234 5678", "+1 (555) 010-0199 ext 12": digits and the usual
// separators, an optional extension; the problem, or nullopt when fine.
// `international` is set when it starts with '+'.
std::optional<std::string> phone_problem(std::string_view v, bool* international) {
  std::string_view number = trim(v);
  *international = number.starts_with('+');
  // An extension at the end: "ext 12", "ext. 12", "x12".
  const std::string lower = ascii_lower(number);
  for (std::string_view mark : {"ext.", "ext", "x"}) {
    const std::size_t at = lower.rfind(mark);
    if (at == std::string::npos || at == 0) continue;
    std::string_view rest = trim(std::string_view(lower).substr(at + mark.size()));
    if (rest.empty() || rest.find_first_not_of("0123456789") != std::string_view::npos) continue;
    number = trim(number.substr(0, at));
    break;
  }
  std::size_t digits = 0;
  for (std::size_t i = 0; i < number.size(); ++i) {
    const char c = number[i];
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (!(c == '+' && i == 0) && std::string_view(" ()-./").find(c) == std::string_view::npos) {
      return "a phone number holds digits, spaces and + ( ) - . / only (and an extension such as "
             "'ext 12')";
    }
  }
  if (digits < 5 || digits > 20) return "a phone number has 5 to 20 digits";
  return std::nullopt;
}

// The folder of the IANA time zone database.
std::filesystem::path zoneinfo_dir() {
  const char* dir = std::getenv("TZDIR");
  return dir && *dir ? std::filesystem::path(dir) : std::filesystem::path("/usr/share/zoneinfo");
}

// Whether `name` is a zone of the tz database: a well-formed name whose
// file is a compiled zone ("TZif"). nullopt: there is no database here.
std::optional<bool> is_time_zone(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part.empty() || part.front() == '.' || part.front() == '-') return false;
    for (char c : part) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '+';
      if (!ok) return false;
    }
    start = end + 1;
  }
  const std::filesystem::path dir = zoneinfo_dir();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  const std::filesystem::path file = dir / std::string(name);
  if (!std::filesystem::is_regular_file(file, ec)) return false;
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::string_view(magic, 4) == "TZif";
}

// team, phone, emergency_phone, timezone, business_hours.
void read_contact_fields(const toml::table& t, directory::Person& p, FileReporter& f) {
  if (auto v = get_text(t, "team", f)) {
    if (trim(v->value).empty()) {
      f.error(v->line, "team must not be empty");
    } else if (v->value.size() > kMaxTeam) {
      f.error(v->line, "team is longer than " + std::to_string(kMaxTeam) +
                           " characters: use the team's short name");
    } else {
      p.team = std::string(trim(v->value));
    }
  }
  for (std::string_view key : {"phone", "emergency_phone"}) {
    auto v = get_text(t, key, f);
    if (!v) continue;
    bool international = false;
    if (auto why = phone_problem(v->value, &international)) {
      f.error(v->line, "invalid " + std::string(key) + " " + quote(v->value) + ": " + *why);
      continue;
    }
    if (!international) {
      f.warning(v->line, std::string(key) + " " + quote(v->value) +
                             " is not in international form (+CC ...): members abroad cannot "
                             "dial it as written");
    }
    (key == "phone" ? p.phone : p.emergency_phone) = std::string(trim(v->value));
  }
  if (auto v = get_text(t, "timezone", f)) {
    const std::string name(trim(v->value));
    const std::optional<bool> known = is_time_zone(name);
    if (!known) {
      f.warning(v->line, "cannot check timezone " + quote(name) + ": no time zone database at " +
                             zoneinfo_dir().string() + " (install tzdata)");
      p.timezone = name;
    } else if (!*known) {
      f.error(v->line, "unknown timezone " + quote(v->value) +
                           " (expected an IANA name such as 'Europe/Vienna' or 'UTC')");
    } else {
      p.timezone = name;
    }
  }
  if (auto v = get_text(t, "business_hours", f)) {
    if (v->value.size() > kMaxBusinessHours) {
      f.error(v->line, "business_hours is longer than " + std::to_string(kMaxBusinessHours) +
                           " characters");
    } else {
      p.business_hours = std::string(trim(v->value));
    }
  }
}

// Unknown keys of a [[person]]: typos of known keys are errors, other
// string values are extras, anything else is an error.
void read_extras(const toml::table& t, directory::Person& p, FileReporter& f) {
  for (auto&& [k, v] : t) {
    const std::string_view name = k.str();
    if (std::find(kPersonKeys.begin(), kPersonKeys.end(), name) != kPersonKeys.end()) continue;
    const int line = static_cast<int>(k.source().begin.line);
    if (auto s = suggest(name, kPersonKeys)) {
      f.error(line, "unknown key " + quote(name) + " (did you mean " + quote(*s) + "?)");
    } else if (v.is_string()) {
      if (auto text = get_text(t, name, f)) p.extra.emplace(std::string(name), text->value);
    } else {
      f.error(line, "wrong type for extra field " + quote(name) + ": expected a string, got " +
                        std::string(type_name(v.type())));
    }
  }
}

}  // namespace

DirectoryFile read_directory_file(const toml::table& root, FileReporter& f) {
  DirectoryFile result;
  std::vector<PersonEntry>& out = result.people;
  report_unknown_keys(root, kTopKeys, "", f);
  if (auto v = get_string(root, "directory_review_interval", f)) {
    auto seconds = parse_duration(v->value);
    if (!seconds) {
      f.error(v->line, "invalid directory_review_interval " + quote(v->value) +
                           " (expected a duration such as '120d')");
    } else if (*seconds < kMinReviewInterval) {
      f.error(v->line, "directory_review_interval must be at least 1d, got " + quote(v->value));
    } else {
      result.review_interval = *seconds;
    }
  }

  const toml::node* node = root.get("person");
  if (node == nullptr) {
    f.warning(0, "no [[person]] entries");
    return result;
  }
  const toml::array* people = node->as_array();
  if (people == nullptr) {
    f.error(line_of(*node),
            "wrong type for 'person': expected an array of tables ([[person]]), got " +
                std::string(type_name(node->type())));
    result.usable = false;
    return result;
  }

  std::map<std::string, int> email_first_line;        // lower-cased email -> line
  std::map<std::string, int> fingerprint_first_line;  // normalised -> line
  for (const toml::node& item : *people) {
    const toml::table* t = item.as_table();
    if (t == nullptr) {
      f.error(line_of(item), "wrong type for an item of 'person': expected a table, got " +
                                 std::string(type_name(item.type())));
      continue;
    }
    PersonEntry e;
    directory::Person& p = e.person;
    const int line = line_of(*t);
    p.at = {f.file(), line};

    if (require_key(*t, "email", line, "", f)) {
      if (auto v = get_string(*t, "email", f)) {
        p.email = v->value;
        e.email_line = v->line;
        if (auto why = directory::address_problem(v->value)) {
          f.error(v->line, "invalid e-mail address " + quote(v->value) + ": " + *why);
        } else {
          auto [it, fresh] = email_first_line.emplace(ascii_lower(v->value), v->line);
          if (!fresh) {
            f.error(v->line, "duplicate email " + quote(v->value) + " (first at line " +
                                 std::to_string(it->second) + ")");
          } else {
            e.email_ok = true;
          }
        }
      }
    }
    if (require_key(*t, "name", line, "", f)) {
      if (auto v = get_text(*t, "name", f)) {
        if (trim(v->value).empty()) f.error(v->line, "name must not be empty");
        p.name = v->value;
      }
    }
    if (auto v = get_text(*t, "organization", f)) p.organization = v->value;
    if (auto v = get_text(*t, "country", f)) p.country = v->value;
    if (require_key(*t, "fingerprint", line, "", f)) {
      if (auto v = get_string(*t, "fingerprint", f)) {
        p.fingerprint_at = {f.file(), v->line};
        auto fp = directory::normalize_fingerprint(v->value);
        if (!fp) {
          f.error(v->line, fp.error().message);
        } else {
          p.fingerprint = *fp;
          auto [it, fresh] = fingerprint_first_line.emplace(*fp, v->line);
          if (!fresh) {
            f.error(v->line, "duplicate fingerprint " + quote(*fp) + " (first at line " +
                                 std::to_string(it->second) + ")");
          }
        }
      }
    }
    std::optional<Located<policy::Tlp>> clearance;
    if (require_key(*t, "clearance", line, "", f)) {
      clearance = get_tlp(*t, "clearance", f);
      if (clearance) p.clearance = clearance->value;
    }
    if (auto v = get_string(*t, "kind", f)) {
      if (iequals(v->value, "person")) {
        p.kind = directory::Kind::person;
      } else if (iequals(v->value, "team")) {
        p.kind = directory::Kind::team;
      } else {
        f.error(v->line, "invalid kind " + quote(v->value) + " (expected person or team)");
      }
    }
    if (clearance && p.kind == directory::Kind::team && p.clearance == policy::Tlp::red) {
      f.warning(clearance->line,
                "clearance RED has no effect on a team mailbox: a team never receives TLP:RED");
    }
    read_contact_fields(*t, p, f);
    read_extras(*t, p, f);
    out.push_back(std::move(e));
  }
  if (people->empty()) f.warning(line_of(*node), "no [[person]] entries");
  return result;
}

}  // namespace tlpmail::config::detail
