// A throwaway GnuPG home with one test key (passphrase "pw"), for tests
// that need real OpenPGP bytes written by the gpg program: ciphertext,
// signatures, exported keys. Runs gpg without a shell and kills the home's
// agent when the object goes. Only plumbing: nothing under test lives here.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "support/run.h"
#include "support/temp_dir.h"

namespace tlpmail::testing {

class GpgCli {
 public:
  // Generates a never-expiring key for `uid` ("Name <address>") with gpg's
  // default algorithms; a test failure when gpg fails.
  explicit GpgCli(const std::string& uid) {
    const RunResult r =
        gpg({"--quick-gen-key", uid, "future-default", "default", "never"}, std::nullopt);
    EXPECT_EQ(r.status, 0) << r.err;
  }
  ~GpgCli() { run({"gpgconf", "--homedir", dir_.path(), "--kill", "all"}); }
  GpgCli(const GpgCli&) = delete;
  GpgCli& operator=(const GpgCli&) = delete;

  // gpg in this home, writing to standard output; `input` (when given) is
  // written to a file whose name ends the argument list.
  RunResult gpg(std::vector<std::string> args, const std::optional<std::string>& input) {
    std::vector<std::string> all = {"gpg",          "--homedir", dir_.path(),       "--batch",
                                    "--yes",        "--no-tty",  "--pinentry-mode", "loopback",
                                    "--passphrase", "pw",        "--trust-model",   "always",
                                    "-o",           "-"};
    all.insert(all.end(), args.begin(), args.end());
    if (input) {
      const std::string in = dir_.file("in");
      std::ofstream(in, std::ios::binary | std::ios::trunc) << *input;
      all.push_back(in);
    }
    return run(all);
  }

  // Standard output of a gpg command that must succeed (a test failure
  // otherwise).
  std::string out(std::vector<std::string> args, const std::optional<std::string>& input) {
    const RunResult r = gpg(std::move(args), input);
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  }

 private:
  TempDir dir_;
};

}  // namespace tlpmail::testing
