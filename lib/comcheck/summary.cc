// summarize() and its small helpers (see summary.h).
#include "comcheck/summary.h"

#include <algorithm>
#include <cmath>

#include "util/text.h"

namespace tlpmail::comcheck {

State effective_state(const Member& m, const Delivery* delivery, std::int64_t deadline_at,
                      std::time_t now) {
  switch (m.state) {
    case State::answered:
    case State::answered_unsigned:
    case State::not_sent:
    case State::bounced:
      return m.state;
    case State::pending:
    case State::no_answer:
      break;
  }
  if (delivery && delivery->bounced) return State::bounced;
  if (m.state == State::no_answer || static_cast<std::int64_t>(now) >= deadline_at) {
    return State::no_answer;
  }
  return State::pending;
}

bool is_miss(State s) { return s != State::answered && s != State::pending; }

std::optional<std::int64_t> median(std::vector<std::int64_t> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  if (n % 2 == 1) return values[n / 2];
  return (values[n / 2 - 1] + values[n / 2]) / 2;
}

double success_rate(std::size_t answered, std::size_t total) {
  if (total == 0) return 0;
  return std::round(static_cast<double>(answered) / static_cast<double>(total) * 10000.0) /
         10000.0;
}

std::string format_latency(std::int64_t s) {
  if (s < 0) s = 0;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
}

std::string review_state(const std::optional<Review>& review, const std::optional<ReviewAsk>& ask,
                         std::int64_t interval, std::time_t now) {
  if (ask && (!review || review->reviewed_at < ask->started_at)) {
    return ask->closed ? "overdue" : "pending";
  }
  if (review) {
    const bool old = interval > 0 && static_cast<std::int64_t>(now) - review->reviewed_at > interval;
    return old ? "overdue" : "confirmed";
  }
  return "never";
}

Summary summarize(const Check& check, const std::vector<Member>& members,
                  const std::map<std::string, Delivery>& deliveries,
                  const std::vector<MemberResult>& previous, std::time_t now) {
  Summary out;
  out.check = check;
  out.closed = !check.is_open() || static_cast<std::int64_t>(now) >= check.deadline_at;
  std::map<std::string, State> before;
  for (const MemberResult& p : previous) before[ascii_lower(p.email)] = p.state;
  std::vector<std::int64_t> latencies;
  for (const Member& m : members) {
    MemberResult r;
    r.email = m.email;
    r.organization = m.organization;
    const std::string key = ascii_lower(m.email);
    auto d = deliveries.find(key);
    const Delivery* delivery = d == deliveries.end() ? nullptr : &d->second;
    r.state = effective_state(m, delivery, check.deadline_at, now);
    r.reason = m.reason;
    if (r.state == State::bounced && r.reason.empty() && delivery) r.reason = delivery->reply;
    r.sent_at = m.sent_at;
    r.answered_at = m.answered_at;
    if ((r.state == State::answered || r.state == State::answered_unsigned) && m.sent_at > 0 &&
        m.answered_at > 0) {
      r.latency_s = std::max<std::int64_t>(0, m.answered_at - m.sent_at);
    }
    if (r.state == State::answered && r.latency_s) latencies.push_back(*r.latency_s);
    auto b = before.find(key);
    r.missed_twice = is_miss(r.state) && b != before.end() && is_miss(b->second);
    r.review_result = m.review_result;
    out.answered += r.state == State::answered;
    ++out.counts[r.state];
    out.members.push_back(std::move(r));
  }
  out.success_rate = success_rate(out.answered, out.members.size());
  out.median_latency_s = median(std::move(latencies));
  return out;
}

}  // namespace tlpmail::comcheck
