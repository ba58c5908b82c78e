// Spool and Transaction. The commit sequence (fsync file, close, rename into
// msg/, fsync msg/, INSERT) and the recovery rules are argued in
// docs/spool.md; keep that file in step with this one. Every failure is
// classified in exactly one place (Spool::classify), which also poisons.
#include "queue/spool.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <set>

#include "util/enum_names.h"

namespace tlpmail::queue {

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool holds_file(MessageState s) { return s == MessageState::received; }

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Error from_io(const IoError& e) { return Error::temporary("spool: " + e.message); }

}  // namespace

constexpr auto kMessageStateNames =
    std::to_array<std::string_view>({"received", "done", "corrupt"});
static_assert(util::names_cover(kMessageStateNames, MessageState::corrupt));
std::string_view to_string(MessageState s) {
  return util::name_of(kMessageStateNames, s, "corrupt");
}

std::optional<MessageState> parse_message_state(std::string_view s) {
  return util::value_of<MessageState>(kMessageStateNames, s);
}

// ---------------------------------------------------------------- Transaction

Transaction::Transaction(Spool* spool, QueueId id, std::unique_ptr<WritableFile> file)
    : spool_(spool), id_(std::move(id)), file_(std::move(file)), state_(State::open) {}

Transaction::Transaction(Transaction&& other) noexcept
    : spool_(std::exchange(other.spool_, nullptr)),
      id_(std::move(other.id_)),
      file_(std::move(other.file_)),
      sender_(std::move(other.sender_)),
      recipients_(std::move(other.recipients_)),
      size_(other.size_),
      error_(std::move(other.error_)),
      state_(std::exchange(other.state_, State::finished)) {}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    abort();
    spool_ = std::exchange(other.spool_, nullptr);
    id_ = std::move(other.id_);
    file_ = std::move(other.file_);
    sender_ = std::move(other.sender_);
    recipients_ = std::move(other.recipients_);
    size_ = other.size_;
    error_ = std::move(other.error_);
    state_ = std::exchange(other.state_, State::finished);
  }
  return *this;
}

Transaction::~Transaction() { abort(); }

std::string Transaction::temp_path() const { return spool_->tmp_dir_ + "/" + id_; }
std::string Transaction::message_path() const { return spool_->msg_dir_ + "/" + id_; }

void Transaction::discard_temp() {
  // Closing without sync and unlinking; a failure here leaves a tmp file
  // that the next open removes.
  if (file_) {
    (void)file_->close();
    file_.reset();
  }
  (void)spool_->env_.remove_file(temp_path());
}

void Transaction::abort() {
  if (state_ != State::open) return;
  state_ = State::finished;
  discard_temp();
}

Result<void, SpoolError> Transaction::write(std::string_view chunk) {
  if (state_ != State::open) {
    return Unexpected(
        SpoolError{SpoolErrorCode::unavailable, "write to finished transaction " + id_});
  }
  if (error_) return Unexpected(*error_);
  if (chunk.empty()) return {};
  if (auto r = file_->append(chunk); !r) {
    error_ = spool_->classify(r.error());
    return Unexpected(*error_);
  }
  size_ += chunk.size();
  return {};
}

Result<QueueId, SpoolError> Transaction::commit() { return commit(InTransaction()); }

