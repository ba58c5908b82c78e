// openpgp::Handoff (handoff.h): a small queue of decryptions under one lock.
#include "openpgp/handoff.h"

#include <algorithm>
#include <utility>

#include "util/wiped.h"

namespace tlpmail::openpgp {

std::shared_ptr<Decryption> shared_decryption(Decryption d) {
  return std::shared_ptr<Decryption>(new Decryption(std::move(d)), [](Decryption* p) {
    wipe(p->plaintext);
    delete p;
  });
}

Handoff::~Handoff() {
  std::lock_guard lock(mu_);
  while (!entries_.empty()) drop_oldest_locked();
}

void Handoff::drop_oldest_locked() {
  Entry& e = entries_.front();
  bytes_ -= e.d.plaintext.size();
  wipe(e.d.plaintext);
  entries_.pop_front();
}

void Handoff::put(const std::string& id, Decryption& d, std::time_t now) {
  if (d.status != DecryptStatus::decrypted) return;
  const std::size_t size = d.plaintext.size();
  if (id.empty() || size > kLargest || size > limits_.max_bytes || limits_.max_messages == 0) {
    wipe(d.plaintext);
    return;
  }
  Entry e;
  e.id = id;
  e.d = std::exchange(d, Decryption{});  // nothing of the content left in `d`
  e.at = now;
  std::lock_guard lock(mu_);
  // One entry per id: a second put (an exact retry spooled again under the
  // same id cannot happen, but be safe) replaces the first.
  auto same = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& x) { return x.id == id; });
  if (same != entries_.end()) {
    bytes_ -= same->d.plaintext.size();
    wipe(same->d.plaintext);
    entries_.erase(same);
  }
  while (!entries_.empty() && entries_.front().at + limits_.max_age <= now) drop_oldest_locked();
  // Full: the new one is not kept. The fan-out takes messages oldest
  // first, so under a backlog the oldest entries are the next to be used;
  // dropping them for the newest would leave nothing it can use.
  if (entries_.size() >= limits_.max_messages || bytes_ + size > limits_.max_bytes) {
    wipe(e.d.plaintext);
    return;
  }
  bytes_ += size;
  entries_.push_back(std::move(e));
}

std::optional<Decryption> Handoff::take(std::string_view id, std::time_t now) {
  std::lock_guard lock(mu_);
  auto it =
      std::find_if(entries_.begin(), entries_.end(), [&](const Entry& x) { return x.id == id; });
  if (it == entries_.end()) return std::nullopt;
  Decryption d = std::move(it->d);
  const std::time_t at = it->at;
  bytes_ -= d.plaintext.size();
  it->d.plaintext.clear();
  entries_.erase(it);
  if (now < at || now >= at + limits_.max_age) {
    wipe(d.plaintext);
    return std::nullopt;
  }
  return d;
}

std::size_t Handoff::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::size_t Handoff::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace tlpmail::openpgp
