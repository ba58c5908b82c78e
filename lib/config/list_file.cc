// One list file of lists_dir (list_file.h): address, labels, members and
// admins. Members and admins are kept as written; duplicates within the
// file are dropped with a warning.
#include "config/list_file.h"

#include <array>
#include <map>

#include "config/duration.h"
#include "config/toml_read.h"
#include "directory/address.h"
#include "util/text.h"

namespace tlpmail::config::detail {
namespace {

constexpr std::array<std::string_view, 13> kListKeys = {
    "address", "description", "tlp_ceiling",    "tlp_default",
    "members", "admins",      "subject_prefix", "deliver_to_sender",
    "protect_subject", "autocrypt",
    "comcheck_interval", "directory_review_interval", "bounce_threshold"};

// Communication checks and directory reviews the daemon starts by itself
// (lib/comcheck): at most this often.
constexpr std::int64_t kMinCheckInterval = 3600;
constexpr std::int64_t kMinReviewInterval = 86400;

// A duration setting ("90d") of at least `min` seconds into `out`;
// whether the key was present and valid.
bool read_interval(const toml::table& t, std::string_view key, std::int64_t min,
                   std::int64_t& out, FileReporter& f) {
  auto v = get_string(t, key, f);
  if (!v) return false;
  auto seconds = parse_duration(v->value);
  if (!seconds) {
    f.error(v->line, "invalid " + std::string(key) + " " + quote(v->value) +
                         " (expected a duration such as '90d', '12h' or '1d12h')");
    return false;
  }
  if (*seconds < min) {
    f.error(v->line, std::string(key) + " must be at least " + format_duration(min) + ", got " +
                         quote(v->value));
    return false;
  }
  out = *seconds;
  return true;
}

// Reads "members" or "admins": well-formed, first occurrence kept.
void read_addresses(const toml::table& t, std::string_view key, std::string_view what,
                    std::vector<std::string>& out, std::vector<int>& lines, FileReporter& f) {
  auto v = get_string_array(t, key, f);
  if (!v) return;
  std::map<std::string, int> first_line;
  for (const auto& item : v->value) {
    if (auto why = directory::address_problem(item.value)) {
      f.error(item.line, "invalid e-mail address " + quote(item.value) + ": " + *why);
      continue;
    }
    auto [it, fresh] = first_line.emplace(ascii_lower(item.value), item.line);
    if (!fresh) {
      f.warning(item.line, std::string(what) + " " + quote(item.value) +
                               " is listed twice (first at line " + std::to_string(it->second) +
                               ")");
      continue;
    }
    out.push_back(item.value);
    lines.push_back(item.line);
  }
}

}  // namespace

ListEntry read_list_file(const toml::table& root, FileReporter& f) {
  ListEntry e;
  directory::MailingList& l = e.list;
  l.at = {f.file(), 0};
  report_unknown_keys(root, kListKeys, "", f);

  if (require_key(root, "address", 0, "", f)) {
    if (auto v = get_string(root, "address", f)) {
      l.address = v->value;
      l.at.line = v->line;
      if (auto why = directory::address_problem(v->value)) {
        f.error(v->line, "invalid e-mail address " + quote(v->value) + ": " + *why);
      } else {
        e.address_ok = true;
      }
    }
  }
  if (auto v = get_text(root, "description", f)) l.description = v->value;

  std::optional<Located<policy::Tlp>> ceiling, label;
  if (require_key(root, "tlp_ceiling", 0, "", f)) ceiling = get_tlp(root, "tlp_ceiling", f);
  label = get_tlp(root, "tlp_default", f);
  if (ceiling) l.ceiling = ceiling->value;
  if (label) {
    l.default_label = label->value;
  } else if (ceiling && !root.contains("tlp_default")) {
    l.default_label = ceiling->value;  // unlabelled mail is treated as the most sensitive
  }
  if (ceiling && label && label->value > ceiling->value) {
    f.error(label->line, "tlp_default " + std::string(policy::to_string(label->value)) +
                             " is above tlp_ceiling " +
                             std::string(policy::to_string(ceiling->value)));
  }

  if (require_key(root, "members", 0, "", f)) {
    read_addresses(root, "members", "member", l.members, e.member_lines, f);
    const toml::node* m = root.get("members");
    e.members_read = m->is_array();
    if (m->is_array() && m->as_array()->empty()) f.warning(line_of(*m), "the list has no members");
  }
  read_addresses(root, "admins", "admin", l.admins, e.admin_lines, f);
  if (const toml::node* a = root.get("admins");
      a == nullptr || (a->is_array() && a->as_array()->empty())) {
    f.warning(
        a ? line_of(*a) : 0,
        "the list has no admins: nobody will be told about delivery failures or key problems");
  }

  if (auto v = get_text(root, "subject_prefix", f)) l.subject_prefix = v->value;
  if (auto v = get_bool(root, "deliver_to_sender", f)) l.deliver_to_sender = v->value;
  if (auto v = get_bool(root, "protect_subject", f)) l.protect_subject = v->value;
  read_interval(root, "comcheck_interval", kMinCheckInterval, l.comcheck_interval, f);
  e.review_interval_set = read_interval(root, "directory_review_interval", kMinReviewInterval,
                                        l.directory_review_interval, f);
  if (auto v = get_integer(root, "bounce_threshold", f)) {
    if (v->value < 1 || v->value > 100) {
      f.error(v->line, "bounce_threshold must be between 1 and 100, got " +
                           std::to_string(v->value));
    } else {
      l.bounce_threshold = static_cast<int>(v->value);
    }
  }
  if (auto v = get_bool(root, "autocrypt", f)) l.autocrypt = v->value;
  return e;
}

}  // namespace tlpmail::config::detail
