// Test helper shared by the openpgp and keyring tests: runs the real gpg
// command line in a short temporary home to generate, revoke and export
// keys at test time. Test-only: aborts the test (ADD_FAILURE + empty
// result) when gpg fails; never used by the library.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace tlpmail::testkeys {

struct RunOutput {
  int status = -1;  // exit status, -1 when it could not run
  std::string out;  // standard output (standard error is discarded)
};

// Runs argv (no shell) and captures its standard output.
inline RunOutput run(const std::vector<std::string>& args) {
  RunOutput r;
  int fds[2];
  if (::pipe(fds) != 0) return r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return r;
  }
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs gpg --batch on `home` with extra arguments; ADD_FAILURE on error.
inline std::string gpg(const std::string& home, std::vector<std::string> args) {
  std::vector<std::string> all = {"gpg", "--homedir", home, "--batch", "--yes",
                                  "--passphrase", "", "--pinentry-mode", "loopback"};
  all.insert(all.end(), args.begin(), args.end());
  RunOutput r = run(all);
  if (r.status != 0) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    ADD_FAILURE() << "gpg failed (" << r.status << "): " << joined;
  }
  return r.out;
}

// The primary fingerprint of the key with this exact e-mail in `home`.
inline std::string fingerprint_of(const std::string& home, const std::string& email) {
  std::string out = gpg(home, {"--with-colons", "--list-keys", "<" + email + ">"});
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("fpr:", 0) == 0) {
      std::string f = line.substr(0, line.size() - 1);  // trailing ':'
      return f.substr(f.rfind(':') + 1);
    }
  }
  ADD_FAILURE() << "no key for " << email;
  return {};
}

// Generates a primary key; `extra` goes before --quick-gen-key (for
// example {"--faked-system-time", "20200101T000000"}). Returns its fingerprint.
inline std::string generate(const std::string& home, const std::string& uid,
                            const std::string& email, const std::string& algo,
                            const std::string& usage, const std::string& expire,
                            std::vector<std::string> extra = {}) {
  extra.insert(extra.end(), {"--quick-gen-key", uid + " <" + email + ">", algo, usage, expire});
  gpg(home, extra);
  return fingerprint_of(home, email);
}

inline void add_subkey(const std::string& home, const std::string& fpr, const std::string& algo,
                       const std::string& usage, const std::string& expire,
                       std::vector<std::string> extra = {}) {
  extra.insert(extra.end(), {"--quick-add-key", fpr, algo, usage, expire});
  gpg(home, extra);
}

// Imports the revocation certificate gpg made at generation time.
inline void revoke(const std::string& home, const std::string& fpr) {
  std::ifstream in(home + "/openpgp-revocs.d/" + fpr + ".rev");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const std::string marker = ":-----BEGIN PGP PUBLIC KEY BLOCK-----";
  auto pos = text.find(marker);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "no revocation certificate for " << fpr;
    return;
  }
  text.erase(pos, 1);
  const std::string rev = home + "/rev.asc";
  std::ofstream(rev) << text.substr(pos);
  gpg(home, {"--import", rev});
}

// The armored public key.
inline std::string export_public(const std::string& home, const std::string& fpr) {
  return gpg(home, {"--armor", "--export", fpr});
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

}  // namespace tlpmail::testkeys
