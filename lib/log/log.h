// Logging set-up and the one-line event format of tlpmail:
//   <queue-id|session-id> <event> key=value key="value with spaces" ...
// Values from the network or from files are escaped here (escape_for_log),
// so callers never build log lines by hand. Under systemd (JOURNAL_STREAM
// set) lines go to journald without timestamps, and to stderr when the
// journal does not take them; otherwise to stderr, with the time in UTC
// ("2026-12-07T10:00:00.123Z"). This module never sees message content;
// callers must not pass any.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <spdlog/spdlog.h>

namespace tlpmail::log {

enum class Sink { automatic, journald, stderr_only };

// Installs the default spdlog logger. level: trace|debug|info|warn|error.
// Returns false (and keeps "info") when the level name is unknown.
// Not thread-safe: call once at start-up, and again on reload from the
// thread that owns configuration.
bool init(std::string_view level, Sink sink = Sink::automatic,
          std::string_view identifier = "tlpmail");

// True when systemd started us (it sets JOURNAL_STREAM). init() then logs
// to the journal only when stderr is that stream and the journal's socket
// takes lines; otherwise to stderr.
bool started_by_systemd();

using Field = std::pair<std::string_view, std::string_view>;

// "id event k=v k2=\"v 2\"": values are escaped and quoted when they hold
// spaces, quotes, '=' or control characters; empty values print as "".
std::string format_event(std::string_view id, std::string_view event,
                         std::initializer_list<Field> fields);

inline void event(spdlog::level::level_enum level, std::string_view id,
                  std::string_view name, std::initializer_list<Field> fields) {
  if (!spdlog::should_log(level)) return;
  spdlog::log(level, "{}", format_event(id, name, fields));
}

}  // namespace tlpmail::log
