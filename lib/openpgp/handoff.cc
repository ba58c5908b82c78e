// openpgp::Handoff (handoff.h): a small queue of decryptions under one
// lock. Every plaintext is held by a shared_decryption, which wipes it when
// the last owner lets it go: dropping an entry is letting it go.
#include "openpgp/handoff.h"

#include <algorithm>

#include "util/wiped.h"

namespace tlpmail::openpgp {

std::shared_ptr<Decryption> shared_decryption(Decryption d) {
  return std::shared_ptr<Decryption>(new Decryption(std::move(d)), [](Decryption* p) {
    wipe(p->plaintext);
    delete p;
  });
}

Handoff::~Handoff() = default;

void Handoff::put(const std::string& id, Decryption d, std::time_t now) {
  std::shared_ptr<Decryption> kept = shared_decryption(std::move(d));
  const std::size_t size = kept->plaintext.size();
  if (kept->status != DecryptStatus::decrypted || id.empty() || size > kLargest) return;
  std::lock_guard lock(mu_);
  const auto drop = [&](const std::deque<Entry>::iterator& it) {
    bytes_ -= it->d->plaintext.size();
    entries_.erase(it);
  };
  // One entry per id (a queue id is never spooled twice, but be safe).
  auto same = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& x) { return x.id == id; });
  if (same != entries_.end()) drop(same);
  while (!entries_.empty() && entries_.front().at + limits_.max_age <= now) {
    drop(entries_.begin());
  }
  // Full: the new one is not kept. The fan-out takes messages oldest
  // first, so under a backlog the oldest entries are the next to be used;
  // dropping them for the newest would leave nothing it can use.
  if (entries_.size() >= limits_.max_messages || bytes_ + size > limits_.max_bytes) return;
  bytes_ += size;
  entries_.push_back(Entry{id, std::move(kept), now});
}

std::shared_ptr<Decryption> Handoff::take(std::string_view id, std::time_t now) {
  std::lock_guard lock(mu_);
  auto it =
      std::find_if(entries_.begin(), entries_.end(), [&](const Entry& x) { return x.id == id; });
  if (it == entries_.end()) return nullptr;
  std::shared_ptr<Decryption> d = std::move(it->d);
  const std::time_t at = it->at;
  bytes_ -= d->plaintext.size();
  entries_.erase(it);
  if (now < at || now >= at + limits_.max_age) return nullptr;
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
