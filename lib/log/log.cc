// spdlog sinks for journald and stderr, and the key=value line format.
#include "log/log.h"

#include <cstdlib>
#include <memory>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>

#include "util/text.h"

namespace tlpmail::log {

bool started_by_systemd() { return std::getenv("JOURNAL_STREAM") != nullptr; }

bool init(std::string_view level, Sink sink, std::string_view identifier) {
  bool journald = sink == Sink::journald ||
                  (sink == Sink::automatic && started_by_systemd());
  std::shared_ptr<spdlog::logger> logger;
  if (journald) {
    auto s = std::make_shared<spdlog::sinks::systemd_sink_mt>(std::string(identifier));
    logger = std::make_shared<spdlog::logger>(std::string(identifier), std::move(s));
    logger->set_pattern("%v");  // journald adds time, host and priority
  } else {
    auto s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    logger = std::make_shared<spdlog::logger>(std::string(identifier), std::move(s));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %n[%P] %l: %v");
  }
  spdlog::set_default_logger(logger);
  auto lvl = spdlog::level::from_str(std::string(level));
  bool known = level == "off" || lvl != spdlog::level::off;
  if (!known) lvl = spdlog::level::info;
  spdlog::set_level(lvl);
  spdlog::flush_on(spdlog::level::warn);
  return known;
}

namespace {

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
  }
  return false;
}

}  // namespace

std::string format_event(std::string_view id, std::string_view event,
                         std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(64);
  out.append(id.empty() ? "-" : id);
  out.push_back(' ');
  out.append(event);
  for (const auto& [key, value] : fields) {
    out.push_back(' ');
    out.append(key);
    out.push_back('=');
    if (needs_quotes(value)) {
      out.push_back('"');
      out.append(escape_for_log(value, 400));
      out.push_back('"');
    } else {
      out.append(value);
    }
  }
  return out;
}

}  // namespace tlpmail::log
