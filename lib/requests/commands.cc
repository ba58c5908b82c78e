// parse_commands() (see commands.h).
#include "requests/commands.h"

#include "util/enum_names.h"
#include "util/text.h"

namespace tlpmail::requests {
namespace {

constexpr std::size_t kMaxShown = 80;

std::optional<Command> command_of(std::string_view word) {
  static constexpr std::pair<std::string_view, Command> kWords[] = {
      {"help", Command::help},
      {"key", Command::key},
      {"members", Command::members},
      {"update-key", Command::update_key},
      {"my-key", Command::my_key},
  };
  for (const auto& [name, command] : kWords) {
    if (iequals(word, name)) return command;
  }
  return std::nullopt;
}

std::string shown(std::string_view line) {
  std::string out;
  for (char c : line.substr(0, kMaxShown)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  if (line.size() > kMaxShown) out += "...";
  return out;
}

}  // namespace

constexpr auto kCommandNames =
    std::to_array<std::string_view>({"help", "key", "members", "update-key", "my-key"});
static_assert(util::names_cover(kCommandNames, Command::my_key));
std::string_view to_string(Command c) { return util::name_of(kCommandNames, c, "help"); }

ParsedCommands parse_commands(std::string_view text) {
  ParsedCommands out;
  text = text.substr(0, kMaxText);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::string_view raw = next_line(text, pos);
    if (raw == "-- ") break;  // signature block (RFC 3676 4.3)
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '>') continue;
    const auto command = command_of(line);
    if (!command || out.commands.size() == kMaxCommands) {
      out.stopped_at = shown(line);
      break;
    }
    out.commands.push_back(*command);
  }
  return out;
}

}  // namespace tlpmail::requests
