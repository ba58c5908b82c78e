// Owning pointers for what GMime and GLib hand out (GObjects, g_malloc'd
// strings, parser options) and a parser over bytes in memory, shared by
// the .cc files of lib/mime that call GMime. Ownership and set-up only: no
// reading of MIME here. Include it from lib/mime .cc files only, so that
// GMime types stay inside this folder.
#pragma once

#include <gmime/gmime.h>

#include <memory>
#include <string_view>

namespace tlpmail::mime {

struct GObjectUnref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <class T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

struct GFree {
  void operator()(void* p) const { g_free(p); }
};
using GChars = std::unique_ptr<char, GFree>;

struct OptionsFree {
  void operator()(GMimeParserOptions* p) const {
    if (p) g_mime_parser_options_free(p);
  }
};
using OptionsPtr = std::unique_ptr<GMimeParserOptions, OptionsFree>;

// A parser in message format over a copy of `bytes`, beside the stream it
// reads (destroyed after the parser).
struct MemoryParser {
  GPtr<GMimeStream> stream;
  GPtr<GMimeParser> parser;
};

inline MemoryParser parser_over(std::string_view bytes) {
  MemoryParser p;
  p.stream.reset(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
  p.parser.reset(g_mime_parser_new_with_stream(p.stream.get()));
  g_mime_parser_set_format(p.parser.get(), GMIME_FORMAT_MESSAGE);
  return p;
}

}  // namespace tlpmail::mime