Result<QueueId, SpoolError> Transaction::commit(const InTransaction& in_transaction) {
  if (state_ != State::open) {
    return Unexpected(
        SpoolError{SpoolErrorCode::unavailable, "commit of finished transaction " + id_});
  }
  state_ = State::finished;  // whatever happens below, this transaction is over
  Spool& spool = *spool_;
  auto give_up = [&](SpoolError e) -> Result<QueueId, SpoolError> {
    discard_temp();
    return Unexpected(std::move(e));
  };

  if (error_) return give_up(*error_);
  if (spool.is_poisoned()) return give_up(spool.poisoned_error());
  // The message's own bytes may have taken the filesystem below the
  // minimum since begin(): no 250 for it then.
  if (auto e = spool.space_error()) return give_up(std::move(*e));

  // 1. The bytes: flush and fsync the temp file, then close it.
  if (auto r = file_->sync(); !r) return give_up(spool.classify(r.error()));
  auto closed = file_->close();
  file_.reset();
  if (!closed) return give_up(spool.classify(closed.error()));

  const std::string msg_path = message_path();
  {
    // 2. The name: rename into msg/ and fsync msg/. Serialized so that a
    // folder fsync failing in another commit cannot go unnoticed here: if
    // it happened before our section, we see the poison at its start; if
    // after, our entry was already durable. Poison is set inside the lock.
    std::lock_guard lock(spool.commit_mu_);
    if (spool.is_poisoned()) return give_up(spool.poisoned_error());
    if (auto r = spool.env_.rename_file(temp_path(), msg_path); !r)
      return give_up(spool.classify(r.error()));
    if (auto r = spool.env_.sync_dir(spool.msg_dir_); !r) {
      SpoolError e = spool.classify(r.error());
      (void)spool.env_.remove_file(msg_path);  // no row: recovery would remove it anyway
      return Unexpected(std::move(e));
    }
  }

  // 3. The record. Until this commits, a crash leaves a msg/ file without a
  // row, which recovery removes: no 250 was given for it.
  const std::int64_t now = unix_now();
  auto inserted = spool.db_.transaction([&](store::Transaction& tx) -> store::DbResult<void> {
    auto r = tx.execute(
        "INSERT INTO spool_messages (id, received_at, sender, size, state, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, 'received', ?2)",
        {id_, now, sender_, static_cast<std::int64_t>(size_)});
    if (!r) return Unexpected(r.error());
    for (std::size_t i = 0; i < recipients_.size(); ++i) {
      auto rr = tx.execute(
          "INSERT INTO spool_recipients (message_id, position, address) VALUES (?1, ?2, ?3)",
          {id_, static_cast<std::int64_t>(i), recipients_[i]});
      if (!rr) return Unexpected(rr.error());
    }
    if (in_transaction) return in_transaction(tx, id_);
    return {};
  });
  if (!inserted) {
    SpoolError e = spool.classify(inserted.error());
    // A clean rollback leaves no row: remove the file now. After an I/O
    // error the outcome is unknown; recovery will decide from the truth.
    if (e.code != SpoolErrorCode::io_error) (void)spool.env_.remove_file(msg_path);
    return Unexpected(std::move(e));
  }
  state_ = State::committed;
  return id_;
}

// ---------------------------------------------------------------- Spool

Spool::Spool(Env& env, std::string dir, store::Database& db)
    : env_(env), dir_(std::move(dir)), tmp_dir_(dir_ + "/tmp"), msg_dir_(dir_ + "/msg"), db_(db) {}

Spool::~Spool() = default;

Result<std::unique_ptr<Spool>> Spool::open(Env& env, std::string dir, store::Database& db) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return Unexpected(Error::permanent("spool: empty folder name"));
  std::unique_ptr<Spool> spool(new Spool(env, std::move(dir), db));
  if (auto r = spool->create_layout(); !r) return Unexpected(r.error());
  if (auto r = spool->recover(); !r) return Unexpected(r.error());
  return spool;
}

Result<void> Spool::create_layout() {
  // A folder's own entry must be durable too, or a crash could take the
  // folder and every message in it away: fsync the parent after creating.
  auto top = env_.create_dir(dir_);
  if (!top) return Unexpected(from_io(top.error()));
  if (*top) {
    if (auto r = env_.sync_dir(parent_dir(dir_)); !r) return Unexpected(from_io(r.error()));
  }
  bool created = false;
  for (const std::string& sub : {tmp_dir_, msg_dir_}) {
    auto r = env_.create_dir(sub);
    if (!r) return Unexpected(from_io(r.error()));
    created = created || *r;
  }
  if (created) {
    if (auto r = env_.sync_dir(dir_); !r) return Unexpected(from_io(r.error()));
  }
  auto lock = env_.lock_file(dir_ + "/lock");
  if (!lock) {
    if (lock.error().fault == IoFault::busy) {
      return Unexpected(
          Error::temporary("spool: " + dir_ + " is in use by another process (" + dir_ + "/lock)"));
    }
    return Unexpected(from_io(lock.error()));
  }
  lock_ = std::move(lock.value());
  return {};
}

