// spool_bench: commits per second of the intake spool on this disk, for
// the SQLite settings under discussion (WAL+FULL is what tlpmail uses) and
// for the file steps alone. A measuring tool, not a test: it asserts
// nothing and its numbers depend on the machine.
//   spool_bench [--dir DIR] [--count N] [--size BYTES] [--threads T]
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "queue/env.h"
#include "queue/spool.h"
#include "store/database.h"

using namespace tlpmail;

namespace {

struct Args {
  std::string dir;
  int count = 300;
  std::size_t size = 10 * 1024;
  int threads = 4;
};

std::string body_of(std::size_t n) {
  std::string s;
  while (s.size() < n) s += "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n";
  s.resize(n);
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Commits `count` messages from `threads` threads; returns commits/s or -1.
double run_spool(const Args& a, const std::string& name, store::JournalMode jm,
                 store::Synchronous sync, int threads) {
  const std::string root = a.dir + "/" + name + "-" + std::to_string(threads);
  std::filesystem::create_directories(root);
  store::Options o;
  o.journal_mode = jm;
  o.synchronous = sync;
  auto db = store::Database::open(root + "/tlpmail.db", o);
  if (!db) {
    std::fprintf(stderr, "%s\n", db.error().message.c_str());
    return -1;
  }
  auto spool = queue::Spool::open(queue::Env::posix(), root + "/spool", **db);
  if (!spool) {
    std::fprintf(stderr, "%s\n", spool.error().message.c_str());
    return -1;
  }
  const std::string body = body_of(a.size);
  std::atomic<int> failures{0};
  auto worker = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto tx = (*spool)->begin();
      if (!tx) {
        ++failures;
        continue;
      }
      tx->set_sender("bench@example.org");
      tx->add_recipient("list@lists.example.org");
      for (std::size_t off = 0; off < body.size(); off += 4096) {
        (void)tx->write(std::string_view(body).substr(off, 4096));
      }
      if (!tx->commit()) ++failures;
    }
  };
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, a.count / threads);
  for (auto& th : pool) th.join();
  double secs = seconds_since(t0);
  if (failures) std::fprintf(stderr, "%s: %d failed commits\n", name.c_str(), failures.load());
  return (a.count / threads) * threads / secs;
}

// The file steps alone: create, write, fsync, close, rename, fsync folder.
double run_files_only(const Args& a) {
  queue::Env& env = queue::Env::posix();
  const std::string root = a.dir + "/files-only";
  std::filesystem::create_directories(root + "/tmp");
  std::filesystem::create_directories(root + "/msg");
  const std::string body = body_of(a.size);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < a.count; ++i) {
    const std::string name = std::to_string(i);
    auto f = env.new_writable_file(root + "/tmp/" + name);
    if (!f || !(*f)->append(body) || !(*f)->sync() || !(*f)->close()) return -1;
    if (!env.rename_file(root + "/tmp/" + name, root + "/msg/" + name) ||
        !env.sync_dir(root + "/msg"))
      return -1;
  }
  return a.count / seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--dir")
      a.dir = argv[i + 1];
    else if (k == "--count")
      a.count = std::atoi(argv[i + 1]);
    else if (k == "--size")
      a.size = static_cast<std::size_t>(std::atol(argv[i + 1]));
    else if (k == "--threads")
      a.threads = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr,
                   "usage: spool_bench [--dir DIR] [--count N] [--size BYTES] [--threads T]\n");
      return 2;
    }
  }
  bool own_dir = a.dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/tlpbench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return 1;
    a.dir = tmpl;
  }
  std::printf("spool_bench: %d commits of %zu bytes in %s\n", a.count, a.size, a.dir.c_str());
  std::printf("  %-34s %8.0f commits/s\n", "files only (no database)", run_files_only(a));
  struct Mode {
    const char* name;
    store::JournalMode jm;
    store::Synchronous sync;
  };
  const Mode modes[] = {
      {"wal-full", store::JournalMode::wal, store::Synchronous::full},
      {"delete-full", store::JournalMode::rollback, store::Synchronous::full},
      {"wal-normal", store::JournalMode::wal, store::Synchronous::normal},
  };
  for (const Mode& m : modes) {
    for (int threads : {1, a.threads}) {
      std::string label =
          std::string("spool ") + m.name + ", " + std::to_string(threads) + " thread(s)";
      std::printf("  %-34s %8.0f commits/s\n", label.c_str(),
                  run_spool(a, m.name, m.jm, m.sync, threads));
    }
  }
  if (own_dir) std::filesystem::remove_all(a.dir);
  return 0;
}
