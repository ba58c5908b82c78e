// The memory budget and the message buffer that charges it (see
// memory_budget.h). Linux: anonymous mappings, grown with mremap.
#include "intake/memory_budget.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

namespace tlpmail::intake {
namespace {

std::uint64_t round_up(std::uint64_t n, std::uint64_t step) { return (n + step - 1) / step * step; }

}  // namespace

void MemoryBudget::set_limit(std::uint64_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  limit_ = limit;
}

std::uint64_t MemoryBudget::limit() const {
  std::lock_guard<std::mutex> lock(mu_);
  return limit_;
}

std::uint64_t MemoryBudget::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

bool MemoryBudget::try_charge(std::uint64_t n, std::uint64_t held) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool alone = in_use_ == held;
  if (!alone && (in_use_ > limit_ || n > limit_ - in_use_)) return false;
  in_use_ += n;
  return true;
}

void MemoryBudget::release(std::uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  in_use_ -= std::min(n, in_use_);
}

MessageBuffer::MessageBuffer(std::shared_ptr<MemoryBudget> budget) : budget_(std::move(budget)) {}

MessageBuffer::~MessageBuffer() { clear(); }

bool MessageBuffer::charge(std::uint64_t n) {
  if (n == 0) return true;
  if (budget_ && !budget_->try_charge(n, charged_)) return false;
  charged_ += n;
  return true;
}

bool MessageBuffer::map_at_least(std::uint64_t bytes) {
  if (bytes <= mapped_) return true;
  // Address space only (MAP_NORESERVE): pages become memory when touched,
  // so growing the mapping generously costs nothing and saves mremaps.
  const std::uint64_t length = std::max(round_up(bytes, kChargeStep), mapped_ * 2);
  void* p = data_ == nullptr ? ::mmap(nullptr, length, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                             : ::mremap(data_, mapped_, length, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) return false;
  data_ = static_cast<char*>(p);
  mapped_ = length;
  return true;
}

bool MessageBuffer::reserve(std::uint64_t bytes, std::uint64_t overhead) {
  const std::uint64_t room = round_up(bytes, kChargeStep);
  if (!charge(overhead + room)) return false;
  room_ += room;
  if (!map_at_least(bytes)) {
    clear();
    return false;
  }
  return true;
}

bool MessageBuffer::append(std::string_view bytes) {
  if (bytes.empty()) return true;
  const std::uint64_t need = size_ + bytes.size();
  std::uint64_t extra = 0;
  if (need > room_) {
    extra = round_up(need, kChargeStep) - room_;
    if (!charge(extra)) return false;
    room_ += extra;
  }
  if (!map_at_least(need)) {
    room_ -= extra;
    charged_ -= extra;
    if (budget_) budget_->release(extra);
    return false;
  }
  std::memcpy(data_ + size_, bytes.data(), bytes.size());
  size_ = need;
  return true;
}

std::string_view MessageBuffer::view() const {
  return data_ == nullptr ? std::string_view() : std::string_view(data_, size_);
}

void MessageBuffer::clear() {
  if (data_ != nullptr) ::munmap(data_, mapped_);
  if (budget_ && charged_ > 0) budget_->release(charged_);
  data_ = nullptr;
  mapped_ = size_ = charged_ = room_ = 0;
}

}  // namespace tlpmail::intake