Result<void> Spool::recover() {
  // 1. tmp/: every file is a transaction that never committed.
  auto temps = env_.list_dir(tmp_dir_);
  if (!temps) return Unexpected(from_io(temps.error()));
  for (const std::string& name : *temps) {
    ids_.observe(name);
    if (auto r = env_.remove_file(tmp_dir_ + "/" + name); !r) return Unexpected(from_io(r.error()));
    ++report_.temp_files_removed;
  }

  auto max_id = db_.query("SELECT max(id) FROM spool_messages");
  if (!max_id) return Unexpected(Error(max_id.error()));
  if (!max_id->empty() && !(*max_id)[0].is_null(0)) ids_.observe((*max_id)[0].text(0));

  auto files = env_.list_dir(msg_dir_);
  if (!files) return Unexpected(from_io(files.error()));
  std::vector<std::string> ids;
  for (const std::string& name : *files) {
    if (is_valid_queue_id(name)) {
      ids.push_back(name);
      ids_.observe(name);
    } else {
      report_.ignored_files.push_back(name);
    }
  }
  if (db_.initial_schema_version() == 0 && !ids.empty()) {
    return Unexpected(
        Error::permanent("spool: " + msg_dir_ + " holds " + std::to_string(ids.size()) +
                         " messages but the database " + db_.path().string() +
                         " was created just now; restore the database or move the spool aside"));
  }

  // 2. msg/: a file is kept only if its row says received and the size matches.
  const std::int64_t now = unix_now();
  std::set<std::string> present;
  for (const std::string& id : ids) {
    const std::string path = msg_dir_ + "/" + id;
    auto rows = db_.query("SELECT state, size FROM spool_messages WHERE id = ?1", {id});
    if (!rows) return Unexpected(Error(rows.error()));
    if (rows->empty()) {
      if (auto r = env_.remove_file(path); !r) return Unexpected(from_io(r.error()));
      ++report_.orphan_files_removed;
      continue;
    }
    auto state = parse_message_state((*rows)[0].text(0));
    if (!state) {  // written by a newer program: not ours to judge
      report_.ignored_files.push_back(id);
      continue;
    }
    if (!holds_file(*state)) {
      if (auto r = env_.remove_file(path); !r) return Unexpected(from_io(r.error()));
      ++report_.finished_files_removed;
      continue;
    }
    auto size = env_.file_size(path);
    if (!size) return Unexpected(from_io(size.error()));
    if (*size != static_cast<std::uint64_t>((*rows)[0].integer(1)))
      continue;  // not "present": corrupt below
    present.insert(id);
  }

  // 3. Rows in received whose file is missing or damaged: corrupt.
  auto received = db_.query("SELECT id FROM spool_messages WHERE state = 'received' ORDER BY id");
  if (!received) return Unexpected(Error(received.error()));
  for (const store::Row& row : *received) {
    const std::string& id = row.text(0);
    if (present.count(id)) continue;
    auto r = db_.execute(
        "UPDATE spool_messages SET state = 'corrupt', updated_at = ?2 WHERE id = ?1", {id, now});
    if (!r) return Unexpected(Error(r.error()));
    report_.corrupt.push_back(id);
    (void)env_.remove_file(msg_dir_ + "/" + id);  // a damaged file, if any
  }
  report_.pending = present.size();
  return {};
}

