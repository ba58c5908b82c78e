// The watchdog of GPGME operations (see deadline.h): a registry of running
// operations and one thread that sleeps until the earliest deadline, then
// kills the hung home's gpg-agent (and, kStragglerGrace later, its gpg
// processes) found by scanning /proc.
#include "openpgp/deadline.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "util/files.h"

namespace tlpmail::openpgp {
namespace {

using Clock = std::chrono::steady_clock;

// A command line longer than this is not a gpg started by GPGME.
constexpr std::size_t kMaxCmdline = std::size_t{64} * 1024;

struct Entry {
  std::filesystem::path home;
  std::string operation;
  std::chrono::milliseconds limit{0};
  Clock::time_point due;
  // 0 watching, 1 agent killed, 2 stragglers killed, 3 pipes released
  int stage = 0;
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

// How long after killing stragglers their pipes are looked at again (the
// kernel closes a killed process's descriptors as it exits).
constexpr std::chrono::milliseconds kReleaseDelay{200};

// GPGME (1.18) feeds an operation's input to gpg through a pipe and, when
// gpg is gone before reading all of it (killed here, or exited early),
// polls that pipe for ever: poll() reports POLLERR, never POLLOUT, and
// GPGME only writes on POLLOUT, so the call spins at full CPU and never
// returns. Every pipe this process writes to whose reader is gone is
// useless (a write can only fail with EPIPE); /dev/null takes its place,
// GPGME writes the rest of its input there, sees gpg's end and returns
// with an error. Returns how many were replaced.
int release_broken_pipes() {
  int released = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    char* rest = nullptr;
    const long fd = std::strtol(name.c_str(), &rest, 10);
    if (rest == name.c_str() || *rest != '\0' || fd < 0) continue;
    std::error_code link_ec;
    const std::string target = std::filesystem::read_symlink(it->path(), link_ec).string();
    if (link_ec || target.rfind("pipe:", 0) != 0) continue;
    const int flags = ::fcntl(static_cast<int>(fd), F_GETFL);
    if (flags < 0 || (flags & O_ACCMODE) != O_WRONLY) continue;
    pollfd p{static_cast<int>(fd), POLLOUT, 0};
    if (::poll(&p, 1, 0) != 1 || !(p.revents & POLLERR)) continue;
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0) continue;
    if (::dup3(null, static_cast<int>(fd), O_CLOEXEC) >= 0) ++released;
    ::close(null);
  }
  return released;
}

void watch() {
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  for (;;) {
    Clock::time_point next = Clock::time_point::max();
    for (const auto& [id, e] : r.running) {
      if (e.stage < 3) next = std::min(next, e.due);
    }
    if (next == Clock::time_point::max()) {
      r.cv.wait(lock);
    } else {
      r.cv.wait_until(lock, next);
    }
    const Clock::time_point now = Clock::now();
    for (auto& [id, e] : r.running) {
      if (e.stage >= 3 || e.due > now) continue;
      Stall s{e.home, e.operation, e.limit};
      if (e.stage == 0) {
        s.agents_killed = kill_all(home_processes(e.home, true));
        r.stalls.fetch_add(1);
        release_broken_pipes();  // a gpg that already gave up
        e.due = now + kStragglerGrace;
      } else if (e.stage == 1) {
        s.gpg_killed = kill_all(home_processes(e.home, false));
        e.due = now + kReleaseDelay;
      } else {
        release_broken_pipes();  // the stragglers' input pipes
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
  return std::chrono::milliseconds(
      2 * static_cast<std::int64_t>(recipients) +
      static_cast<std::int64_t>(bytes / (std::size_t{4} * 1024 * 1024)) * 1000);
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
    // The process may exit between the listing and the read (ESRCH).
    auto read = read_small_file(entry.path() / "cmdline", kMaxCmdline);
    if (!read) continue;
    const std::string& cmdline = *read;
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
