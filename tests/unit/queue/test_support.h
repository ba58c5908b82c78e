// Helpers shared by the queue tests: a temp folder removed at the end, a
// real SQLite database in it, and a spool opened over a given Env. Only
// test plumbing; the behaviour under test lives in lib/queue.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "queue/spool.h"
#include "store/database.h"

namespace tlpmail::queue::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/tlpt-XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    if (p == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<store::Database> open_db(
    const std::string& file, std::chrono::milliseconds busy = std::chrono::milliseconds(5000)) {
  store::Options o;
  o.busy_timeout = busy;
  auto db = store::Database::open(file, o);
  if (!db) throw std::runtime_error(db.error().message);
  return std::move(db.value());
}

inline std::unique_ptr<Spool> open_spool(Env& env, const std::string& dir, store::Database& db) {
  auto spool = Spool::open(env, dir, db);
  if (!spool) throw std::runtime_error(spool.error().message);
  return std::move(spool.value());
}

// A message body of `n` bytes that differs per seed, CRLF lines.
inline std::string make_body(std::size_t n, int seed = 0) {
  std::string s;
  s.reserve(n);
  int line = 0;
  while (s.size() < n) {
    std::string l =
        "line " + std::to_string(line++) + " of message " + std::to_string(seed) + "\r\n";
    s += l;
  }
  s.resize(n);
  return s;
}

// begin, envelope, body in chunks of `chunk` bytes, commit.
inline Result<QueueId, SpoolError> spool_message(Spool& spool, const std::string& sender,
                                                 const std::vector<std::string>& rcpts,
                                                 const std::string& body,
                                                 std::size_t chunk = 1000) {
  auto tx = spool.begin();
  if (!tx) return Unexpected(tx.error());
  tx->set_sender(sender);
  for (const auto& r : rcpts) tx->add_recipient(r);
  for (std::size_t i = 0; i < body.size(); i += chunk) {
    (void)tx->write(std::string_view(body).substr(i, chunk));
  }
  return tx->commit();
}

}  // namespace tlpmail::queue::testing
