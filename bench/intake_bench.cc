// intake_bench: the verification cost of intake, pipeline::Verifier::verify
// on prepared messages (bench/intake_bench.sh makes them with real gpg),
// per shape: messages/s (wall) and CPU ms per message, counting this
// process, the gpg processes GPGME spawns (RUSAGE_CHILDREN; GPGME
// double-forks, so this process makes itself a child subreaper and reaps
// them) and the list home's gpg-agent (/proc; it does the secret-key
// operation of a decryption). verify() only reads the
// database and record() is never called, so there is no replay refusal and
// no SQLite write here. A measuring tool, not a test; it asserts nothing.
//   intake_bench CONFIG GNUPG_HOME LIST_ADDRESS LIST_KEY_FILE SHAPE_DIR...
// Every SHAPE_DIR holds *.eml files; the folder's name is the shape's name.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "openpgp/list_key.h"
#include "pipeline/verifier.h"
#include "store/database.h"

using namespace tlpmail;
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

double seconds_of(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

// User + system CPU seconds of this process and of its waited-for children.
void cpu_now(double& self, double& children) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  self = seconds_of(ru.ru_utime) + seconds_of(ru.ru_stime);
  getrusage(RUSAGE_CHILDREN, &ru);
  children = seconds_of(ru.ru_utime) + seconds_of(ru.ru_stime);
}

// CPU seconds (utime + stime) of every gpg-agent whose command line names
// `home`: the agent is a daemon, not a child, so RUSAGE_CHILDREN misses it.
double agent_cpu(const fs::path& home) {
  double total = 0;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename().string();
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit)) continue;
    std::string cmd = read_file(e.path() / "cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find("gpg-agent") == std::string::npos ||
        cmd.find(home.string()) == std::string::npos) {
      continue;
    }
    const std::string stat = read_file(e.path() / "stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    double utime = 0;
    double stime = 0;
    // Fields after "(comm)": state is field 3; utime 14, stime 15.
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    total += (utime + stime) / tick;
  }
  return total;
}

// Processes whose parent is this one, other than a gpg-agent (a daemon
// adopted by this subreaper would never exit).
int live_children() {
  int n = 0;
  const std::string me = std::to_string(getpid());
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string stat = read_file(e.path() / "stat");
    const auto open = stat.find('(');
    const auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    if (stat.substr(open + 1, close - open - 1) == "gpg-agent") continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    std::string ppid;
    rest >> state >> ppid;
    if (ppid == me && state != "Z") ++n;
  }
  return n;
}

// Reaps exited children (their CPU time then counts in RUSAGE_CHILDREN);
// with `all`, waits until none but a gpg-agent is left.
void reap(bool all) {
  for (;;) {
    int status = 0;
    while (waitpid(-1, &status, WNOHANG) > 0) {
    }
    if (!all || live_children() == 0) {
      while (waitpid(-1, &status, WNOHANG) > 0) {
      }
      return;
    }
    usleep(2000);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr,
                 "usage: intake_bench CONFIG GNUPG_HOME LIST_ADDRESS LIST_KEY_FILE SHAPE_DIR...\n");
    return 2;
  }
  const fs::path config_file = argv[1];
  const fs::path home = argv[2];
  const std::string list_address = argv[3];
  const fs::path list_key_file = argv[4];

  if (auto ok = openpgp::initialize(); !ok) {
    std::fprintf(stderr, "gpgme: %s\n", ok.error().message.c_str());
    return 1;
  }
  auto loaded = config::load_config(config_file);
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return 1;
  }
  const config::Config& config = *loaded.config;
  const directory::MailingList* list = config.directory.find_list(list_address);
  if (list == nullptr) {
    std::fprintf(stderr, "no list %s\n", list_address.c_str());
    return 1;
  }
  auto keys = keyring::load_keys(config, home, std::time(nullptr));
  if (!keys) {
    std::fprintf(stderr, "keys: %s\n", keys.error().message.c_str());
    return 1;
  }
  auto ctx = openpgp::Context::open(home);
  if (!ctx) {
    std::fprintf(stderr, "gpg: %s\n", ctx.error().message.c_str());
    return 1;
  }
  openpgp::Context gpg = std::move(ctx).value();
  if (auto fpr = openpgp::import_secret_key_file(gpg, list_key_file, list_address); !fpr) {
    std::fprintf(stderr, "list key: %s\n", fpr.error().message.c_str());
    return 1;
  }
  const fs::path db_file = home.parent_path() / "bench.db";
  auto db = store::Database::open(db_file);
  if (!db) {
    std::fprintf(stderr, "database: %s\n", db.error().message.c_str());
    return 1;
  }
  pipeline::Verifier verifier(config, *keys, **db);
  // Start the list home's gpg-agent before becoming a subreaper, so that
  // the daemon is adopted by init, not by this process.
  if (auto listed = gpg.list_keys(); !listed) {
    std::fprintf(stderr, "gpg: %s\n", listed.error().message.c_str());
    return 1;
  }
  const std::string start_agent =
      "gpg-connect-agent --homedir '" + home.string() + "' /bye >/dev/null 2>&1";
  (void)std::system(start_agent.c_str());
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    std::perror("prctl(PR_SET_CHILD_SUBREAPER)");
    return 1;
  }

  std::printf("| shape | size | messages | messages/s | wall ms/msg | CPU ms/msg (all) |"
              " of which gpg children | gpg-agent | this process |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  int failures = 0;
  for (int a = 5; a < argc; ++a) {
    const fs::path dir = argv[a];
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".eml") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> messages;
    std::size_t bytes = 0;
    for (const auto& f : files) {
      messages.push_back(read_file(f));
      bytes += messages.back().size();
    }
    if (messages.empty()) continue;

    // One untimed run (warms the agent, page cache and GMime).
    (void)verifier.verify(gpg, *list, messages.front(), std::time(nullptr));
    reap(true);

    double self0 = 0;
    double child0 = 0;
    cpu_now(self0, child0);
    const double agent0 = agent_cpu(home);
    const auto t0 = std::chrono::steady_clock::now();
    int refused = 0;
    for (const std::string& raw : messages) {
      auto v = verifier.verify(gpg, *list, raw, std::time(nullptr));
      if (!v) {
        std::fprintf(stderr, "%s: local fault: %s\n", dir.filename().c_str(),
                     v.error().message.c_str());
        ++refused;
      } else if (!v->accepted) {
        std::fprintf(stderr, "%s: refused: %s\n", dir.filename().c_str(),
                     v->reply.to_string().c_str());
        ++refused;
      }
      reap(false);
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    reap(true);
    double self1 = 0;
    double child1 = 0;
    cpu_now(self1, child1);
    const double agent = agent_cpu(home) - agent0;
    failures += refused;
    const double n = static_cast<double>(messages.size());
    const double self = self1 - self0;
    const double child = child1 - child0;
    const double avg_kb = static_cast<double>(bytes) / n / 1024.0;
    std::printf("| %s | %.0f KB | %zu | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
                dir.filename().c_str(), avg_kb, messages.size(), n / wall, wall * 1000.0 / n,
                (self + child + agent) * 1000.0 / n, child * 1000.0 / n, agent * 1000.0 / n,
                self * 1000.0 / n);
    std::fflush(stdout);
  }
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::remove(db_file.string() + suffix, ec);
  }
  if (failures != 0) {
    std::fprintf(stderr, "%d message(s) not accepted\n", failures);
    return 1;
  }
  return 0;
}
