// Test helper shared by the openpgp and keyring tests: short temporary
// GnuPG homes, and the real gpg command line run in them to generate,
// revoke and export keys at test time. Test-only: fails the test
// (ADD_FAILURE + empty result) when gpg fails; never used by the library.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "openpgp/temp_home.h"
#include "support/files.h"
#include "support/run.h"

namespace tlpmail::testkeys {

using ::tlpmail::testing::read_file;
using ::tlpmail::testing::run;
using ::tlpmail::testing::RunResult;

// A fresh GnuPG home for a test (openpgp::TempHome: gpg-agent stopped and
// folder removed when it goes); nullptr and a test failure when it cannot
// be made.
inline std::unique_ptr<openpgp::TempHome> new_home(
    const std::string& pattern = "/tmp/tlpt-XXXXXX") {
  auto h = openpgp::TempHome::create(pattern);
  EXPECT_TRUE(h) << (h ? "" : h.error().message);
  return h ? std::make_unique<openpgp::TempHome>(std::move(*h)) : nullptr;
}

// Runs gpg --batch on `home` with extra arguments; ADD_FAILURE on error.
inline std::string gpg(const std::string& home, std::vector<std::string> args) {
  std::vector<std::string> all = {"gpg", "--homedir", home, "--batch", "--yes",
                                  "--passphrase", "", "--pinentry-mode", "loopback"};
  all.insert(all.end(), args.begin(), args.end());
  RunResult r = run(all);
  if (r.status != 0) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    ADD_FAILURE() << "gpg failed (" << r.status << "): " << joined << "\n" << r.err;
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
  std::string text = ::tlpmail::testing::read_file(home + "/openpgp-revocs.d/" + fpr + ".rev");
  const std::string marker = ":-----BEGIN PGP PUBLIC KEY BLOCK-----";
  auto pos = text.find(marker);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "no revocation certificate for " << fpr;
    return;
  }
  text.erase(pos, 1);
  const std::string rev = home + "/rev.asc";
  ::tlpmail::testing::write_file(rev, text.substr(pos));
  gpg(home, {"--import", rev});
}

// The armored public key.
inline std::string export_public(const std::string& home, const std::string& fpr) {
  return gpg(home, {"--armor", "--export", fpr});
}

// gpg --with-colons output as records: one per line, each the line's
// ':'-separated fields (a trailing ':' gives a last empty field).
inline std::vector<std::vector<std::string>> colon_records(const std::string& colons) {
  std::vector<std::vector<std::string>> out;
  std::istringstream lines(colons);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    for (std::size_t p = 0;;) {
      const std::size_t q = line.find(':', p);
      f.push_back(line.substr(p, q == std::string::npos ? std::string::npos : q - p));
      if (q == std::string::npos) break;
      p = q + 1;
    }
    out.push_back(std::move(f));
  }
  return out;
}

// Writes `text` to `path`; a test failure when that fails.
inline void write_file(const std::string& path, const std::string& text) {
  if (!::tlpmail::testing::write_file(path, text)) ADD_FAILURE() << "cannot write " << path;
}

}  // namespace tlpmail::testkeys
