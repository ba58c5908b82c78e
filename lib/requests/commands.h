// The commands of a message to LIST-request@: lines of its first text part
// (docs/requests.md). Case-insensitive, one per line; blank lines, quoted
// lines ("> ...") and everything after a signature separator ("-- ") are
// ignored; the first line that is not a known command stops processing
// (it is reported back, cut and cleaned). Pure: no I/O, bounded work.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlpmail::requests {

enum class Command {
  help,        // what the commands are
  key,         // the list's public key
  members,     // the list's members: names, organizations, countries (members only)
  update_key,  // replace the key the list holds for the sender by the attached one
  my_key,      // the key the list holds for the sender
};

// "help", "key", "members", "update-key", "my-key".
std::string_view to_string(Command c);

// At most this many commands are read; more stop processing like an
// unknown line.
inline constexpr std::size_t kMaxCommands = 20;
// Only this much of the text is looked at.
inline constexpr std::size_t kMaxText = std::size_t{64} * 1024;

struct ParsedCommands {
  std::vector<Command> commands;  // in order (a command given twice counts twice)
  // The first line that is not a command, at most 80 characters of
  // printable ASCII (others become '?'), then "..." when it was longer;
  // nullopt when every line was read.
  std::optional<std::string> stopped_at;
};

ParsedCommands parse_commands(std::string_view text);

}  // namespace tlpmail::requests
