// Raw multipart splitting and line-ending canonicalisation (see
// raw_multipart.h). Works on offsets into the caller's bytes; copies nothing.
#include "mime/raw_multipart.h"

#include <string>

#include "mime/mime.h"
#include "util/text.h"

namespace tlpmail::mime {
namespace {

enum class LineKind { other, delimiter, close };

bool only_lwsp(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// `line` excludes its LF.
LineKind classify_line(std::string_view line, std::string_view boundary) {
  if (line.size() < boundary.size() + 2 || line[0] != '-' || line[1] != '-') return LineKind::other;
  if (line.substr(2, boundary.size()) != boundary) return LineKind::other;
  std::string_view rest = line.substr(2 + boundary.size());
  if (rest.size() >= 2 && rest[0] == '-' && rest[1] == '-' && only_lwsp(rest.substr(2))) {
    return LineKind::close;
  }
  return only_lwsp(rest) ? LineKind::delimiter : LineKind::other;
}

// End of a part whose delimiter line starts at `line_start`: the line break
// before the delimiter belongs to the delimiter.
std::size_t part_end(std::string_view text, std::size_t part_begin, std::size_t line_start) {
  std::size_t end = line_start;
  if (end > part_begin && text[end - 1] == '\n') {
    --end;
    if (end > part_begin && text[end - 1] == '\r') --end;
  }
  return end;
}

}  // namespace

RawMultipart split_multipart(std::string_view text, std::size_t body_begin,
                             std::string_view boundary) {
  RawMultipart out;
  if (boundary.empty() || body_begin > text.size()) return out;
  bool in_part = false;
  std::size_t part_begin = 0;
  std::size_t pos = body_begin;
  while (pos < text.size()) {
    const std::size_t lf = text.find('\n', pos);
    const std::size_t line_end = lf == std::string_view::npos ? text.size() : lf;
    const std::size_t next = lf == std::string_view::npos ? text.size() : lf + 1;
    const LineKind kind = classify_line(text.substr(pos, line_end - pos), boundary);
    if (kind != LineKind::other) {
      if (in_part) out.parts.push_back({part_begin, part_end(text, part_begin, pos)});
      if (kind == LineKind::close) {
        out.closed = true;
        return out;
      }
      in_part = true;
      part_begin = next;
    }
    pos = next;
  }
  if (in_part) out.parts.push_back({part_begin, text.size()});
  return out;
}

std::size_t body_begin_after(std::string_view text, std::size_t headers_end) {
  if (headers_end < text.size() && text[headers_end] == '\n') return headers_end + 1;
  if (headers_end + 1 < text.size() && text[headers_end] == '\r' && text[headers_end + 1] == '\n') {
    return headers_end + 2;
  }
  return std::string_view::npos;
}

std::string to_canonical_crlf(std::string_view bytes) { return to_crlf(bytes); }

}  // namespace tlpmail::mime
