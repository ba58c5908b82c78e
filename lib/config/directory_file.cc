// directory.toml: one [[person]] table per person or team mailbox
// (directory_file.h). Known keys are validated; other string-valued keys
// are kept as free-form extras unless they look like a typo of a known key.
#include "config/directory_file.h"

#include <algorithm>
#include <array>
#include <map>

#include "config/toml_read.h"
#include "directory/address.h"
#include "util/text.h"

namespace tlpmail::config::detail {
namespace {

constexpr std::array<std::string_view, 7> kPersonKeys = {
    "email", "name", "organization", "country", "fingerprint", "clearance", "kind"};
constexpr std::array<std::string_view, 1> kTopKeys = {"person"};

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
    read_extras(*t, p, f);
    out.push_back(std::move(e));
  }
  if (people->empty()) f.warning(line_of(*node), "no [[person]] entries");
  return result;
}

}  // namespace tlpmail::config::detail
