// The watchdog of GPGME operations (see deadline.h): a registry of running
// operations and one thread that sleeps until the earliest deadline, then
// kills the hung home's gpg-agent (and, kStragglerGrace later, its gpg
// processes) found by scanning /proc.
#include "openpgp/deadline.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace tlpmail::openpgp {
namespace {

using Clock = std::chrono::steady_clock;

struct Entry {
  std::filesystem::path home;
  std::string operation;
  std::chrono::milliseconds limit{0};
  Clock::time_point due;
  int stage = 0;  // 0 watching, 1 agent killed, 2 stragglers killed
};

// Never destroyed: the watchdog thread may outlive static destruction.
struct Registry {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::uint64_t, Entry> running;
  std::uint64_t next_id = 1;
  bool started = false;
  std::function<void(const Stall&)> handler;
  std::atomic<std::int64_t> limit_ms{kDefaultOperationDeadline.count()};
  std::atomic<std::uint64_t> stalls{0};
};

Registry& registry() {
  static Registry* r = new Registry;  // NOLINT: intentionally leaked
  return *r;
}

thread_local std::uint64_t stalls_here = 0;

std::string canonical_text(const std::filesystem::path& p) {
  std::error_code ec;
  auto c = std::filesystem::weakly_canonical(p, ec);
  return ec ? p.string() : c.string();
}

int kill_all(const std::vector<int>& pids) {
  int n = 0;
  for (int pid : pids) {
    if (::kill(pid, SIGKILL) == 0) ++n;
  }
  return n;
}

void watch() {
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  for (;;) {
    Clock::time_point next = Clock::time_point::max();
    for (const auto& [id, e] : r.running) {
      if (e.stage < 2) next = std::min(next, e.due);
    }
    if (next == Clock::time_point::max()) {
      r.cv.wait(lock);
    } else {
      r.cv.wait_until(lock, next);
    }
    const Clock::time_point now = Clock::now();
    for (auto& [id, e] : r.running) {
      if (e.stage >= 2 || e.due > now) continue;
      Stall s{e.home, e.operation, e.limit};
      if (e.stage == 0) {
        s.agents_killed = kill_all(home_processes(e.home, true));
        r.stalls.fetch_add(1);
        e.due = now + kStragglerGrace;
      } else {
        s.gpg_killed = kill_all(home_processes(e.home, false));
      }
      ++e.stage;
      // A stage-2 report only when there were stragglers to kill.
      if (r.handler && (e.stage == 1 || s.gpg_killed > 0)) {
        auto handler = r.handler;
        lock.unlock();
        handler(s);
        lock.lock();
        break;  // the map may have changed meanwhile: look again
      }
    }
  }
}

}  // namespace

void set_operation_deadline(std::chrono::milliseconds limit) {
  registry().limit_ms.store(limit.count());
}

std::chrono::milliseconds operation_deadline() {
  return std::chrono::milliseconds(registry().limit_ms.load());
}

void set_stall_handler(std::function<void(const Stall&)> handler) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.handler = std::move(handler);
}

std::uint64_t stall_count() { return registry().stalls.load(); }
std::uint64_t stall_count_this_thread() { return stalls_here; }

std::chrono::milliseconds extra_for(std::size_t recipients, std::size_t bytes) {
  return std::chrono::milliseconds(2 * static_cast<std::int64_t>(recipients) +
                                   static_cast<std::int64_t>(bytes / (4 * 1024 * 1024)) * 1000);
}

Deadline::Deadline(const std::filesystem::path& home, std::string_view operation,
                   std::chrono::milliseconds extra)
    : operation_(operation) {
  Registry& r = registry();
  const std::chrono::milliseconds base = operation_deadline();
  if (base.count() <= 0) return;
  limit_ = base + extra;
  std::lock_guard lock(r.mu);
  if (!r.started) {
    r.started = true;
    std::thread(watch).detach();
  }
  id_ = r.next_id++;
  r.running.emplace(id_, Entry{home, std::string(operation), limit_, Clock::now() + limit_});
  r.cv.notify_one();
}

Deadline::~Deadline() {
  if (id_ == 0) return;
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.running.find(id_);
  if (it == r.running.end()) return;
  if (it->second.stage > 0) ++stalls_here;
  r.running.erase(it);
}

bool Deadline::expired() const {
  if (id_ == 0) return false;
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.running.find(id_);
  return it != r.running.end() && it->second.stage > 0;
}

Error Deadline::error() const {
  const auto ms = limit_.count();
  const std::string limit =
      ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
  return Error::temporary("gpg did not answer within " + limit + " (" + operation_ +
                          "); its gpg-agent was restarted");
}

std::vector<int> home_processes(const std::filesystem::path& home, bool agents) {
  std::vector<int> out;
  const std::string want = canonical_text(home);
  const std::string plain = home.string();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0 || st.st_uid != ::getuid()) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> argv;
    for (std::size_t pos = 0; pos < cmdline.size();) {
      std::size_t end = cmdline.find('\0', pos);
      if (end == std::string::npos) end = cmdline.size();
      argv.push_back(cmdline.substr(pos, end - pos));
      pos = end + 1;
    }
    if (argv.empty()) continue;
    const std::string prog = std::filesystem::path(argv[0]).filename().string();
    const bool is_agent = prog == "gpg-agent";
    const bool is_gpg = prog == "gpg" || prog == "gpg2";
    if (agents ? !is_agent : !is_gpg) continue;
    for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
      if (argv[i] != "--homedir") continue;
      if (argv[i + 1] == plain || canonical_text(argv[i + 1]) == want) {
        out.push_back(std::stoi(name));
      }
      break;
    }
  }
  return out;
}

}  // namespace tlpmail::openpgp
