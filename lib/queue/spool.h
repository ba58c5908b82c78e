// queue::Spool: the durable intake spool. A Transaction (begin, set_sender,
// add_recipient, write..., commit or abort) streams a message into
// spool/tmp/<id>; commit() makes it durable (fsync file, rename to
// spool/msg/<id>, fsync folder, INSERT in tlpmail.db) and only then returns
// the queue id that DATA's 250 may announce. At open, half-written files are
// removed and committed messages come back as pending(). See docs/spool.md.
// It does not parse or process messages; the pipeline does, then mark()s them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queue/env.h"
#include "queue/queue_id.h"
#include "queue/space_guard.h"
#include "queue/spool_error.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::queue {

// Where a committed message stands. Only `received` messages have a file
// in spool/msg/; marking one done or corrupt removes its file. New states
// for the pipeline are new enumerators here (the column has no CHECK).
enum class MessageState {
  received,  // committed, waiting to be processed (until the verification
             // pipeline lands, messages stay here as received)
  done,      // processed; its file is gone, the row stays as history
  corrupt,   // its file was missing or damaged at recovery
};

std::string_view to_string(MessageState s);
std::optional<MessageState> parse_message_state(std::string_view s);

struct SpooledMessage {
  QueueId id;
  std::int64_t received_at = 0;  // Unix time, seconds
  std::string sender;            // MAIL FROM reverse-path, "" for <>
  std::vector<std::string> recipients;
  std::uint64_t size = 0;  // bytes of the message file
  MessageState state = MessageState::received;
};

// What Spool::open found and did. The caller logs it: every field that is
// not zero/empty deserves a line, `corrupt` a warning.
struct RecoveryReport {
  std::size_t temp_files_removed = 0;  // tmp/*: transactions that never committed
  std::size_t orphan_files_removed =
      0;  // msg/<id> without a row: crashed before the INSERT, no 250 given
  std::size_t finished_files_removed = 0;  // msg/<id> of a done/corrupt row: crashed inside mark()
  std::vector<QueueId>
      corrupt;  // received rows whose file was missing or of the wrong size; now corrupt
  std::vector<std::string> ignored_files;  // msg/ names that are not queue ids, or whose row has an
                                           // unknown state; left alone
  std::size_t pending = 0;                 // received messages waiting after recovery
};

class Spool;

// One message on its way in. Created by Spool::begin(); nothing of it is
// persistent before commit() succeeds. Move-only; not thread-safe (one
// SMTP session drives it), but different transactions may run in
// different threads at once. REQUIRES: the Spool outlives it.
class Transaction {
 public:
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();  // abort()s if neither committed nor aborted

  const QueueId& id() const { return id_; }
  std::uint64_t size() const { return size_; }

  void set_sender(std::string reverse_path) { sender_ = std::move(reverse_path); }
  void add_recipient(std::string address) { recipients_.push_back(std::move(address)); }

  // Appends a chunk of the message (streamed to the temp file through a
  // bounded buffer). After the first failure every later write and the
  // commit return that same error, so a caller streaming DATA may ignore
  // write() results and rely on commit().
  Result<void, SpoolError> write(std::string_view chunk);

  // Makes the message durable and records it; on success it is pending()
  // and the id may be announced with 250. On any error nothing of it will
  // be processed (leftovers are removed now or at the next open) and the
  // client must get the 4xx of to_smtp_reply(). A failed write/fsync/
  // close/rename poisons the spool (io_error); later commits get poisoned.
  // The transaction is finished either way.
  Result<QueueId, SpoolError> commit();
  // The same, and `in_transaction` runs inside the SQLite transaction that
  // records the message (after its rows are inserted), given the queue id:
  // its writes and the message's record commit together or not at all.
  // If it returns an error, everything rolls back, the message is removed
  // and commit() fails with SpoolErrorCode::database (or disk_full/io_error
  // by the DbError's fault) carrying that error's message; the caller
  // tells its own refusals apart by what its callback saw.
  // REQUIRES: in_transaction uses only the store::Transaction it is given.
  using InTransaction =
      std::function<store::DbResult<void>(store::Transaction& tx, const QueueId& id)>;
  Result<QueueId, SpoolError> commit(const InTransaction& in_transaction);

  // Drops the message and its temp file. Safe to call more than once.
  void abort();

 private:
  friend class Spool;
  enum class State { open, committed, finished };
  Transaction(Spool* spool, QueueId id, std::unique_ptr<WritableFile> file);
  void discard_temp();
  std::string temp_path() const;
  std::string message_path() const;

