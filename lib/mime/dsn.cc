// read_bounce() and the pure pieces behind it (see dsn.h). GMime finds the
// report's parts; the delivery-status fields, status codes and the
// classification of bounces that are not reports are plain text scanning.
// The returned message inside a bounce (the copy, ciphertext) is never
// opened.
#include "mime/dsn.h"

#include <gmime/gmime.h>

#include <array>
#include <memory>
#include <optional>

#include "mime/gmime_ptr.h"
#include "mime/mime.h"
#include "util/text.h"

namespace tlpmail::mime {
namespace {

// At most this much text of a bounce that is not a report is scanned.
constexpr std::size_t kMaxScannedText = std::size_t{64} * 1024;
// Parts of a bounce looked at, and how deep.
constexpr int kMaxReportParts = 64;
constexpr int kMaxReportDepth = 8;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Printable ASCII, blanks collapsed, cut to kMaxDiagnostic.
std::string clean(std::string_view s) {
  std::string out;
  bool blank = false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += u < 0x7f ? c : '?';
    if (out.size() >= kMaxDiagnostic) break;
  }
  if (out.size() > kMaxDiagnostic) out.resize(kMaxDiagnostic);
  return out;
}

// "rfc822; <bob@b.example>" -> "bob@b.example"; "dns; mx.b.example" -> "mx.b.example".
std::string without_type(std::string_view v) {
  if (auto semi = v.find(';'); semi != std::string_view::npos) v = v.substr(semi + 1);
  v = trim(v);
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
  return clean(v);
}

// The status code at the start of `v` ("5.1.1 (bad destination)" -> "5.1.1").
std::string leading_status(std::string_view v) {
  v = trim(v);
  std::size_t end = 0;
  while (end < v.size() && (is_digit(v[end]) || v[end] == '.')) ++end;
  std::string_view code = v.substr(0, end);
  return is_status_code(code) ? std::string(code) : std::string();
}

// One field group: (lower-case name, unfolded value) pairs.
using Group = std::vector<std::pair<std::string, std::string>>;

std::vector<Group> field_groups(std::string_view text, bool* cut) {
  if (text.size() > kMaxDsnFields) {
    text = text.substr(0, kMaxDsnFields);
    *cut = true;
  }
  std::vector<Group> groups(1);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::string_view line = next_line(text, pos);
    if (trim(line).empty()) {
      if (!groups.back().empty()) {
        if (groups.size() > kMaxDsnRecipients + 1) {
          *cut = true;
          break;
        }
        groups.emplace_back();
      }
      continue;
    }
    if (is_blank(line.front())) {
      if (!groups.back().empty()) groups.back().back().second += " " + std::string(trim(line));
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    groups.back().emplace_back(ascii_lower(trim(line.substr(0, colon))),
                               std::string(trim(line.substr(colon + 1))));
  }
  if (groups.back().empty()) groups.pop_back();
  return groups;
}

// The class digit of a status or action: '5', '4', '2' or 0.
char status_class(const DsnRecipient& r) {
  if (!r.status.empty()) return r.status.front();
  if (r.action == "failed") return '5';
  if (r.action == "delayed") return '4';
  if (r.action == "delivered" || r.action == "relayed" || r.action == "expanded") return '2';
  return 0;
}

const DsnRecipient& deciding(const std::vector<DsnRecipient>& all, std::string_view expected) {
  std::vector<const DsnRecipient*> pool;
  if (!expected.empty()) {
    for (const auto& r : all) {
      if (iequals(r.final_recipient, expected) || iequals(r.original_recipient, expected)) {
        pool.push_back(&r);
      }
    }
  }
  if (pool.empty()) {
    for (const auto& r : all) pool.push_back(&r);
  }
  for (char want : {'5', '4'}) {
    for (const DsnRecipient* r : pool) {
      // An Action of "failed" decides even when the status class disagrees.
      if ((want == '5' && r->action == "failed") || status_class(*r) == want) return *r;
    }
  }
  return *pool.front();
}

// ------------------------------------------------------------ GMime walk

struct ReportWalk {
  int visited = 0;
  bool is_report = false;        // a multipart/report; report-type=delivery-status
  bool is_other_report = false;  // another report type (read receipts: disposition-notification)
  std::optional<std::string> status_fields;
  bool status_cut = false;
};

bool is_status_type(GMimeContentType* ct) {
  return ct && (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
                g_mime_content_type_is_type(ct, "message", "global-delivery-status"));
}

// What a memory stream holds, at most kMaxDsnFields bytes (*cut set when
// there was more).
std::string bounded_bytes(GMimeStream* mem, bool* cut) {
  GByteArray* a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
  if (!a) return {};
  std::size_t n = a->len;
  if (n > kMaxDsnFields) {
    n = kMaxDsnFields;
    *cut = true;
  }
  return std::string(reinterpret_cast<const char*>(a->data), n);
}

// The transfer-decoded content of a part, at most kMaxDsnFields bytes.
std::string bounded_content(GMimePart* part, bool* cut) {
  GMimeDataWrapper* w = g_mime_part_get_content(part);
  if (!w) return {};
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(w, out.get()) < 0) return {};
  return bounded_bytes(out.get(), cut);
}

