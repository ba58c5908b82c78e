// libFuzzer target: parse + walk one input with GMime 3 (persistent mem
// stream, as tlpmail would). Built with clang -fsanitize=fuzzer,address by
// run.sh and run for a bounded time, the same budget as the mimetic target.
// Not part of tlpmail.
#include <cstdint>

#include "gmime_walk.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_mime_init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mime_evidence::GmimeWalkStats st;
  mime_evidence::gmime_parse_and_walk(reinterpret_cast<const char*>(data), size, true, st);
  return 0;
}
