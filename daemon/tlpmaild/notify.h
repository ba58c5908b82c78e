// systemd readiness protocol (sd_notify) for tlpmaild: READY, RELOADING,
// STOPPING, STATUS and WATCHDOG pings. Every call is a no-op when the
// process was not started with NOTIFY_SOCKET (tests, a shell).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace tlpmail::daemon {

void notify_ready(std::string_view status);
void notify_reloading();
void notify_stopping();
void notify_watchdog();

// Half of WATCHDOG_USEC when systemd's watchdog is on for this process
// (sd_watchdog_enabled); nullopt otherwise.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace tlpmail::daemon
