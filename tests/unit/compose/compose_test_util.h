// Test helpers for lib/compose: CRLF text, the facts of a typical copy,
// splitting a multipart entity we wrote into its parts, and a throwaway
// GnuPG home (short /tmp/tlpt-XXXXXX path; agent killed and folder removed
// at the end) that runs the real gpg with stdin from a file. Test-only.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "compose/compose.h"

extern char** environ;

namespace tlpmail::compose::testing {

// "\n" -> "\r\n" (input must not contain CR).
inline std::string crlf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

inline std::string lf_only(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '\r') out.push_back(c);
  }
  return out;
}

inline constexpr std::time_t kDate = 1763837467;  // Sat, 22 Nov 2025 18:51:07 +0000

inline CopyFacts base_facts() {
  CopyFacts f;
  f.list.address = "csirt-ops@lists.example.org";
  f.list.description = "CSIRT Network operational exchange";
  f.list.subject_prefix = "[csirt-ops]";
  f.sender = {"Alice Example", "CSIRT-A", "alice@csirt-a.example",
              "0123456789ABCDEF0123456789ABCDEF01234567"};
  f.label = policy::Tlp::amber;
  f.banner_lines = {"TLP:AMBER: " + std::string(policy::sharing_rule(policy::Tlp::amber))};
  f.subject = "[TLP:AMBER] Phishing wave against energy sector";
  f.message_id = "20251122185107.q1a2b3@lists.example.org";
  f.date = kDate;
  return f;
}

// The value of `param` in the first header field of `entity` named `field`
// (unfolded; quotes removed). "" when absent.
inline std::string header_param(std::string_view entity, std::string_view param) {
  const std::size_t end = entity.find("\r\n\r\n");
  const std::string head(entity.substr(0, end));
  const std::string key = std::string(param) + "=\"";
  const std::size_t p = head.find(key);
  if (p == std::string::npos) return "";
  const std::size_t q = head.find('"', p + key.size());
  return head.substr(p + key.size(), q - p - key.size());
}

// The parts of a multipart entity written by lib/compose (boundary from
// its header): the bytes between "--b\r\n" and the "\r\n" before the next
// delimiter line. Empty when the structure is not as expected.
inline std::vector<std::string> split_parts(std::string_view entity) {
  const std::string b = header_param(entity, "boundary");
  if (b.empty()) return {};
  const std::string delim = "\r\n--" + b;
  std::vector<std::string> parts;
  std::size_t p = entity.find("\r\n\r\n");
  if (p == std::string_view::npos) return {};
  p += 2;  // the CRLF before the first delimiter
  p = entity.find(delim, p);
  while (p != std::string_view::npos) {
    const std::size_t after = p + delim.size();
    if (entity.substr(after, 2) == "--") return parts;  // close delimiter
    if (entity.substr(after, 2) != "\r\n") return {};
    const std::size_t begin = after + 2;
    const std::size_t next = entity.find(delim, begin);
    if (next == std::string_view::npos) return {};
    parts.emplace_back(entity.substr(begin, next - begin));
    p = next;
  }
  return {};
}

// The header block of an entity or message (up to and including the CRLF
// of the last field).
inline std::string head_of(std::string_view entity) {
  const std::size_t end = entity.find("\r\n\r\n");
  return std::string(entity.substr(0, end == std::string_view::npos ? 0 : end + 2));
}

struct RunResult {
  int status = -1;  // exit status; -1 when it did not run or was killed
  std::string out;
  std::string err;
};

inline std::string read_whole(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_whole(const std::string& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class GpgHome {
 public:
  GpgHome() {
    char tmpl[] = "/tmp/tlpt-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    path_ = tmpl;
  }
  GpgHome(const GpgHome&) = delete;
  GpgHome& operator=(const GpgHome&) = delete;
  ~GpgHome() {
    if (path_.empty()) return;
    run({"gpgconf", "--homedir", path_, "--kill", "all"}, "");
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::string& path() const { return path_; }

  // gpg --batch in this home, `input` on stdin (through a file).
  RunResult gpg(const std::vector<std::string>& args, std::string_view input = {}) const {
    std::vector<std::string> all = {
        "gpg",      "--homedir",    path_, "--batch",         "--yes",
        "--no-tty", "--passphrase", "",    "--pinentry-mode", "loopback"};
    all.insert(all.end(), args.begin(), args.end());
    const std::string in = path_ + "/stdin.bin";
    write_whole(in, input);
    return run(all, in);
  }

  std::string file(const std::string& name, std::string_view bytes) const {
    const std::string p = path_ + "/" + name;
    write_whole(p, bytes);
    return p;
  }

 private:
  RunResult run(const std::vector<std::string>& args, const std::string& stdin_file) const {
    RunResult r;
    const std::string out_file = path_ + "/run.out";
    const std::string err_file = path_ + "/run.err";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, stdin_file.empty() ? "/dev/null" : stdin_file.c_str(),
                                     O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return r;
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_whole(out_file);
    r.err = read_whole(err_file);
    return r;
  }

  std::string path_;
};

}  // namespace tlpmail::compose::testing
