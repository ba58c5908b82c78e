// A temporary folder for one test, made with mkdtemp and removed with all
// its contents when the object goes. Paths are short (/tmp/tlpt-XXXXXX)
// because gpg-agent puts its sockets inside a home and a socket path is
// limited to 108 bytes. Only test plumbing: nothing under test lives here.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace tlpmail::testing {

class TempDir {
 public:
  // Throws std::runtime_error when mkdtemp fails (the test then fails).
  TempDir() {
    char tmpl[] = "/tmp/tlpt-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

  // The folder, without a trailing slash.
  const std::string& path() const { return path_; }
  // path()/name; the file is not created.
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace tlpmail::testing
