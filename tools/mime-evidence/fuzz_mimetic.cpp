// libFuzzer target: parse + walk one input with mimetic 0.9.8 (iterator
// constructor; set MIMETIC_VARIANT=stream for the istream constructor).
// Built with clang++ -fsanitize=fuzzer,address by run.sh, which runs it for
// a bounded time to try to reproduce the leak recorded in docs/decisions.md.
// Not part of tlpmail.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mimetic_walk.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const mime_evidence::Variant variant =
      std::getenv("MIMETIC_VARIANT") && std::string(std::getenv("MIMETIC_VARIANT")) == "stream"
          ? mime_evidence::Variant::kStream
          : mime_evidence::Variant::kIterator;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  mime_evidence::WalkStats st;
  mime_evidence::parse_and_walk(bytes, variant, st);
  return 0;
}