  Spool* spool_ = nullptr;
  QueueId id_;
  std::unique_ptr<WritableFile> file_;
  std::string sender_;
  std::vector<std::string> recipients_;
  std::uint64_t size_ = 0;
  std::optional<SpoolError> error_;  // first write failure
  State state_ = State::finished;
};

// Thread-safe: every method may be called from any thread; commits run in
// parallel up to the rename, whose folder fsync is serialized.
class Spool {
 public:
  // Opens the spool in `dir` (created 0700 with tmp/ and msg/ inside, files
  // 0600) with `db` (migrated by store::Database::open), takes dir/lock so
  // no second process uses it, and recovers (see RecoveryReport). Refuses a
  // database that was created just now while msg/ holds messages (it would
  // delete them as orphans): restore the database or move the spool aside.
  // REQUIRES: env and db outlive the Spool; one Spool per folder.
  static Result<std::unique_ptr<Spool>> open(Env& env, std::string dir, store::Database& db);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  const RecoveryReport& recovery_report() const { return report_; }
  const std::string& dir() const { return dir_; }

  // Starts a transaction (creates spool/tmp/<id>). Errors: poisoned,
  // disk_full (also while the space guard reports a shortage), unavailable
  // (e.g. out of file descriptors).
  Result<Transaction, SpoolError> begin();

  // From now on begin() and commit() refuse with disk_full while `guard`
  // reports a shortage (the state filesystem nearly full): nothing new is
  // taken, so that what is left serves delivery. Null: no check.
  // REQUIRES: guard outlives the Spool.
  void set_space_guard(SpaceGuard* guard) { space_.store(guard); }

  // Committed messages in state received, oldest first.
  Result<std::vector<SpooledMessage>> pending();
  // The oldest `limit` of them (a long backlog is not read whole).
  Result<std::vector<SpooledMessage>> pending(std::size_t limit);
  // One message's record, in any state. Unknown id: Error permanent.
  Result<SpooledMessage> message(const QueueId& id);
  // The bytes of a received message, exactly as written.
  Result<std::string> read_message(const QueueId& id);
  // The same as a stream, for large messages.
  Result<std::unique_ptr<SequentialFile>> open_message(const QueueId& id);
  // Moves a message to `state` (done or corrupt: its file is removed).
  // A message never goes back to received. Unknown id: Error permanent.
  Result<void> mark(const QueueId& id, MessageState state);
  // mark() in two steps for a caller that records the outcome of a message
  // in its own transaction (the fan-out writes the copies and marks the
  // message done together): mark_in_transaction() moves a *received*
  // message to `state` inside `tx` (errors: constraint when it is not a
  // received message, database faults); after the commit,
  // remove_finished_file() drops its file (a lost unlink is redone by
  // recovery).
  static store::DbResult<void> mark_in_transaction(store::Transaction& tx, const QueueId& id,
                                                   MessageState state);
  Result<void> remove_finished_file(const QueueId& id, MessageState state);

  // Messages received and not yet fanned out (state received), and when
  // the oldest of them arrived (0 when none), read from `db` (which may be
  // opened read-only: tlpmailctl). Errors: database faults.
  struct Backlog {
    std::int64_t messages = 0;
    std::int64_t oldest_received_at = 0;
  };
  static Result<Backlog> backlog(store::Database& db);

  // True after an I/O failure that may have lost data; begin()/commit()
  // then fail with poisoned until the process opens the spool anew.
  bool is_poisoned() const { return poisoned_.load(); }
  std::string poison_reason() const;

 private:
  friend class Transaction;
  Spool(Env& env, std::string dir, store::Database& db);
  Result<void> create_layout();
  Result<void> recover();
  // Turn a failure into a SpoolError; poisons the spool when data may be lost.
  SpoolError classify(const IoError& e);
  SpoolError classify(const store::DbError& e);
  SpoolError poisoned_error() const;
  std::optional<SpoolError> space_error();
  void poison(const std::string& reason);
  Result<std::vector<SpooledMessage>> load(std::string_view where, const store::Params& params);

  Env& env_;
  std::string dir_, tmp_dir_, msg_dir_;
  store::Database& db_;
  std::unique_ptr<FileLock> lock_;
  QueueIdGenerator ids_;
  RecoveryReport report_;
  std::mutex commit_mu_;  // rename + folder fsync + poison check
  std::atomic<bool> poisoned_{false};
  std::atomic<SpaceGuard*> space_{nullptr};
  mutable std::mutex poison_mu_;
  std::string poison_reason_;
};

}  // namespace tlpmail::queue
