// Admission of new connections and the replies of the connection limits
// (see admission.h).
#include "net/admission.h"

#include <map>
#include <optional>

namespace tlpmail::net {
namespace {

// The session that gives its slot up: waiting, without progress for at
// least evict_after; of the client with the most sessions (when counts
// are given), then the longest without progress, then the oldest serial.
std::optional<std::uint64_t> pick_victim(
    const AdmissionLimits& limits, const std::vector<OpenSession>& open,
    std::optional<std::string_view> only_client,
    const std::map<std::string, std::size_t, std::less<>>* counts, Clock::time_point now) {
  const OpenSession* best = nullptr;
  std::size_t best_count = 0;
  for (const auto& s : open) {
    if (!s.waiting || now - s.last_progress < limits.evict_after) continue;
    if (only_client && s.client != *only_client) continue;
    std::size_t count = counts ? counts->find(s.client)->second : 0;
    bool better = best == nullptr || count > best_count ||
                  (count == best_count &&
                   (s.last_progress < best->last_progress ||
                    (s.last_progress == best->last_progress && s.serial < best->serial)));
    if (better) {
      best = &s;
      best_count = count;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->serial;
}

}  // namespace

Admission decide_admission(const AdmissionLimits& limits, std::string_view client,
                           const std::vector<OpenSession>& open, Clock::time_point now) {
  std::map<std::string, std::size_t, std::less<>> counts;
  for (const auto& s : open) ++counts[s.client];
  auto mine = counts.find(client);
  const std::size_t own = mine == counts.end() ? 0 : mine->second;

  Admission out;
  if (own >= limits.max_per_client) {
    if (auto v = pick_victim(limits, open, client, nullptr, now)) {
      out.kind = Admission::Kind::evict;
      out.victim = *v;
      out.for_client_limit = true;
    } else {
      out.kind = Admission::Kind::client_busy;
    }
    return out;
  }
  if (open.size() >= limits.max_connections) {
    if (auto v = pick_victim(limits, open, std::nullopt, &counts, now)) {
      out.kind = Admission::Kind::evict;
      out.victim = *v;
    } else {
      out.kind = Admission::Kind::busy;
    }
  }
  return out;
}

std::string too_many_connections_from_reply(std::string_view hostname, std::string_view client,
                                            std::size_t limit) {
  return smtp::Reply{421, "4.7.0",
                     std::string(hostname) + " Error: too many connections from " +
                         std::string(client) + " (limit " + std::to_string(limit) + ")"}
      .to_wire();
}

smtp::Reply idle_connection_closed_reply(std::string_view hostname) {
  return {421, "4.3.2", std::string(hostname) + " Error: server busy, closing idle connection"};
}

smtp::Reply session_time_limit_reply(std::string_view hostname) {
  return {421, "4.4.2", std::string(hostname) + " Error: session time limit exceeded"};
}

}  // namespace tlpmail::net
