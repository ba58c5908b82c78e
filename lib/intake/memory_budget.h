// The intake's global budget of message bytes held in memory ([server]
// max_message_memory, docs/smtp.md "Memory"), and MessageBuffer, the one
// place a message's bytes are kept for the verifier: it charges the budget
// before it touches memory and gives it back when it is cleared. The
// budget only counts; what a message does when it is refused (452 4.3.1,
// its bytes discarded) is intake::Message's business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

namespace tlpmail::intake {

// Thread safety: every method may be called from any thread.
class MemoryBudget {
 public:
  // REQUIRES: limit >= 1.
  explicit MemoryBudget(std::uint64_t limit) : limit_(limit) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // A reload: charges from now on are judged against `limit`; what is
  // held stays held (it is released as its messages end).
  void set_limit(std::uint64_t limit);
  std::uint64_t limit() const;
  std::uint64_t in_use() const;

  // Adds `n` bytes to what a holder already holds (`held`, part of
  // in_use()) when the total stays within the limit, or when that holder
  // is the only one holding anything: one message alone always fits, so
  // a message of max_message_size (<= the limit, config check) always
  // gets through once the others are done. All or nothing.
  bool try_charge(std::uint64_t n, std::uint64_t held);
  // REQUIRES: n <= what was charged and not yet released.
  void release(std::uint64_t n);

 private:
  mutable std::mutex mu_;
  std::uint64_t limit_;
  std::uint64_t in_use_ = 0;
};

// A message's bytes in one anonymous memory mapping that grows in place
// (mremap, no copy): a std::string doubles its capacity and copies, so it
// holds up to three times the message while it grows, and freed heap
// blocks often stay in the process. Here the memory in use is the bytes
// appended (rounded up to whole pages), it is charged to the budget in
// steps of kChargeStep before it is touched (plus a fixed `overhead`),
// and clear() returns it to the system and the budget at once.
// Thread safety: none (intake::Message holds its lock around it).
class MessageBuffer {
 public:
  static constexpr std::uint64_t kChargeStep = 1 << 20;

  // `budget` null: nothing is charged, only the mapping's limits apply.
  explicit MessageBuffer(std::shared_ptr<MemoryBudget> budget);
  ~MessageBuffer();
  MessageBuffer(const MessageBuffer&) = delete;
  MessageBuffer& operator=(const MessageBuffer&) = delete;

  // Charges `overhead` plus room for `bytes` (rounded up to kChargeStep)
  // at once, e.g. the declared SIZE= at the start of DATA, and maps that
  // room. False when the budget refuses or the mapping fails: nothing is
  // then charged or held. Call before the first append().
  bool reserve(std::uint64_t bytes, std::uint64_t overhead = 0);
  // Appends `bytes`, charging the next steps first. False when the budget
  // refuses (or the system has no memory): `bytes` is not kept, the
  // buffer keeps what it had.
  bool append(std::string_view bytes);

  std::string_view view() const;
  std::uint64_t size() const { return size_; }
  std::uint64_t charged() const { return charged_; }
  // Unmaps and releases every charge (overhead included). The buffer may
  // be used again.
  void clear();

 private:
  bool charge(std::uint64_t n);
  bool map_at_least(std::uint64_t bytes);

  std::shared_ptr<MemoryBudget> budget_;
  char* data_ = nullptr;
  std::uint64_t mapped_ = 0;   // length of the mapping (address space, not memory)
  std::uint64_t size_ = 0;     // bytes appended
  std::uint64_t charged_ = 0;  // charged to the budget
  std::uint64_t room_ = 0;     // bytes the charge covers (charged_ minus the overhead)
};

}  // namespace tlpmail::intake
