// The status file as a small TOML table (toml++ writes and reads it).
#include "metrics/status_file.h"

#include <signal.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "util/toml_file.h"

namespace tlpmail::metrics {

Result<void> write_status(const std::filesystem::path& state_dir, const DaemonStatus& status) {
  toml::array listen;
  for (const auto& l : status.listen) listen.push_back(l);
  toml::table t{{"pid", status.pid},
                {"version", status.version},
                {"started_at", status.started_at},
                {"listen", std::move(listen)},
                {"metrics", status.metrics}};
  const auto file = state_dir / kStatusFileName;
  const auto temp = state_dir / (std::string(kStatusFileName) + ".tmp");
  {
    std::ofstream out(temp, std::ios::trunc);
    out << "# written by tlpmaild at start; removed when it stops (tlpmailctl status)\n"
        << t << "\n";
    out.flush();
    if (!out) return Unexpected(Error::temporary("cannot write " + temp.string()));
  }
  std::error_code ec;
  std::filesystem::permissions(
      temp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  std::filesystem::rename(temp, file, ec);
  if (ec)
    return Unexpected(Error::temporary("cannot write " + file.string() + ": " + ec.message()));
  return {};
}

void remove_status(const std::filesystem::path& state_dir, std::int64_t pid) {
  auto current = read_status(state_dir);
  if (current && *current && (*current)->pid == pid) {
    std::error_code ec;
    std::filesystem::remove(state_dir / kStatusFileName, ec);
  }
}

Result<std::optional<DaemonStatus>> read_status(const std::filesystem::path& state_dir) {
  const auto file = state_dir / kStatusFileName;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::optional<DaemonStatus>();
  auto parsed = util::read_toml_file(file);
  if (!parsed) return Unexpected(parsed.error());
  const toml::table& t = *parsed;
  DaemonStatus s;
  s.pid = t["pid"].value_or<std::int64_t>(0);
  s.version = t["version"].value_or<std::string>("");
  s.started_at = t["started_at"].value_or<std::int64_t>(0);
  s.metrics = t["metrics"].value_or<std::string>("");
  if (const toml::array* a = t["listen"].as_array()) {
    for (const auto& v : *a) {
      if (auto str = v.value<std::string>()) s.listen.push_back(*str);
    }
  }
  if (s.pid <= 0) return Unexpected(Error::permanent(file.string() + ": no pid"));
  return std::optional<DaemonStatus>(std::move(s));
}

bool is_tlpmaild_alive(std::int64_t pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  if (!comm) return true;  // no /proc: alive is all we can tell
  std::string name;
  std::getline(comm, name);
  return name == "tlpmaild";
}

}  // namespace tlpmail::metrics
