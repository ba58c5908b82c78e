// Test peers shared by the delivery tests: a child process killed by PID,
// tests/e2e/sink.py in its own temp folder, free ports. Test plumbing only.
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
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace tlpmail::delivery::test_support {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using asio::ip::tcp;

inline fs::path make_temp_dir() {
  char tmpl[] = "/tmp/tlpt-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return {};
  return tmpl;
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

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
  explicit SinkPy(std::vector<std::string> extra = {}) : dir_(make_temp_dir()) {
    std::vector<std::string> argv = {"python3",     sink_script().string(),
                                     "--port",      "0",
                                     "--port-file", (dir_ / "port").string(),
                                     "--dir",       (dir_ / "out").string(),
                                     "--exit-after", "120"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_ = std::make_unique<Child>(argv, dir_ / "stdout", dir_ / "stderr");
    for (int i = 0; i < 500 && port_ == 0; ++i) {  // 10 s
      std::string text = read_file(dir_ / "port");
      if (!text.empty()) port_ = static_cast<std::uint16_t>(std::stoi(text));
      if (port_ == 0 && !child_->running()) break;
      if (port_ == 0) std::this_thread::sleep_for(20ms);
    }
  }
  ~SinkPy() {
    child_.reset();
    fs::remove_all(dir_);
  }

  std::uint16_t port() const { return port_; }
  const fs::path& dir() const { return dir_; }
  std::string log() const { return read_file(dir_ / "stderr"); }
  int messages() const {
    int n = 0;
    for (int i = 1; fs::exists(dir_ / "out" / (std::to_string(i) + ".json")); ++i) n = i;
    return n;
  }
  std::string eml(int n) const { return read_file(dir_ / "out" / (std::to_string(n) + ".eml")); }
  std::string json(int n) const { return read_file(dir_ / "out" / (std::to_string(n) + ".json")); }
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
  fs::path dir_;
  std::unique_ptr<Child> child_;
  std::uint16_t port_ = 0;
};

}  // namespace tlpmail::delivery::test_support