SpoolError Spool::classify(const IoError& e) {
  SpoolErrorCode code;
  switch (e.op) {
    case IoOp::sync:
    case IoOp::sync_dir:
      // After a failed fsync the kernel may have dropped the dirty pages
      // and a later fsync may succeed anyway: nothing is trusted again.
      code = SpoolErrorCode::io_error;
      break;
    case IoOp::write:
    case IoOp::close:
    case IoOp::rename:
      code = e.fault == IoFault::no_space ? SpoolErrorCode::disk_full : SpoolErrorCode::io_error;
      break;
    default:
      // Nothing was written yet (create, lock, list, ...).
      code = e.fault == IoFault::no_space ? SpoolErrorCode::disk_full : SpoolErrorCode::unavailable;
      break;
  }
  if (code == SpoolErrorCode::io_error) poison(e.message);
  return {code, e.message};
}

SpoolError Spool::classify(const store::DbError& e) {
  switch (e.fault) {
    case store::DbFault::disk_full:
      return {SpoolErrorCode::disk_full, e.message};
    case store::DbFault::io:
    case store::DbFault::corrupt:
      // SQLite's own fsync or write failed: its WAL may have lost frames
      // that later commits would build on. Same rule as for our files.
      poison(e.message);
      return {SpoolErrorCode::io_error, e.message};
    default:
      return {SpoolErrorCode::database, e.message};
  }
}

void Spool::poison(const std::string& reason) {
  std::lock_guard lock(poison_mu_);
  if (!poisoned_.load()) {
    poison_reason_ = reason;
    poisoned_.store(true);
  }
}

std::string Spool::poison_reason() const {
  std::lock_guard lock(poison_mu_);
  return poison_reason_;
}

SpoolError Spool::poisoned_error() const {
  return {SpoolErrorCode::poisoned, "spool refuses writes until restart after: " + poison_reason()};
}

std::optional<SpoolError> Spool::space_error() {
  SpaceGuard* guard = space_.load();
  if (guard == nullptr) return std::nullopt;
  auto shortage = guard->shortage();
  if (!shortage) return std::nullopt;
  return SpoolError{SpoolErrorCode::disk_full, shortage->describe()};
}

Result<Transaction, SpoolError> Spool::begin() {
  if (is_poisoned()) return Unexpected(poisoned_error());
  if (auto e = space_error()) return Unexpected(std::move(*e));
  QueueId id = ids_.next();
  auto file = env_.new_writable_file(tmp_dir_ + "/" + id);
  if (!file) return Unexpected(classify(file.error()));
  return Transaction(this, std::move(id), std::move(file.value()));
}

Result<std::vector<SpooledMessage>> Spool::load(std::string_view where,
                                                const store::Params& params) {
  // One statement, so the list is a consistent snapshot even while other
  // threads commit.
  auto rows = db_.query(
      "SELECT m.id, m.received_at, m.sender, m.size, m.state, r.address "
      "FROM spool_messages m LEFT JOIN spool_recipients r ON r.message_id = m.id WHERE " +
          std::string(where) + " ORDER BY m.received_at, m.id, r.position",
      params);
  if (!rows) return Unexpected(Error(rows.error()));
  std::vector<SpooledMessage> out;
  for (const store::Row& row : *rows) {
    if (out.empty() || out.back().id != row.text(0)) {
      SpooledMessage m;
      m.id = row.text(0);
      m.received_at = row.integer(1);
      m.sender = row.text(2);
      m.size = static_cast<std::uint64_t>(row.integer(3));
      auto state = parse_message_state(row.text(4));
      if (!state)
        return Unexpected(
            Error::corrupt("spool: message " + m.id + " has unknown state " + row.text(4)));
      m.state = *state;
      out.push_back(std::move(m));
    }
    if (!row.is_null(5)) out.back().recipients.push_back(row.text(5));
  }
  return out;
}

Result<std::vector<SpooledMessage>> Spool::pending() { return load("m.state = 'received'", {}); }

Result<std::vector<SpooledMessage>> Spool::pending(std::size_t limit) {
  return load(
      "m.id IN (SELECT id FROM spool_messages WHERE state = 'received' "
      "ORDER BY received_at, id LIMIT ?1)",
      {static_cast<std::int64_t>(
          std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()))});
}

