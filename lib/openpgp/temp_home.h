// TempHome: a throwaway GnuPG home for tests and for tlpmailctl's read-only
// commands. Creates a short private folder (/tmp/tlpg-XXXXXX, mode 0700);
// on destruction stops any gpg-agent/keyboxd started for it
// (`gpgconf --homedir H --kill all`) and removes the folder and its contents.
// Not a Context: open one on path() when needed.
#pragma once

#include <filesystem>
#include <string>

#include "util/result.h"

namespace tlpmail::openpgp {

class TempHome {
 public:
  // `pattern` is a mkdtemp template ending in "XXXXXX"; it must be short
  // (the result must pass check_home_path). Errors: permanent for a bad or
  // too long pattern, temporary when mkdtemp fails (errno text).
  static Result<TempHome> create(const std::string& pattern = "/tmp/tlpg-XXXXXX");

  TempHome(TempHome&& other) noexcept;
  TempHome& operator=(TempHome&& other) noexcept;
  TempHome(const TempHome&) = delete;
  TempHome& operator=(const TempHome&) = delete;
  ~TempHome();

  const std::filesystem::path& path() const { return path_; }

 private:
  explicit TempHome(std::filesystem::path path) : path_(std::move(path)) {}
  void destroy() noexcept;

  std::filesystem::path path_;  // empty once moved from
};

// Runs `gpgconf --homedir HOME --kill all` and waits for it (output is
// discarded). Returns false when gpgconf could not be run or failed.
bool kill_gnupg_daemons(const std::filesystem::path& home) noexcept;

}  // namespace tlpmail::openpgp