// A message/* part GMime parsed as a message: its text as written.
std::string message_text(GMimeObject* obj, bool* cut) {
  GMimeMessage* m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
  if (!m) return {};
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  if (g_mime_object_write_to_stream(GMIME_OBJECT(m), nullptr, out.get()) < 0) return {};
  return bounded_bytes(out.get(), cut);
}

void walk(GMimeObject* obj, int depth, ReportWalk& w) {
  if (obj == nullptr || depth > kMaxReportDepth || ++w.visited > kMaxReportParts) return;
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (GMIME_IS_MULTIPART(obj)) {
    if (ct && g_mime_content_type_is_type(ct, "multipart", "report")) {
      const char* type = g_mime_content_type_get_parameter(ct, "report-type");
      const std::string t = type ? ascii_lower(type) : std::string();
      if (t == "delivery-status" || t == "global-delivery-status") {
        w.is_report = true;
      } else {
        w.is_other_report = true;
      }
    }
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    const int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i) walk(g_mime_multipart_get_part(mp, i), depth + 1, w);
    return;
  }
  if (!is_status_type(ct) || w.status_fields) return;
  // The returned message (message/rfc822, the copy) is never descended into.
  if (GMIME_IS_PART(obj)) {
    w.status_fields = bounded_content(GMIME_PART(obj), &w.status_cut);
  } else if (GMIME_IS_MESSAGE_PART(obj)) {
    w.status_fields = message_text(obj, &w.status_cut);
  }
}

ReportWalk walk_report(std::string_view raw) {
  ReportWalk w;
  initialize();
  OptionsPtr options(g_mime_parser_options_new());
  const MemoryParser p = parser_over(raw);
  GPtr<GMimeMessage> message(g_mime_parser_construct_message(p.parser.get(), options.get()));
  if (!message) return w;
  walk(g_mime_message_get_mime_part(message.get()), 0, w);
  return w;
}

// ------------------------------------------- bounces that are not reports

bool contains_any(std::string_view haystack, std::initializer_list<std::string_view> needles) {
  for (std::string_view n : needles) {
    if (haystack.find(n) != std::string_view::npos) return true;
  }
  return false;
}

bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> prefixes) {
  for (std::string_view p : prefixes) {
    if (s.starts_with(p)) return true;
  }
  return false;
}

// Sent by a mail system about a delivery (its sender or its subject).
bool reads_as_bounce(const Message& m) {
  for (const Mailbox& b : m.from_mailboxes) {
    const std::string local = ascii_lower(b.address.substr(0, b.address.find('@')));
    if (local == "mailer-daemon" || local == "postmaster" || local == "mail-daemon" ||
        local == "mailerdaemon") {
      return true;
    }
  }
  const std::string subject = ascii_lower(m.subject);
  return contains_any(subject, {"undeliver", "delivery status notification", "delivery failure",
                                "delivery failed", "delivery has failed", "returned mail",
                                "failure notice", "non-delivery", "nondeliverable",
                                "not delivered", "could not be delivered", "delivery notification",
                                "delayed mail", "delivery delayed", "mail system error",
                                "returned to sender"});
}

