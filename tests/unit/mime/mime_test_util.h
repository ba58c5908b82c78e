// Test helpers for lib/mime: CRLF message building and a throwaway GnuPG
// home (short /tmp path, agent killed and folder removed at the end) that
// runs the real gpg with input from a file on stdin. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/files.h"
#include "support/run.h"
#include "support/temp_dir.h"
#include "support/text.h"

namespace tlpmail::mime::testing {

using ::tlpmail::testing::crlf;
using ::tlpmail::testing::lf_only;
using ::tlpmail::testing::run;
using ::tlpmail::testing::RunResult;

class GpgHome {
 public:
  GpgHome() = default;
  GpgHome(const GpgHome&) = delete;
  GpgHome& operator=(const GpgHome&) = delete;
  ~GpgHome() { run({"gpgconf", "--homedir", path(), "--kill", "all"}); }

  const std::string& path() const { return dir_.path(); }

  // gpg --batch in this home; `input` goes to stdin through a file.
  RunResult gpg(std::vector<std::string> args, std::string_view input = {}) const {
    std::vector<std::string> all = {"gpg", "--homedir", path(), "--batch", "--yes",
                                    "--no-tty", "--passphrase", "", "--pinentry-mode",
                                    "loopback"};
    all.insert(all.end(), args.begin(), args.end());
    const std::string in = dir_.file("stdin.bin");
    ::tlpmail::testing::write_file(in, input);
    return run(all, in);
  }

  // gpg --quick-gen-key `uid` `algo` `usage` never; a test failure (and
  // false) when gpg fails.
  bool generate_key(const std::string& uid, const std::string& algo, const std::string& usage) {
    const RunResult r = gpg({"--quick-gen-key", uid, algo, usage, "never"});
    EXPECT_EQ(r.status, 0) << r.err;
    return r.status == 0;
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
    ::tlpmail::testing::write_file(p, bytes);
    return p;
  }

 private:
  ::tlpmail::testing::TempDir dir_;
};

// A test suite sharing one GpgHome (home_), made before its first test and
// removed after its last; a suite that needs keys adds them in its own
// SetUpTestSuite after calling GpgSuite::SetUpTestSuite().
template <typename Suite>
class GpgSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { home_ = std::make_unique<GpgHome>(); }
  static void TearDownTestSuite() { home_.reset(); }

  static inline std::unique_ptr<GpgHome> home_;
};

}  // namespace tlpmail::mime::testing
