// delivery::retry: the one place that decides what the outcome of one
// delivery attempt means for a copy: delivered, deferred until when, or
// failed (a 5xx, or still deferred after the retry period). Pure functions
// of the relay's answer, the attempt count and the clock; no I/O.
// Schedule (docs/delivery.md): 1 min after the first failure, doubling, at
// most 1 h between attempts, for up to 5 days after the copy was queued.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "queue/outbox.h"
#include "smtp/client.h"

namespace tlpmail::delivery {

struct RetryPolicy {
  std::chrono::seconds first_delay = std::chrono::minutes(1);
  std::chrono::seconds max_delay = std::chrono::hours(1);
  std::chrono::seconds give_up_after = std::chrono::hours(24 * 5);
};

// The delay before the next attempt after `attempts` failed attempts
// (attempts >= 1): first_delay * 2^(attempts-1), at most max_delay.
std::chrono::seconds backoff(const RetryPolicy& p, int attempts);

// What one attempt of a copy amounts to. `attempts` counts this attempt
// (1 for the first). A deferral whose next attempt would come after
// queued_at + give_up_after becomes failed, with the reply prefixed by
// "gave up after N attempts in D days: ". The next attempt is never later
// than the give-up time, so a copy gets its last try right at the end.
queue::CopyResult decide(const RetryPolicy& p, std::int64_t copy_id,
                         const smtp::TransactionResult& result, int attempts,
                         std::int64_t queued_at, std::int64_t now);

// "451 4.3.0 text" (the reply), or the local reason when the session made
// the reply up (connection lost, relay down): what the log, the outbox and
// the admins' report show.
std::string describe(const smtp::TransactionResult& result);

}  // namespace tlpmail::delivery
