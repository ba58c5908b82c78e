// The report's loader and its text and HTML forms (see report.h). The
// HTML page carries a Content-Security-Policy that forbids every external
// resource and script, so a browser refuses anything that would leak to
// the network even if some text were not escaped.
#include "comcheck/report.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "admin/table.h"
#include "queue/outbox.h"
#include "util/text.h"

namespace tlpmail::comcheck {
namespace {

std::string utc_format(std::int64_t t, const char* format) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

std::string percent(double rate) {
  char buf[16];
  (void)std::snprintf(buf, sizeof buf, "%.1f%%", rate * 100.0);
  return buf;
}

std::map<std::string, Delivery> deliveries_of(queue::Outbox& outbox,
                                              const std::vector<Member>& members,
                                              std::string* error) {
  std::map<std::string, Delivery> out;
  for (const Member& m : members) {
    if (m.outbox_id.empty()) continue;
    auto copies = outbox.copies_of_message(m.outbox_id);
    if (!copies) {
      *error = copies.error().message;
      return out;
    }
    for (const queue::WaitingCopy& c : *copies) {
      if (c.state == queue::CopyState::bounced || c.state == queue::CopyState::failed) {
        out[ascii_lower(m.email)] = Delivery{true, c.last_reply};
      }
    }
  }
  return out;
}

Result<Inputs> inputs_with(store::Database& db, const Check& check,
                           std::vector<MemberResult> previous) {
  Inputs in;
  auto members = members_of(db, check.id);
  if (!members) return Unexpected(Error(members.error()));
  in.members = std::move(*members);
  queue::Outbox outbox(db);
  std::string error;
  in.deliveries = deliveries_of(outbox, in.members, &error);
  if (!error.empty()) return Unexpected(Error::temporary(error));
  in.previous = std::move(previous);
  return in;
}

Result<Summary> summary_with(store::Database& db, const Check& check,
                             std::vector<MemberResult> previous, std::time_t now) {
  auto in = inputs_with(db, check, std::move(previous));
  if (!in) return Unexpected(in.error());
  return summarize(check, in->members, in->deliveries, in->previous, now);
}

std::string note_of(const MemberResult& m) {
  std::string note = escape_for_log(m.reason, 120);
  if (m.reason.empty()) note.clear();
  if (!m.review_result.empty()) note += std::string(note.empty() ? "" : "; ") + "review " + m.review_result;
  if (m.missed_twice) note += std::string(note.empty() ? "" : "; ") + "missed 2 checks in a row";
  return note.empty() ? "-" : note;
}

// ------------------------------------------------------------------ HTML

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  (void)std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

constexpr const char* kStyle = R"css(
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 72em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
.facts { color: #555; }
.figures { display: flex; gap: 2em; margin: 1em 0; }
.figure { border: 1px solid #ccc; border-radius: 6px; padding: 0.6em 1.2em; }
.figure b { display: block; font-size: 1.6em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3em 0.6em; border-bottom: 1px solid #ddd; }
th { background: #f3f3f3; }
.state { border-radius: 4px; padding: 0.1em 0.5em; font-size: 0.9em; white-space: nowrap; }
.answered { background: #d6f5d6; } .answered_unsigned { background: #fff2c4; }
.bounced { background: #f8d0d0; } .not_sent { background: #f8d0d0; }
.no_answer { background: #eee; } .pending { background: #dde8f8; }
.flag { color: #a00; font-weight: bold; }
svg text { font-family: sans-serif; font-size: 11px; fill: #333; }
.foot { color: #777; font-size: 0.85em; margin-top: 2em; }
)css";

// The success rate of every check as a line over 0..100 %.
std::string rate_chart(const std::vector<Point>& history) {
  // The right margin leaves room for the last date under its point.
  const double w = 640, h = 240, left = 44, right = 40, top = 12, bottom = 40;
  const double pw = w - left - right, ph = h - top - bottom;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"640\" "
                    "height=\"240\" viewBox=\"0 0 640 240\" aria-labelledby=\"rate-title\">"
                    "<title id=\"rate-title\">Success rate of every check of the list</title>";
  for (int pct = 0; pct <= 100; pct += 25) {
    const double y = top + ph * (1.0 - pct / 100.0);
    svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(w - right) +
           "\" y2=\"" + num(y) + "\" stroke=\"#ddd\"/>";
    svg += "<text x=\"" + num(left - 6) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" +
           std::to_string(pct) + "%</text>";
  }
  const std::size_t n = history.size();
  std::string line;
  const std::size_t label_every = n > 12 ? (n + 11) / 12 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const Point& p = history[i];
    const double x =
        n == 1 ? left + pw / 2 : left + pw * static_cast<double>(i) / static_cast<double>(n - 1);
    const double y = top + ph * (1.0 - p.success_rate);
    line += (line.empty() ? "" : " ") + num(x) + "," + num(y);
    svg += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"4\" fill=\"" +
           std::string(p.closed ? "#2a6fdb" : "#9bb8e8") + "\"><title>Check " +
           std::to_string(p.id) + ", " + iso_date(p.started_at) + ": " +
           percent(p.success_rate) + " (" + std::to_string(p.answered) + " of " +
           std::to_string(p.members) + ")" + (p.closed ? "" : ", still open") +
           "</title></circle>";
    if (i % label_every == 0 || i + 1 == n) {
      svg += "<text x=\"" + num(x) + "\" y=\"" + num(h - bottom + 16) +
             "\" text-anchor=\"middle\">#" + std::to_string(p.id) + "</text>";
      svg += "<text x=\"" + num(x) + "\" y=\"" + num(h - bottom + 30) +
             "\" text-anchor=\"middle\">" + iso_date(p.started_at).substr(2) + "</text>";
    }
  }
  if (n > 1) {
    svg += "<polyline fill=\"none\" stroke=\"#2a6fdb\" stroke-width=\"2\" points=\"" + line + "\"/>";
  }
  svg += "</svg>";
  return svg;
}

// How long the answers to this check took, as bars per time bin.
std::string latency_chart(const Summary& s) {
  struct Bin {
    std::int64_t below;
    const char* label;
  };
  static constexpr std::array<Bin, 8> kBins = {{{60, "< 1 min"},
                                                {600, "1-10 min"},
                                                {3600, "10-60 min"},
                                                {std::int64_t{4} * 3600, "1-4 h"},
                                                {std::int64_t{12} * 3600, "4-12 h"},
                                                {86400, "12-24 h"},
                                                {std::int64_t{2} * 86400, "1-2 days"},
                                                {INT64_MAX, "> 2 days"}}};
  std::array<int, kBins.size()> counts{};
  for (const MemberResult& m : s.members) {
    if (m.state != State::answered || !m.latency_s) continue;
    for (std::size_t i = 0; i < kBins.size(); ++i) {
      if (*m.latency_s < kBins[i].below) {
        ++counts[i];
        break;
      }
    }
  }
  const int most = std::max(1, *std::max_element(counts.begin(), counts.end()));
  const double w = 640, h = 220, left = 36, top = 12, bottom = 36;
  const double ph = h - top - bottom, slot = (w - left - 8) / kBins.size();
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"640\" "
                    "height=\"220\" viewBox=\"0 0 640 220\" aria-labelledby=\"lat-title\">"
                    "<title id=\"lat-title\">Latency of the signed answers to this check</title>";
  svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(top + ph) + "\" x2=\"" + num(w - 8) +
         "\" y2=\"" + num(top + ph) + "\" stroke=\"#999\"/>";
  for (std::size_t i = 0; i < kBins.size(); ++i) {
    const double bh = ph * counts[i] / most;
    const double x = left + slot * static_cast<double>(i) + slot * 0.15;
    svg += "<rect x=\"" + num(x) + "\" y=\"" + num(top + ph - bh) + "\" width=\"" +
           num(slot * 0.7) + "\" height=\"" + num(bh) + "\" fill=\"#3c9a5f\"><title>" +
           kBins[i].label + ": " + std::to_string(counts[i]) + "</title></rect>";
    svg += "<text x=\"" + num(x + slot * 0.35) + "\" y=\"" + num(top + ph - bh - 4) +
           "\" text-anchor=\"middle\">" + std::to_string(counts[i]) + "</text>";
    svg += "<text x=\"" + num(x + slot * 0.35) + "\" y=\"" + num(h - bottom + 16) +
           "\" text-anchor=\"middle\">" + kBins[i].label + "</text>";
  }
  svg += "</svg>";
  return svg;
}

}  // namespace

std::string utc_minute(std::int64_t t) { return utc_format(t, "%Y-%m-%d %H:%M UTC"); }

std::string utc_iso(std::int64_t t) { return t == 0 ? std::string() : utc_format(t, "%Y-%m-%dT%H:%M:%SZ"); }

Result<Inputs> load_inputs(store::Database& db, const Check& check, std::time_t now) {
  auto all = checks_of(db, check.list);
  if (!all) return Unexpected(Error(all.error()));
  std::vector<MemberResult> previous;
  const Check* before = nullptr;
  for (const Check& c : *all) {
    if (c.id < check.id) before = &c;
  }
  if (before) {
    auto p = summary_with(db, *before, {}, now);
    if (!p) return Unexpected(p.error());
    previous = std::move(p->members);
  }
  return inputs_with(db, check, std::move(previous));
}

Result<Summary> load_summary(store::Database& db, const Check& check, std::time_t now) {
  auto in = load_inputs(db, check, now);
  if (!in) return Unexpected(in.error());
  return summarize(check, in->members, in->deliveries, in->previous, now);
}

Result<std::vector<Point>> load_history(store::Database& db, std::string_view list,
                                        std::time_t now) {
  auto all = checks_of(db, list);
  if (!all) return Unexpected(Error(all.error()));
  std::vector<Point> out;
  for (const Check& c : *all) {
    auto s = summary_with(db, c, {}, now);
    if (!s) return Unexpected(s.error());
    Point p;
    p.id = c.id;
    p.started_at = c.started_at;
    p.review = c.review;
    p.closed = s->closed;
    p.members = s->members.size();
    p.answered = s->answered;
    p.success_rate = s->success_rate;
    p.median_latency_s = s->median_latency_s;
    out.push_back(p);
  }
  return out;
}

std::string report_text(const Summary& s) {
  const Check& c = s.check;
  std::string out = std::string(c.review ? "Communication check and directory review " : "Communication check ") +
                    std::to_string(c.id) + " of " + c.list + " (" +
                    (c.is_open() ? (s.closed ? "deadline passed" : "open") : "closed") + ")\n";
  out += "  started   " + utc_minute(c.started_at) + " (" + c.origin + ")";
  if (c.spread_s > 0) out += ", messages spread over " + format_latency(c.spread_s);
  out += "\n  deadline  " + utc_minute(c.deadline_at) + "\n";
  if (!c.is_open()) out += "  closed    " + utc_minute(c.closed_at) + "\n";
  out += "  members   " + std::to_string(s.members.size()) + ", answered " +
         std::to_string(s.answered) + ", success rate " + percent(s.success_rate) +
         ", median latency " + (s.median_latency_s ? format_latency(*s.median_latency_s) : "-") +
         "\n";
  std::string counts;
  for (const auto& [state, n] : s.counts) {
    counts += (counts.empty() ? "" : ", ") + std::string(to_string(state)) + " " + std::to_string(n);
  }
  out += "  states    " + (counts.empty() ? std::string("-") : counts) + "\n\n";
  admin::Table t({"EMAIL", "ORGANIZATION", "STATE", "SENT (UTC)", "ANSWERED (UTC)", "LATENCY",
                  "NOTE"});
  for (const MemberResult& m : s.members) {
    t.add({m.email, m.organization.empty() ? "-" : m.organization,
           std::string(to_string(m.state)),
           m.sent_at ? utc_format(m.sent_at, "%Y-%m-%d %H:%M:%S") : "-",
           m.answered_at ? utc_format(m.answered_at, "%Y-%m-%d %H:%M:%S") : "-",
           m.latency_s ? format_latency(*m.latency_s) : "-", note_of(m)});
  }
  out += t.render();
  std::string flagged;
  for (const MemberResult& m : s.members) {
    if (m.missed_twice) flagged += (flagged.empty() ? "" : ", ") + m.email;
  }
  if (!flagged.empty()) out += "\nMissed this check and the one before: " + flagged + "\n";
  return out;
}

std::string report_html(const Summary& s, const std::vector<Point>& history,
                        std::time_t generated_at) {
  const Check& c = s.check;
  const std::string title = std::string(c.review ? "Communication check and directory review "
                                                 : "Communication check ") +
                            std::to_string(c.id) + " of " + c.list;
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  h += "<h1>" + html_escape(title) + "</h1>\n";
  h += "<p class=\"facts\">Started " + utc_minute(c.started_at) + " (" + html_escape(c.origin) +
       "), deadline " + utc_minute(c.deadline_at) + ", " +
       (c.is_open() ? (s.closed ? "deadline passed" : "still open")
                    : "closed " + utc_minute(c.closed_at)) +
       ".</p>\n";
  h += "<div class=\"figures\">";
  h += "<div class=\"figure\">success rate<b>" + percent(s.success_rate) + "</b>" +
       std::to_string(s.answered) + " of " + std::to_string(s.members.size()) +
       " members answered, signed</div>";
  h += "<div class=\"figure\">median latency<b>" +
       (s.median_latency_s ? format_latency(*s.median_latency_s) : std::string("-")) +
       "</b>from the message to the signed answer</div>";
  std::size_t flagged = 0;
  for (const MemberResult& m : s.members) flagged += m.missed_twice;
  h += "<div class=\"figure\">missed twice in a row<b>" + std::to_string(flagged) +
       "</b>members</div>";
  h += "</div>\n";
  h += "<h2>Success rate over all checks of the list</h2>\n" + rate_chart(history) + "\n";
  h += "<h2>Latency of the answers to this check</h2>\n" + latency_chart(s) + "\n";
  h += "<h2>Members</h2>\n<table>\n<thead><tr><th>Email</th><th>Organization</th><th>State</th>"
       "<th>Sent (UTC)</th><th>Answered (UTC)</th><th>Latency</th><th>Note</th></tr></thead>\n"
       "<tbody>\n";
  for (const MemberResult& m : s.members) {
    const std::string state(to_string(m.state));
    std::string note = m.reason;
    if (!m.review_result.empty()) {
      note.append(note.empty() ? "" : "; ").append("review ").append(m.review_result);
    }
    // Appended piece by piece: a chain of + makes a new string at each step.
    h.append("<tr><td>").append(html_escape(m.email));
    h.append("</td><td>").append(html_escape(m.organization));
    h.append("</td><td><span class=\"state ").append(state).append("\">").append(state);
    h.append("</span></td><td>")
        .append(m.sent_at ? utc_format(m.sent_at, "%Y-%m-%d %H:%M:%S") : "-");
    h.append("</td><td>")
        .append(m.answered_at ? utc_format(m.answered_at, "%Y-%m-%d %H:%M:%S") : "-");
    h.append("</td><td>").append(m.latency_s ? format_latency(*m.latency_s) : "-");
    h.append("</td><td>").append(html_escape(note));
    if (m.missed_twice) {
      h.append(note.empty() ? "" : " ")
          .append("<span class=\"flag\">missed 2 checks in a row</span>");
    }
    h.append("</td></tr>\n");
  }
  h += "</tbody>\n</table>\n";
  h += "<p class=\"foot\">Made by tlpmail on " + utc_minute(generated_at) +
       ". Success rate: members who answered with a reply signed by their own pinned key, out of "
       "every member asked (unsigned answers, bounces, members the list could not encrypt to and "
       "missing answers count as failures).</p>\n";
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace tlpmail::comcheck
