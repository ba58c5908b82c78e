// Retry decisions for copies (see retry.h).
#include "delivery/retry.h"

#include <algorithm>

namespace tlpmail::delivery {
namespace {

std::string reply_text(const smtp::Reply& r) {
  std::string out = std::to_string(r.code);
  if (!r.enhanced.empty()) out += " " + r.enhanced;
  if (!r.text.empty()) out += " " + r.text;
  return out;
}

}  // namespace

std::chrono::seconds backoff(const RetryPolicy& p, int attempts) {
  std::chrono::seconds d = p.first_delay;
  for (int i = 1; i < attempts && d < p.max_delay; ++i) d *= 2;
  return std::min(d, p.max_delay);
}

std::string describe(const smtp::TransactionResult& result) {
  std::string text = reply_text(result.final);
  // A reply made up locally usually quotes its reason already.
  if (!result.local_reason.empty() && text.find(result.local_reason) == std::string::npos) {
    text += " (" + result.local_reason + ")";
  }
  // Per-recipient refusals say more than the final reply when they decided.
  for (const smtp::RecipientResult& r : result.recipients) {
    if (r.outcome != smtp::Outcome::delivered && !(r.reply == result.final)) {
      text = reply_text(r.reply);
      break;
    }
  }
  return text;
}

queue::CopyResult decide(const RetryPolicy& p, std::int64_t copy_id,
                         const smtp::TransactionResult& result, int attempts,
                         std::int64_t queued_at, std::int64_t now) {
  queue::CopyResult out;
  out.id = copy_id;
  out.reply = describe(result);
  // A copy has one recipient: its own result decides; the transaction's
  // when there is none.
  smtp::Outcome outcome = result.outcome;
  if (result.recipients.size() == 1) outcome = result.recipients.front().outcome;
  switch (outcome) {
    case smtp::Outcome::delivered:
      out.state = queue::CopyState::delivered;
      return out;
    case smtp::Outcome::failed:
      out.state = queue::CopyState::failed;
      return out;
    case smtp::Outcome::deferred:
      break;
  }
  const std::int64_t give_up = queued_at + p.give_up_after.count();
  if (now >= give_up) {
    out.state = queue::CopyState::failed;
    const std::int64_t days = (now - queued_at) / 86400;
    out.reply = "gave up after " + std::to_string(attempts) + " attempts in " +
                std::to_string(days) + " days: " + out.reply;
    return out;
  }
  out.state = queue::CopyState::deferred;
  out.next_attempt_at = std::min(now + backoff(p, attempts).count(), give_up);
  return out;
}

}  // namespace tlpmail::delivery
