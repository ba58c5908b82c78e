// The glue between the SMTP session (lib/smtp), the configuration and the
// spool's verdict, kept free of sockets so it is unit-tested: session
// options from a Config, the RCPT resolver (list addresses only), the
// DATA result from a commit (one reply for SMTP, one per recipient for
// LMTP) and the batching of message bytes before they go to the spool.
// No I/O and no threads here; connection.cc does those.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "queue/queue_id.h"
#include "queue/spool_error.h"
#include "smtp/reply.h"
#include "smtp/session.h"
#include "util/result.h"

namespace tlpmail::net {

smtp::Protocol to_smtp_protocol(config::Protocol p);

// hostname, protocol and max_message_size from [server]; the other limits
// keep the session's defaults. starttls_available: a TLS context exists.
smtp::SessionOptions session_options(const config::Config& config, bool starttls_available);

// Accepts exactly the addresses Directory::match_list_address() matches
// (a list's posting, -request and -bounces addresses, "+tag" allowed);
// everything else gets smtp::unknown_recipient_reply (550 5.1.1). The
// resolver keeps `config` alive; it may be called from any thread.
smtp::Session::RcptResolver list_resolver(std::shared_ptr<const config::Config> config);

// The resolver tlpmaild uses: list_resolver() plus the one-list rule. A
// transaction holds either the posting address of ONE list (repeated as
// the client likes) or only -request/-bounces addresses; a recipient that
// breaks this gets one_list_reply() (452 4.5.3: the MTA sends it again in
// a transaction of its own), so that one message gets one verdict.
smtp::Session::TransactionRcptResolver transaction_resolver(
    std::shared_ptr<const config::Config> config);
// "452 4.5.3 one list per message, please send again for this recipient".
smtp::Reply one_list_reply();

// "250 2.0.0 Ok: queued as <id>".
smtp::Reply queued_reply(const queue::QueueId& id);
// queue::to_smtp_reply() as an smtp::Reply (the single mapping of spool
// failures to 4xx replies lives in lib/queue).
smtp::Reply spool_failure_reply(const queue::SpoolError& e);

// The result for complete_data(): `count` copies of the commit's reply
// (the session expects 1 in SMTP, one per accepted recipient in LMTP;
// until per-recipient processing exists they all share the commit's
// outcome). count 0 gives an empty result.
smtp::DataResult data_result(const Result<queue::QueueId, queue::SpoolError>& commit,
                             std::size_t count);

// Collects DataChunk bytes so that the spool gets few, large writes
// (each one a hop to the worker pool). Memory: at most limit() bytes
// plus one chunk (a session chunk is at most one read's worth).
class DataBatch {
 public:
  static constexpr std::size_t kDefaultLimit = 256 * 1024;
  explicit DataBatch(std::size_t limit = kDefaultLimit) : limit_(limit) {}

  void append(std::string_view bytes) { buf_.append(bytes); }
  // True once limit() bytes or more are collected: time to write them.
  bool is_full() const { return buf_.size() >= limit_; }
  bool is_empty() const { return buf_.empty(); }
  std::size_t size() const { return buf_.size(); }
  std::size_t limit() const { return limit_; }
  // Hands the collected bytes over and starts empty.
  std::string take();
  void clear() { std::string().swap(buf_); }

 private:
  std::size_t limit_;
  std::string buf_;
};

}  // namespace tlpmail::net
