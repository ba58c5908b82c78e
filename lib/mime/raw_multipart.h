// Locates the parts of a multipart body in the raw input bytes (RFC 2046
// section 5.1.1), so that a signed part can be handed out exactly as it was
// received. Pure byte scanning, no GMime: the caller cross-checks the
// result against GMime's own tree (gmime_parse.cc). Internal to lib/mime.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace tlpmail::mime {

struct RawSpan {
  std::size_t begin = 0;  // offset of the part's first byte in the scanned text
  std::size_t end = 0;    // one past its last byte (the line break before the next delimiter is not in it)
};

struct RawMultipart {
  std::vector<RawSpan> parts;  // in order
  bool closed = false;         // a close delimiter ("--boundary--") ended the last part
};

// Splits text[body_begin, text.size()) with `boundary` (without the
// leading "--"). A delimiter line is "--" boundary, optionally followed by
// spaces, tabs or CR, then LF or the end of the text; a close delimiter is
// "--" boundary "--" followed the same way. Lines before the first
// delimiter are the preamble, after the close delimiter the epilogue; both
// are skipped. The line break (CRLF or LF) before a delimiter belongs to
// the delimiter. This is the same rule GMime 3.2 applies (checked by the
// caller, see docs/mime.md).
RawMultipart split_multipart(std::string_view text, std::size_t body_begin,
                             std::string_view boundary);

// The offset of the first body byte, given the offset of the blank line
// that ends a header block (GMime's g_mime_parser_get_headers_end).
// Returns std::string_view::npos when there is no line break at headers_end.
std::size_t body_begin_after(std::string_view text, std::size_t headers_end);

}  // namespace tlpmail::mime
