// Test helpers for lib/mime: CRLF message building and a throwaway GnuPG
// home (short /tmp path, agent killed and folder removed at the end) that
// runs the real gpg with input from a file on stdin. Test-only.
#pragma once

#include <fcntl.h>
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

#include <gtest/gtest.h>

#include "support/temp_dir.h"

extern char** environ;

namespace tlpmail::mime::testing {

// "\n" -> "\r\n" (input must not contain CR).
inline std::string crlf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

// Removes every CR.
inline std::string lf_only(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '\r') out.push_back(c);
  }
  return out;
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

// Runs argv (no shell) with stdin from `stdin_file` ("" = /dev/null),
// stdout and stderr into files beside it.
inline RunResult run(const std::vector<std::string>& args, const std::string& dir,
                     const std::string& stdin_file) {
  RunResult r;
  const std::string out_file = dir + "/run.out";
  const std::string err_file = dir + "/run.err";
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

class GpgHome {
 public:
  GpgHome() = default;
  GpgHome(const GpgHome&) = delete;
  GpgHome& operator=(const GpgHome&) = delete;
  ~GpgHome() { run({"gpgconf", "--homedir", path(), "--kill", "all"}, path(), ""); }

  const std::string& path() const { return dir_.path(); }

  // gpg --batch in this home; `input` goes to stdin through a file.
  RunResult gpg(std::vector<std::string> args, std::string_view input = {}) const {
    std::vector<std::string> all = {"gpg", "--homedir", path(), "--batch", "--yes",
                                    "--no-tty", "--passphrase", "", "--pinentry-mode",
                                    "loopback"};
    all.insert(all.end(), args.begin(), args.end());
    const std::string in = dir_.file("stdin.bin");
    write_whole(in, input);
    return run(all, path(), in);
  }

  // Armored detached signature over exactly `bytes`, SHA-256, by `signer`
  // (the default key when empty); a test failure when gpg fails.
  std::string detach_sign(std::string_view bytes, const std::string& signer = "") const {
    std::vector<std::string> args = {"--armor", "--detach-sign", "--digest-algo", "SHA256"};
    if (!signer.empty()) args.insert(args.end(), {"-u", signer});
    args.insert(args.end(), {"-o", "-"});
    const RunResult r = gpg(std::move(args), bytes);
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  }

  // `gpg --verify SIG -` with `data` on stdin: a good signature.
  bool verifies(const std::string& signature, std::string_view data) const {
    const std::string sig = file("sig.asc", signature);
    const RunResult r = gpg({"--verify", sig, "-"}, data);
    return r.status == 0 && r.err.find("Good signature") != std::string::npos;
  }

  std::string file(const std::string& name, std::string_view bytes) const {
    const std::string p = dir_.file(name);
    write_whole(p, bytes);
    return p;
  }

 private:
  ::tlpmail::testing::TempDir dir_;
};

}  // namespace tlpmail::mime::testing
