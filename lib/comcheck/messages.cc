// The texts of checks and reviews, and reading a reply (see messages.h).
#include "comcheck/messages.h"

#include <cstdio>

#include "comcheck/report.h"
#include "compose/compose.h"
#include "policy/tlp.h"
#include "util/random_token.h"
#include "util/text.h"

namespace tlpmail::comcheck {
namespace {

constexpr std::size_t kMaxRead = std::size_t{64} * 1024;
constexpr std::size_t kMaxOwnText = std::size_t{8} * 1024;

std::string or_not_set(const std::string& s) { return s.empty() ? "(not set)" : s; }

bool is_quoted(std::string_view line) { return !line.empty() && line.front() == '>'; }

// "On Mon, 7 Dec 2026 ... Alice wrote:", "Am ... schrieb Alice:", "Le ... a écrit :".
bool is_attribution(std::string_view line) {
  const std::string l = ascii_lower(trim(line));
  if (l.empty() || l.back() != ':') return false;
  return l.find("wrote") != std::string::npos || l.find("schrieb") != std::string::npos ||
         l.find("crit") != std::string::npos || l.find("scrisse") != std::string::npos ||
         l.find("escribi") != std::string::npos || l.find("skrev") != std::string::npos ||
         l.find("schreef") != std::string::npos;
}

// Where a client's reply stops being the member's own text.
bool ends_own_text(std::string_view line) {
  if (line == "-- " || line == "--") return true;
  const std::string l = ascii_lower(trim(line));
  return l.starts_with("-----original message-----") ||
         l.starts_with("-------- original message --------") ||
         l.starts_with("-------- forwarded message --------") ||
         l.starts_with("----- original message -----") || l.starts_with("-----ursprüngliche") ||
         l.starts_with("________________________________");
}

}  // namespace

std::string check_subject(const directory::MailingList& list, const Check& check) {
  return "[" + list.local_part() + "] communication check" +
         (check.review ? " and directory review" : "") + ": please reply";
}

std::string entry_text(const directory::Person& p) {
  std::string s;
  auto line = [&s](const char* name, const std::string& value) {
    char buf[32];
    (void)std::snprintf(buf, sizeof buf, "  %-17s ", name);
    s += buf + or_not_set(value) + "\n";
  };
  line("email:", p.email);
  line("name:", p.name);
  line("organization:", p.organization);
  line("team:", p.team);
  line("country:", p.country);
  line("phone:", p.phone);
  line("emergency phone:", p.emergency_phone);
  line("timezone:", p.timezone);
  line("business hours:", p.business_hours);
  line("kind:", std::string(directory::to_string(p.kind)));
  line("clearance:", "TLP:" + std::string(policy::to_string(p.clearance)));
  line("key:", compose::grouped_fingerprint(p.fingerprint));
  for (const auto& [name, value] : p.extra) line((name + ":").c_str(), value);
  return s;
}

std::string check_body(const directory::MailingList& list, const Check& check,
                       const directory::Person& person, const std::string& token) {
  std::string b = "Hello " + person.name + ",\n\n";
  b += "this is a communication check of the list " + list.address +
       ": the list asks every member, now and then, to show that mail reaches them and that "
       "they can answer it.\n\n";
  b += "Please reply to this message with your mail client's \"Reply\" before " +
       utc_minute(check.deadline_at) +
       ", signed with your OpenPGP key (the key the list holds for you), as you sign mail to the "
       "list. Any text will do. Keep the quoted text below in your reply.\n\n";
  b += "Check token: " + std::string(kTokenPrefix) + token + "\n\n";
  if (check.review) {
    b += "This check is also a review of the contact directory. Your entry, as the list holds "
         "it:\n\n";
    b += entry_text(person);
    b += "\nIf it is right, write the single word \"confirm\" as the first line of your reply. If "
         "something is wrong or missing, write the corrections instead, as plain text; the list's "
         "admins get them and update the directory.\n\n";
  }
  b += "Only that you answered, when, and whether your reply was signed by your key is recorded. "
       "A reply that is not signed is noted but does not count. The list's admins see the "
       "results.\n\n";
  b += "-- \n" + list.address + " (tlpmail)\n";
  return b;
}

std::vector<std::string> tokens_in(std::string_view text, std::size_t max) {
  if (text.size() > kMaxRead) text = text.substr(0, kMaxRead);
  std::vector<std::string> out;
  const std::string lower = ascii_lower(text);
  std::size_t at = 0;
  while (out.size() < max) {
    at = lower.find(kTokenPrefix, at);
    if (at == std::string::npos) break;
    at += kTokenPrefix.size();
    std::size_t end = at;
    while (end < lower.size() && ((lower[end] >= 'a' && lower[end] <= 'z') ||
                                  (lower[end] >= '2' && lower[end] <= '7'))) {
      ++end;
    }
    if (end - at == kRandomTokenLength) out.push_back(lower.substr(at, end - at));
    at = end;
  }
  return out;
}

std::string own_text(std::string_view reply) {
  if (reply.size() > kMaxRead) reply = reply.substr(0, kMaxRead);
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos <= reply.size()) {
    std::size_t end = reply.find('\n', pos);
    if (end == std::string_view::npos) end = reply.size();
    std::string_view line = reply.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (ends_own_text(line)) break;
    lines.push_back(line);
    if (end == reply.size()) break;
  }
  // Drop quoted lines and the attribution line before a quote.
  std::vector<std::string_view> own;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (is_quoted(lines[i])) continue;
    if (is_attribution(lines[i])) {
      std::size_t next = i + 1;
      while (next < lines.size() && trim(lines[next]).empty()) ++next;
      if (next == lines.size() || is_quoted(lines[next])) continue;
    }
    own.push_back(lines[i]);
  }
  while (!own.empty() && trim(own.back()).empty()) own.pop_back();
  std::size_t first = 0;
  while (first < own.size() && trim(own[first]).empty()) ++first;
  std::string out;
  for (std::size_t i = first; i < own.size(); ++i) {
    out += std::string(own[i]) + "\n";
    if (out.size() >= kMaxOwnText) {
      out.resize(kMaxOwnText);
      break;
    }
  }
  return out;
}

