// Test peers shared by the delivery tests: a child process killed by PID,
// tests/e2e/sink.py in its own temp folder, free ports, Relay options for
// a local peer, and running an io_context until a condition holds. Test
// plumbing only.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "delivery/relay.h"
#include "support/files.h"
#include "support/temp_dir.h"

namespace tlpmail::delivery::test_support {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::ip::tcp;
using ::tlpmail::testing::read_file;
using ::tlpmail::testing::TempDir;

// A port that was free a moment ago (bind 0, read, close).
inline std::uint16_t free_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

inline bool can_connect(std::uint16_t port) {
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  return !ec;
}

// Relay options for a peer on 127.0.0.1:`port`: plain SMTP, one
// connection, short timeouts. Tests change what they need.
inline RelayOptions local_relay_options(std::uint16_t port, std::string helo_name) {
  RelayOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.starttls = smtp::StartTlsPolicy::off;
  o.max_connections = 1;
  o.helo_name = std::move(helo_name);
  o.timeouts.connect = 5s;
  o.timeouts.reply = 10s;
  o.timeouts.data_end = 10s;
  o.timeouts.idle_close = 300ms;
  o.timeouts.quit = 2s;
  return o;
}

// Runs `io` one handler at a time until pred() holds or `limit` has
// passed; false on timeout.
inline bool run_until(asio::io_context& io, const std::function<bool()>& pred,
                      std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    if (io.stopped()) io.restart();
    if (io.run_one_for(10ms) == 0) std::this_thread::sleep_for(2ms);
  }
  return true;
}

// A child process started with execvp, stdout and stderr to files; killed
// with SIGTERM (then SIGKILL) by PID when destroyed.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (o >= 0) ::dup2(o, 1);
      if (e >= 0) ::dup2(e, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 250; ++i) {  // 5 s
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// tests/e2e/sink.py, next to this file's tests/unit/delivery/.
inline fs::path sink_script() {
  return fs::weakly_canonical(fs::path(__FILE__).parent_path() / "../../e2e/sink.py");
}

// sink.py in its own temp folder; messages land in dir()/out.
class SinkPy {
 public:
  explicit SinkPy(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"python3",     sink_script().string(),
                                     "--port",      "0",
                                     "--port-file", dir_.file("port"),
                                     "--dir",       dir_.file("out"),
                                     "--exit-after", "120"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_ = std::make_unique<Child>(argv, dir_.file("stdout"), dir_.file("stderr"));
    for (int i = 0; i < 500 && port_ == 0; ++i) {  // 10 s
      std::string text = read_file(dir_.file("port"));
      if (!text.empty()) port_ = static_cast<std::uint16_t>(std::stoi(text));
      if (port_ == 0 && !child_->running()) break;
      if (port_ == 0) std::this_thread::sleep_for(20ms);
    }
  }

  std::uint16_t port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }
  std::string log() const { return read_file(dir_.file("stderr")); }
  int messages() const {
    int n = 0;
    while (fs::exists(out(n + 1, ".json"))) ++n;
    return n;
  }
  std::string eml(int n) const { return read_file(out(n, ".eml")); }
  std::string json(int n) const { return read_file(out(n, ".json")); }
  // The json's "connection" number.
  int connection_of(int n) const {
    const std::string j = json(n);
    const std::string key = "\"connection\": ";
    const auto at = j.find(key);
    if (at == std::string::npos) return -1;
    int value = 0;
    bool digits = false;
    for (std::size_t i = at + key.size(); i < j.size() && j[i] >= '0' && j[i] <= '9'; ++i) {
      value = value * 10 + (j[i] - '0');
      digits = true;
    }
    return digits ? value : -1;
  }

 private:
  // out/<n><ext>: the sink's files for its n-th message.
  std::string out(int n, const char* ext) const {
    return dir_.file("out/" + std::to_string(n) + ext);
  }

  TempDir dir_;  // first: removed after the child is gone
  std::unique_ptr<Child> child_;
  std::uint16_t port_ = 0;
};

}  // namespace tlpmail::delivery::test_support
