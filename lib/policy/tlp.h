// The Traffic Light Protocol as tlpmail's policy: the label type, its order
// (tlpmail's own rule: CLEAR < GREEN < AMBER < AMBER+STRICT < RED; TLP 2.0
// defines audiences, not an order), parsing labels out of subjects and body
// lines, and the distribution decision of DESIGN.md "TLP rules".
// Pure functions: no I/O, no configuration lookups, no logging.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlpmail::policy {

enum class Tlp { clear = 0, green = 1, amber = 2, amber_strict = 3, red = 4 };

// "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED".
std::string_view to_string(Tlp t);

// One-sentence sharing rule of the label (TLP 2.0 wording, shortened).
std::string_view sharing_rule(Tlp t);

// A bare label name as written in configuration: "RED", "amber+strict",
// "WHITE" (reads as CLEAR). Case-insensitive; no "TLP:" prefix, no spaces.
std::optional<Tlp> parse_name(std::string_view name);

// Every TLP label found in free text, in order of appearance: "TLP:AMBER",
// "[TLP:AMBER]", "TLP: AMBER", "tlp:amber", "TLP:AMBER+STRICT", "TLP:WHITE".
// Look-alikes are not labels: "TLP:AMBERX", "XTLP:RED", "TLP:REDACTED".
std::vector<Tlp> find_labels(std::string_view text);

// The most restrictive label in the text, if any.
std::optional<Tlp> most_restrictive(std::string_view text);

}  // namespace tlpmail::policy
