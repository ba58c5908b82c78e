// libFuzzer target: the -request command parser (lib/requests/commands.h)
// on the input as the first text part of a request. Checks its promises:
// at most kMaxCommands commands, the reported line printable ASCII, cut
// to 80 characters and "..." when longer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "requests/commands.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tlpmail;
  const auto parsed = requests::parse_commands(tlpmail::fuzz::as_view(data, size));
  FUZZ_CHECK(parsed.commands.size() <= requests::kMaxCommands);
  for (auto c : parsed.commands) FUZZ_CHECK(!requests::to_string(c).empty());
  if (parsed.stopped_at) {
    FUZZ_CHECK(parsed.stopped_at->size() <= 80 + 3);
    for (unsigned char c : *parsed.stopped_at) FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
  }
  return 0;
}
