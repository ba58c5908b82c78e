// Where log lines go: stderr lines carry a UTC timestamp with its zone,
// and under systemd (JOURNAL_STREAM set) a journal that cannot be reached
// never swallows a line: it goes to stderr. stderr is redirected to a
// file for the test (dup2) and put back afterwards.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "log/log.h"

namespace tlpmail::log {
namespace {

// Runs `body` with fd 2 writing into a temp file; returns what was written.
template <class F>
std::string capture_stderr(F body) {
  char path[] = "/tmp/tlplog-XXXXXX";
  int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  int saved = ::dup(2);
  ::dup2(fd, 2);
  body();
  spdlog::default_logger()->flush();
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  ::unlink(path);
  return text.str();
}

bool journal_reachable() {
  int s = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, "/run/systemd/journal/socket");
  bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(s);
  return ok;
}

const std::regex kStderrLine(
    R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z tlpmail-test\[\d+\] info: - probe k=v\n$)");

TEST(LogSinkTest, StderrLinesCarryUtcTimestamps) {
  std::string got = capture_stderr([] {
    ASSERT_TRUE(init("info", Sink::stderr_only, "tlpmail-test"));
    event(spdlog::level::info, "-", "probe", {{"k", "v"}});
  });
  EXPECT_TRUE(std::regex_match(got, kStderrLine)) << got;
}

// JOURNAL_STREAM names the stream stderr is (as under systemd), but no
// journal listens: the line must reach stderr.
TEST(LogSinkTest, UnreachableJournalFallsBackToStderr) {
  if (journal_reachable()) GTEST_SKIP() << "a journal listens here; nothing to fall back from";
  std::string got = capture_stderr([] {
    struct stat st {};
    ASSERT_EQ(::fstat(2, &st), 0);
    const std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
    ASSERT_TRUE(init("info", Sink::automatic, "tlpmail-test"));
    event(spdlog::level::info, "-", "probe", {{"k", "v"}});
  });
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_TRUE(std::regex_match(got, kStderrLine)) << "stderr held: '" << got << "'";
}

// JOURNAL_STREAM inherited, but stderr is another file: stderr it is.
TEST(LogSinkTest, InheritedJournalStreamOfAnotherFileMeansStderr) {
  ::setenv("JOURNAL_STREAM", "8:12345", 1);
  std::string got = capture_stderr([] {
    ASSERT_TRUE(init("info", Sink::automatic, "tlpmail-test"));
    event(spdlog::level::info, "-", "probe", {{"k", "v"}});
  });
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_TRUE(std::regex_match(got, kStderrLine)) << "stderr held: '" << got << "'";
}

}  // namespace
}  // namespace tlpmail::log