Result<SpooledMessage> Spool::message(const QueueId& id) {
  if (!is_valid_queue_id(id)) return Unexpected(Error::permanent("spool: not a queue id"));
  auto list = load("m.id = ?1", {id});
  if (!list) return Unexpected(list.error());
  if (list->empty()) return Unexpected(Error::permanent("spool: no message " + id));
  // cppcheck-suppress returnStdMoveLocal ; an element of a local, not a local: no elision
  return std::move(list->front());
}

Result<std::unique_ptr<SequentialFile>> Spool::open_message(const QueueId& id) {
  if (!is_valid_queue_id(id)) return Unexpected(Error::permanent("spool: not a queue id"));
  auto f = env_.new_sequential_file(msg_dir_ + "/" + id);
  if (!f) {
    if (f.error().fault == IoFault::not_found)
      return Unexpected(Error::permanent("spool: no file for message " + id));
    return Unexpected(from_io(f.error()));
  }
  // cppcheck-suppress returnStdMoveLocal ; the value inside a local Result: no elision
  return std::move(f.value());
}

Result<std::string> Spool::read_message(const QueueId& id) {
  auto f = open_message(id);
  if (!f) return Unexpected(f.error());
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    auto n = (*f)->read(buf, sizeof buf);
    if (!n) return Unexpected(from_io(n.error()));
    if (*n == 0) break;
    out.append(buf, *n);
  }
  return out;
}

Result<void> Spool::mark(const QueueId& id, MessageState state) {
  if (!is_valid_queue_id(id)) return Unexpected(Error::permanent("spool: not a queue id"));
  if (state == MessageState::received) {
    return Unexpected(Error::permanent("spool: message " + id + " cannot go back to received"));
  }
  auto changed = db_.execute("UPDATE spool_messages SET state = ?2, updated_at = ?3 WHERE id = ?1",
                             {id, std::string(to_string(state)), unix_now()});
  if (!changed) return Unexpected(Error(changed.error()));
  if (*changed == 0) return Unexpected(Error::permanent("spool: no message " + id));
  return remove_finished_file(id, state);
}

store::DbResult<void> Spool::mark_in_transaction(store::Transaction& tx, const QueueId& id,
                                                 MessageState state) {
  auto refuse = [&](std::string message) {
    store::DbError e;
    e.kind = ErrorClass::permanent;
    e.message = std::move(message);
    e.fault = store::DbFault::constraint;
    return Unexpected(std::move(e));
  };
  if (!is_valid_queue_id(id)) return refuse("spool: not a queue id");
  if (state == MessageState::received) {
    return refuse("spool: message " + id + " cannot go back to received");
  }
  auto changed = tx.execute(
      "UPDATE spool_messages SET state = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'received'",
      {id, std::string(to_string(state)), unix_now()});
  if (!changed) return Unexpected(changed.error());
  if (*changed == 0) return refuse("spool: no received message " + id);
  return {};
}

Result<void> Spool::remove_finished_file(const QueueId& id, MessageState state) {
  if (!is_valid_queue_id(id)) return Unexpected(Error::permanent("spool: not a queue id"));
  if (!holds_file(state)) {
    // The row no longer claims the file; if this unlink is lost, recovery
    // removes the file (finished_files_removed).
    auto r = env_.remove_file(msg_dir_ + "/" + id);
    if (!r && r.error().fault != IoFault::not_found) return Unexpected(from_io(r.error()));
  }
  return {};
}

Result<Spool::Backlog> Spool::backlog(store::Database& db) {
  auto rows = db.query(
      "SELECT COUNT(*), COALESCE(MIN(received_at), 0) FROM spool_messages"
      " WHERE state = 'received'");
  if (!rows) return Unexpected(Error(rows.error()));
  return Backlog{rows->at(0).integer(0), rows->at(0).integer(1)};
}

}  // namespace tlpmail::queue
