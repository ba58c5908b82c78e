// Plain-text output for tlpmailctl: aligned columns an admin reads at a
// glance (dates come from iso_date() in util/text.h). Widths count UTF-8 code points, so
// names such as "Jürgen" do not shift the columns. No terminal control.
#pragma once

#include <ctime>
#include <string>
#include <vector>

namespace tlpmail::admin {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // REQUIRES: row.size() == number of headers.
  void add(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }

  // Header line, then one line per row; two spaces between columns; the
  // last column is not padded. Every line ends in '\n'.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Number of UTF-8 code points (continuation bytes are not counted).
std::size_t display_width(const std::string& s);

}  // namespace tlpmail::admin