// A vacation message or another automatic reply (RFC 3834 and the
// headers and subjects common clients use).
bool reads_as_auto_reply(const Message& m) {
  for (const HeaderField& h : m.headers) {
    const std::string name = ascii_lower(h.name);
    if (name == "x-autoreply" || name == "x-autorespond" || name == "x-autoresponder") return true;
    if (name == "precedence" && iequals(trim(h.value), "auto_reply")) return true;
  }
  const std::string subject = ascii_lower(trim(m.subject));
  return starts_with_any(subject, {"auto:", "automatic reply", "autoreply", "auto-reply",
                                   "auto reply", "out of office", "out of the office",
                                   "abwesenheit", "automatische antwort",
                                   "r\xc3\xa9ponse automatique", "vacation"}) ||
         contains_any(subject, {"out of office", "automatic reply"});
}

bool says_delay(const Message& m) {
  const std::string subject = ascii_lower(m.subject);
  return contains_any(subject, {"delay", "warning", "still being retried", "not yet been delivered",
                                "will retry"});
}

// The line of `text` around offset `at`, cleaned (the MTA's own words).
std::string line_at(std::string_view text, std::size_t at) {
  std::size_t begin = at == 0 ? std::string_view::npos : text.rfind('\n', at - 1);
  begin = begin == std::string_view::npos ? 0 : begin + 1;
  std::size_t end = text.find('\n', at);
  if (end == std::string_view::npos) end = text.size();
  return clean(text.substr(begin, end - begin));
}

struct Located {
  std::string code;
  std::size_t at = std::string_view::npos;
};

Located locate_status(std::string_view text);

Bounce from_text(const Message& m, bool looks_like_bounce, std::string_view reporting_mta) {
  Bounce b;
  b.reporting_mta = std::string(reporting_mta);
  if (!looks_like_bounce && reads_as_auto_reply(m)) {
    b.kind = BounceKind::auto_reply;
    return b;
  }
  if (!looks_like_bounce && !reads_as_bounce(m)) return b;  // unrecognised
  const std::string_view text = m.content.body_head;
  const Located found = locate_status(text);
  b.status = !found.code.empty() ? found.code : says_delay(m) ? "4.0.0" : "5.0.0";
  b.kind = b.status.front() == '4'   ? BounceKind::temporary
           : b.status.front() == '2' ? BounceKind::not_failure
                                     : BounceKind::permanent;
  if (found.at != std::string_view::npos) b.diagnostic = line_at(text, found.at);
  return b;
}

Located locate_status(std::string_view text) {
  if (text.size() > kMaxScannedText) text = text.substr(0, kMaxScannedText);
  // Enhanced codes first: they are what bounces quote most precisely.
  for (std::size_t i = 0; i + 5 <= text.size(); ++i) {
    const char c = text[i];
    if ((c != '4' && c != '5') || text[i + 1] != '.') continue;
    if (i > 0 && (is_digit(text[i - 1]) || text[i - 1] == '.')) continue;
    std::size_t end = i + 2;
    while (end < text.size() && (is_digit(text[end]) || text[end] == '.')) ++end;
    std::string_view candidate = text.substr(i, end - i);
    while (candidate.ends_with('.')) candidate.remove_suffix(1);
    if (is_status_code(candidate)) return {std::string(candidate), i};
  }
  // Then a basic reply code: "550 ", "550-", "(#550" at a line start or after a blank.
  for (std::size_t i = 0; i + 4 <= text.size(); ++i) {
    const char c = text[i];
    if (c != '4' && c != '5') continue;
    if (!is_digit(text[i + 1]) || !is_digit(text[i + 2])) continue;
    if (text[i + 3] != ' ' && text[i + 3] != '-') continue;
    const bool at_start = i == 0 || text[i - 1] == '\n' || is_blank(text[i - 1]) ||
                          (i >= 2 && text[i - 1] == '#' && text[i - 2] == '(');
    if (!at_start) continue;
    return {std::string(1, c) + ".0.0", i};
  }
  return {};
}

}  // namespace

