// Collects the configuration's diagnostics while the files are read, and
// hands them back sorted by file (in the order the files were first
// named) and then by line, keeping the order of equal positions stable.
// Internal to lib/config; not thread-safe (one Reporter per load).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace tlpmail::config::detail {

class Reporter {
 public:
  // Fixes the position of a file in the output; files first named by a
  // diagnostic come after every file named before them.
  void add_file(const std::string& file);
  void error(const std::string& file, int line, std::string message);
  void warning(const std::string& file, int line, std::string message);
  bool has_errors() const { return errors_ > 0; }
  std::vector<Diagnostic> sorted() const;

 private:
  void add(Severity s, const std::string& file, int line, std::string message);
  std::vector<std::string> files_;
  std::vector<Diagnostic> items_;
  int errors_ = 0;
};

// The diagnostics of one file.
class FileReporter {
 public:
  FileReporter(Reporter& reporter, std::string file) : reporter_(reporter), file_(std::move(file)) {
    reporter_.add_file(file_);
  }
  const std::string& file() const { return file_; }
  void error(int line, std::string message) { reporter_.error(file_, line, std::move(message)); }
  void warning(int line, std::string message) {
    reporter_.warning(file_, line, std::move(message));
  }

 private:
  Reporter& reporter_;
  std::string file_;
};

}  // namespace tlpmail::config::detail
