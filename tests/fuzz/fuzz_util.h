// Helpers shared by the libFuzzer targets in tests/fuzz: the split header
// that lets an input choose how a byte stream is cut into feed() calls and
// the feeding itself, a check that aborts (a finding) when a promised
// invariant breaks, and the GMime set-up of the MIME targets. Test code
// only; nothing here is linked into tlpmail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace tlpmail::fuzz {

// LLVMFuzzerInitialize of the targets that parse MIME: GMime is set up once,
// before the first input (the target includes mime/mime.h).
#define TLPMAIL_FUZZ_INITIALIZE_MIME()                 \
  extern "C" int LLVMFuzzerInitialize(int*, char***) { \
    ::tlpmail::mime::initialize();                     \
    return 0;                                          \
  }

// A broken promise: print what and where, then abort so that libFuzzer
// keeps the input as a crash file.
[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "FUZZ INVARIANT BROKEN: %s (%s:%d)\n", what, file, line);
  std::abort();
}

#define FUZZ_CHECK(cond)                                           \
  do {                                                             \
    if (!(cond)) ::tlpmail::fuzz::fail(#cond, __FILE__, __LINE__); \
  } while (0)

// Prints where two texts that should be equal first differ (escaped), for
// the report of a broken differential check.
inline void show_difference(const char* name_a, std::string_view a, const char* name_b,
                            std::string_view b) {
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  auto show = [i](const char* name, std::string_view s) {
    const std::size_t from = i > 60 ? i - 60 : 0;
    std::fprintf(stderr, "%s at byte %zu: ", name, i);
    for (std::size_t k = from; k < s.size() && k < i + 120; ++k) {
      const unsigned char c = static_cast<unsigned char>(s[k]);
      if (c >= 0x20 && c < 0x7f) {
        std::fputc(c, stderr);
      } else {
        std::fprintf(stderr, "\\x%02x", c);
      }
    }
    std::fputc('\n', stderr);
  };
  show(name_a, a);
  show(name_b, b);
}

// Inputs of the stream targets (fuzz_smtp_server, fuzz_smtp_client):
//   byte 0      flags, read by the target
//   byte 1      n, the number of split lengths (taken mod 16)
//   n bytes     split lengths, used in turn and cyclically; 0 means 256
//   the rest    the byte stream
// With n == 0 the stream is fed in one piece.
struct SplitInput {
  std::uint8_t flags = 0;
  std::vector<std::size_t> lengths;
  std::string_view stream;
  bool valid = false;
};

inline SplitInput read_split_input(const std::uint8_t* data, std::size_t size) {
  SplitInput in;
  if (size < 2) return in;
  in.flags = data[0];
  const std::size_t n = data[1] % 16;
  if (size < 2 + n) return in;
  for (std::size_t i = 0; i < n; ++i) in.lengths.push_back(data[2 + i] == 0 ? 256 : data[2 + i]);
  in.stream = std::string_view(reinterpret_cast<const char*>(data) + 2 + n, size - 2 - n);
  in.valid = true;
  return in;
}

// The pieces of `in.stream` in order, cut by the split lengths.
inline std::vector<std::string_view> pieces(const SplitInput& in) {
  std::vector<std::string_view> out;
  std::string_view rest = in.stream;
  std::size_t i = 0;
  while (!rest.empty()) {
    std::size_t len = in.lengths.empty() ? rest.size() : in.lengths[i++ % in.lengths.size()];
    if (len > rest.size()) len = rest.size();
    out.push_back(rest.substr(0, len));
    rest.remove_prefix(len);
  }
  return out;
}

// Feeds the stream of `in` to a sans-I/O machine (smtp::Session,
// smtp::ClientSession): cut into pieces when `split`, else in one piece.
// `drain` runs first and after every feed; feeding stops once the machine
// wants the connection closed.
template <class Machine, class Drain>
void feed_stream(Machine& m, const SplitInput& in, bool split, Drain&& drain) {
  drain();
  if (split) {
    for (std::string_view piece : pieces(in)) {
      if (m.wants_close()) break;
      m.feed(piece);
      drain();
    }
  } else if (!in.stream.empty()) {
    m.feed(in.stream);
    drain();
  }
}

// The differential check of the stream targets: `run(in, split)` traces
// the input fed in the pieces it chooses (split) and in one piece;
// `comparable(in, trace)` says whether a run may be compared at all (not
// across a TLS handshake); `check(split, whole)` compares the two traces.
// Inputs too short for the split header are skipped.
template <class Run, class Comparable, class Check>
int split_and_whole(const std::uint8_t* data, std::size_t size, Run&& run, Comparable&& comparable,
                    Check&& check) {
  const SplitInput in = read_split_input(data, size);
  if (!in.valid) return 0;
  const auto split = run(in, true);
  if (!comparable(in, split)) return 0;
  const auto whole = run(in, false);
  if (!comparable(in, whole)) return 0;
  check(split, whole);
  return 0;
}

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace tlpmail::fuzz
