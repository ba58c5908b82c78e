// queue::waiting_in_spool: the envelope recipients of the messages still
// waiting in the spool (state received), read from a database that may be
// opened read-only, so that tlpmailctl queue can tell list postings (not
// yet fanned out) from mail to a list's -request and -bounces addresses.
// Reads only; writing and recovering the spool is spool.h's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "queue/queue_id.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::queue {

struct WaitingMessage {
  QueueId id;
  std::int64_t received_at = 0;
  std::vector<std::string> recipients;  // in RCPT order
};

// The oldest `max` received messages with their recipients, oldest first.
// Errors: database faults.
Result<std::vector<WaitingMessage>> waiting_in_spool(store::Database& db, std::size_t max);

}  // namespace tlpmail::queue