bool is_status_code(std::string_view s) {
  // class "." subject "." detail; subject 1-3 digits, detail 1-3 digits.
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
  std::size_t i = 2, n = 0;
  while (i < s.size() && is_digit(s[i]) && n < 4) ++i, ++n;
  if (n == 0 || n > 3 || i >= s.size() || s[i] != '.') return false;
  ++i;
  n = 0;
  while (i < s.size() && is_digit(s[i]) && n < 4) ++i, ++n;
  return n >= 1 && n <= 3 && i == s.size();
}

std::string find_status_code(std::string_view text) { return locate_status(text).code; }

std::string_view to_string(BounceKind k) {
  switch (k) {
    case BounceKind::permanent:
      return "permanent";
    case BounceKind::temporary:
      return "temporary";
    case BounceKind::not_failure:
      return "not_failure";
    case BounceKind::auto_reply:
      return "auto_reply";
    case BounceKind::unrecognised:
      return "unrecognised";
  }
  return "unrecognised";
}

DeliveryStatus parse_delivery_status(std::string_view fields) {
  DeliveryStatus out;
  const std::vector<Group> groups = field_groups(fields, &out.cut);
  for (const Group& g : groups) {
    DsnRecipient r;
    bool is_recipient = false;
    for (const auto& [name, value] : g) {
      if (name == "final-recipient") {
        r.final_recipient = without_type(value);
        is_recipient = true;
      } else if (name == "original-recipient") {
        r.original_recipient = without_type(value);
        is_recipient = true;
      } else if (name == "action") {
        std::string a = ascii_lower(trim(value));
        if (auto sp = a.find_first_of(" \t("); sp != std::string::npos) a.resize(sp);
        r.action = clean(a);
      } else if (name == "status") {
        r.status = leading_status(value);
      } else if (name == "remote-mta") {
        r.remote_mta = without_type(value);
      } else if (name == "diagnostic-code") {
        std::string_view v = value;
        if (auto semi = v.find(';'); semi != std::string_view::npos) v = v.substr(semi + 1);
        r.diagnostic = clean(v);
      } else if (name == "reporting-mta" && out.reporting_mta.empty()) {
        out.reporting_mta = without_type(value);
      }
    }
    if (!is_recipient) continue;
    if (out.recipients.size() >= kMaxDsnRecipients) {
      out.cut = true;
      break;
    }
    out.recipients.push_back(std::move(r));
  }
  return out;
}

Bounce read_bounce(std::string_view raw, std::string_view expected_recipient) {
  auto message = parse_message(raw);
  if (!message) return {};
  const ReportWalk w = walk_report(raw);
  if (w.is_report && w.status_fields) {
    const DeliveryStatus status = parse_delivery_status(*w.status_fields);
    if (!status.recipients.empty()) {
      const DsnRecipient& r = deciding(status.recipients, expected_recipient);
      Bounce b;
      b.is_dsn = true;
      b.reporting_mta = status.reporting_mta;
      b.action = r.action;
      b.recipient = r.final_recipient.empty() ? r.original_recipient : r.final_recipient;
      b.diagnostic = r.diagnostic;
      b.remote_mta = r.remote_mta;
      const char cls = status_class(r);
      b.status = !r.status.empty() ? r.status : cls ? std::string(1, cls) + ".0.0" : "5.0.0";
      b.kind = (cls == '5' || r.action == "failed" || cls == 0) ? BounceKind::permanent
               : cls == '4'                                     ? BounceKind::temporary
                                                                : BounceKind::not_failure;
      return b;
    }
    // A report without a readable recipient: read like any bounce.
    return from_text(*message, true, status.reporting_mta);
  }
  if (w.is_other_report) {
    Bounce b;
    b.kind = BounceKind::not_failure;
    return b;
  }
  return from_text(*message, w.is_report, {});
}

}  // namespace tlpmail::mime
