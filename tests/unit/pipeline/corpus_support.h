// Shared by the pipeline tests that run on the fixture corpus
// (tests/fixtures/make_corpus.py): removing a generated corpus and its
// GnuPG homes. Each suite lays out ROOT/c (the corpus) and ROOT/g (the
// verifier's GnuPG home).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace tlpmail::pipeline::test_support {

// Stops the gpg-agents of ROOT/g and of the corpus homes, then removes ROOT.
inline void remove_corpus_root(const std::filesystem::path& root) {
  const std::string kill =
      "gpgconf --homedir " + (root / "g").string() + " --kill all >/dev/null 2>&1";
  (void)std::system(kill.c_str());
  const std::string remove = "python3 " + std::string(TLPMAIL_SOURCE_DIR) +
                             "/tests/fixtures/make_corpus.py --remove " + (root / "c").string() +
                             " >/dev/null 2>&1";
  (void)std::system(remove.c_str());
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
}

}  // namespace tlpmail::pipeline::test_support
