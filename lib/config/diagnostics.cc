// Diagnostic formatting and the Reporter that orders diagnostics by file
// and line (diagnostics.h).
#include "config/diagnostics.h"

#include <algorithm>

namespace tlpmail::config {

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (severity == Severity::warning) out += "warning: ";
  out += message;
  return out;
}

namespace detail {

void Reporter::add_file(const std::string& file) {
  if (std::find(files_.begin(), files_.end(), file) == files_.end()) files_.push_back(file);
}

void Reporter::error(const std::string& file, int line, std::string message) {
  add(Severity::error, file, line, std::move(message));
  ++errors_;
}

void Reporter::warning(const std::string& file, int line, std::string message) {
  add(Severity::warning, file, line, std::move(message));
}

void Reporter::add(Severity s, const std::string& file, int line, std::string message) {
  add_file(file);
  items_.push_back(Diagnostic{s, file, line, std::move(message)});
}

std::vector<Diagnostic> Reporter::sorted() const {
  auto rank = [this](const std::string& file) {
    return std::find(files_.begin(), files_.end(), file) - files_.begin();
  };
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    auto ra = rank(a.file), rb = rank(b.file);
    if (ra != rb) return ra < rb;
    return a.line < b.line;
  });
  return out;
}

}  // namespace detail
}  // namespace tlpmail::config
