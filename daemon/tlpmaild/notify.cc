// sd_notify wrappers; libsystemd ignores them without NOTIFY_SOCKET.
#include "tlpmaild/notify.h"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <string>

namespace tlpmail::daemon {
namespace {

void send(const std::string& state) { (void)sd_notify(0, state.c_str()); }

// STATUS= is one line of text.
std::string status_line(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return out;
}

}  // namespace

void notify_ready(std::string_view status) { send("READY=1\nSTATUS=" + status_line(status)); }
void notify_reloading() { send("RELOADING=1\nSTATUS=reloading the configuration"); }
void notify_stopping() { send("STOPPING=1\nSTATUS=stopping"); }
void notify_watchdog() { send("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(static_cast<std::int64_t>(usec / 2));
}

}  // namespace tlpmail::daemon