ReviewReply read_review_reply(std::string_view reply) {
  ReviewReply r;
  const std::string own = own_text(reply);
  if (own.empty()) return r;
  std::string first = ascii_lower(trim(std::string_view(own).substr(0, own.find('\n'))));
  while (!first.empty() && (first.back() == '.' || first.back() == '!')) first.pop_back();
  if (first == "confirm" || first == "confirmed" || first == "ok" || first == "i confirm") {
    r.confirmed = true;
    return r;
  }
  r.correction = own;
  return r;
}

std::string correction_subject(const directory::MailingList& list, const std::string& email) {
  return "[" + list.local_part() + "] directory correction from " + email;
}

std::string correction_body(const directory::MailingList& list, const Check& check,
                            const directory::Person& person, const std::string& signer_fpr,
                            const std::string& correction) {
  std::string b = person.name + " <" + person.email + "> answered the directory review of " +
                  list.address + " (check " + std::to_string(check.id) +
                  ") with corrections. The reply was signed with their pinned key " +
                  compose::grouped_fingerprint(signer_fpr) + ".\n\n";
  b += "Their entry as the directory holds it now:\n\n" + entry_text(person);
  b += "\nTheir text (the lines of the reply that are not quoted):\n\n";
  b += "----------------------------------------------------------------------\n";
  b += correction;
  if (!correction.empty() && correction.back() != '\n') b += "\n";
  b += "----------------------------------------------------------------------\n\n";
  b += "tlpmail changes nothing by itself: edit directory.toml, check it (tlpmailctl "
       "check-config) and reload. The person's review stays open until they confirm.\n";
  return b;
}

std::string report_subject(const directory::MailingList& list, const Check& check,
                           double success_rate) {
  char buf[16];
  (void)std::snprintf(buf, sizeof buf, "%.1f%%", success_rate * 100.0);
  return "[" + list.local_part() + "] " +
         (check.review ? "communication check and review " : "communication check ") +
         std::to_string(check.id) + " report: " + buf + " answered";
}

}  // namespace tlpmail::comcheck
