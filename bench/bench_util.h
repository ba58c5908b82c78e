// Helpers shared by the benchmarks in bench/ (not a library, not tests):
// running the gpg binary to set up keys (through the tests' process
// runner, tests/support/run.h), and wall-clock milliseconds.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "../tests/support/run.h"

namespace tlpmail::bench {

// Runs gpg on `home` with `args` (no shell, batch, no passphrase, trust
// model always); returns standard output ("" when gpg cannot be started).
inline std::string gpg(const std::string& home, std::vector<std::string> args) {
  args.insert(args.begin(), {"gpg", "--homedir", home, "--batch", "--yes", "--trust-model",
                             "always", "--pinentry-mode", "loopback", "--passphrase", ""});
  return testing::run(args).out;
}

inline double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace tlpmail::bench
