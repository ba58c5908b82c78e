// spdlog sinks for journald and stderr, and the key=value line format.
// Under systemd a line the journal does not take (no journal socket, a
// full buffer) goes to stderr instead: never nowhere.
#include "log/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>

#include "util/text.h"

namespace tlpmail::log {

namespace {

// stderr lines carry their time in UTC with the zone, so that lines from
// hosts in different zones (or a log copied into a ticket) compare.
constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

constexpr const char* kStderrPattern = "%Y-%m-%dT%H:%M:%S.%eZ %n[%P] %l: %v";

std::unique_ptr<spdlog::formatter> stderr_formatter() {
  return std::make_unique<spdlog::pattern_formatter>(kStderrPattern,
                                                     spdlog::pattern_time_type::utc);
}

// journald first; a line it refuses (spdlog's systemd sink throws when
// sd_journal_send fails) is written to stderr with its timestamp. The
// patterns are fixed here: the journal adds time, host and priority.
class JournalOrStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JournalOrStderrSink(std::string identifier) : journal_(std::move(identifier)) {
    journal_.set_pattern("%v");
    fallback_.set_formatter(stderr_formatter());
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    try {
      journal_.log(msg);
    } catch (const std::exception&) {
      fallback_.log(msg);
      fallback_.flush();
    }
  }
  void flush_() override {
    try {
      journal_.flush();
    } catch (const std::exception&) {
    }
    fallback_.flush();
  }
  void set_pattern_(const std::string&) override {}
  void set_formatter_(std::unique_ptr<spdlog::formatter>) override {}

 private:
  spdlog::sinks::systemd_sink_st journal_;
  spdlog::sinks::stderr_sink_st fallback_;
};

// True when the journal's socket takes datagrams. sd_journal_send() fails
// silently (returns 0) when it is missing, so this is asked first.
bool journal_reachable() {
  int s = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, kJournalSocket, sizeof addr.sun_path - 1);
  const bool ok = ::connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(s);
  return ok;
}

// JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected stderr
// to; a program that inherited the variable but whose stderr goes
// elsewhere (a shell redirect, a test harness) must log to stderr.
bool stderr_is_journal_stream() {
  const char* v = std::getenv("JOURNAL_STREAM");
  if (v == nullptr) return false;
  // from_chars, not sscanf: an out-of-range number is an error, not UB.
  const std::string_view text(v);
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned long long dev = 0, ino = 0;
  const char* const end = text.data() + text.size();
  auto d = std::from_chars(text.data(), text.data() + colon, dev);
  auto i = std::from_chars(text.data() + colon + 1, end, ino);
  if (d.ec != std::errc() || d.ptr != text.data() + colon || i.ec != std::errc() || i.ptr != end) {
    return false;
  }
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

}  // namespace

bool started_by_systemd() { return std::getenv("JOURNAL_STREAM") != nullptr; }

bool init(std::string_view level, Sink sink, std::string_view identifier) {
  // Under systemd, the journal when it takes lines; stderr otherwise,
  // never nowhere (sd_journal_send drops lines silently without a journal).
  bool journald = (sink == Sink::journald && journal_reachable()) ||
                  (sink == Sink::automatic && started_by_systemd() && stderr_is_journal_stream() &&
                   journal_reachable());
  std::shared_ptr<spdlog::logger> logger;
  if (journald) {
    auto s = std::make_shared<JournalOrStderrSink>(std::string(identifier));
    logger = std::make_shared<spdlog::logger>(std::string(identifier), std::move(s));
  } else {
    auto s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    logger = std::make_shared<spdlog::logger>(std::string(identifier), std::move(s));
    logger->set_formatter(stderr_formatter());
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
