// The intake stage as the SMTP/LMTP server sees it: an interface the
// daemon injects (lib/intake implements it). The server moves bytes and
// replies; everything about mail — which recipients exist, what happens to
// a message, which reply DATA gets and what is logged about it — is the
// intake's. Also the byte batch that makes few, large hand-overs of
// message data. No sockets here and nothing from the later stages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "smtp/reply.h"
#include "smtp/session.h"

namespace tlpmail::net {

// What the intake decided at the end of DATA.
struct DataOutcome {
  smtp::Reply reply;         // for every expected DATA result (one per LMTP recipient)
  bool new_message = false;  // a new message was committed to the spool
};

// One message on its way in. Created on the io thread when DATA starts;
// write(), finish() and abort() run on the worker pool, one at a time (the
// connection waits for each, or gives up on it), and must own or share
// whatever they touch: after a time-out nobody waits for them.
class MessageIntake {
 public:
  virtual ~MessageIntake() = default;
  // Takes the next bytes of the message (dot-unstuffed, CRLF as sent).
  // False when the intake can no longer take them (the reply says why).
  virtual bool write(std::string bytes) = 0;
  // The last bytes and the message's size: decides, commits or refuses,
  // logs what it decided and returns the reply.
  virtual DataOutcome finish(std::string bytes, std::uint64_t size) = 0;
  // The client went away or the session aborted the message: nothing is kept.
  virtual void abort() = 0;
  // True once the intake has decided not to keep this message (its reply
  // at finish() is already decided): the server drops the bytes that
  // still come instead of handing them over. Any thread; cheap.
  virtual bool is_discarding() const { return false; }
};

// The intake for new sessions. Immutable and shared between sessions;
// every method may be called from any thread.
class Intake {
 public:
  virtual ~Intake() = default;
  // The session's options (host name, protocol, size limit).
  virtual smtp::SessionOptions session_options(bool starttls_available) const = 0;
  // Who may be a recipient, given the recipients accepted before in the
  // same transaction.
  virtual smtp::Session::TransactionRcptResolver recipient_resolver() const = 0;
  // A new message from `envelope` on session `session_id`.
  virtual std::shared_ptr<MessageIntake> begin(const std::string& session_id,
                                               const smtp::Envelope& envelope) const = 0;
  // The outcome when the worker side did not answer in time or failed
  // (`detail` says how, for the log); logs it. Runs on the io thread.
  virtual DataOutcome unavailable(const std::string& session_id, const smtp::Envelope& envelope,
                                  std::string detail, std::uint64_t size) const = 0;
};

// Collects DataChunk bytes so that the intake gets few, large writes
// (each one a hop to the worker pool). Memory: at most limit() bytes
// plus one chunk (a session chunk is at most one read's worth).
class DataBatch {
 public:
  static constexpr std::size_t kDefaultLimit = std::size_t{256} * 1024;
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
