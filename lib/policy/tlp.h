// The Traffic Light Protocol as tlpmail's policy: the label type, its order
// (tlpmail's own rule: CLEAR < GREEN < AMBER < AMBER+STRICT < RED; TLP 2.0
// defines audiences, not an order), parsing labels out of subjects and body
// lines, and the distribution decision (docs/tlp.md).
// Pure functions: no I/O, no configuration lookups, no logging. All of them
// are thread-safe (no shared state). The spellings accepted are in docs/tlp.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlpmail::policy {

// The enumerators are ordered: comparing two Tlp values with < or std::max
// follows tlpmail's order, higher is more restrictive.
enum class Tlp { clear = 0, green = 1, amber = 2, amber_strict = 3, red = 4 };

// "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED".
std::string_view to_string(Tlp t);

// "TLP:AMBER": the label as it is written in text.
std::string label_text(Tlp t);

// "[TLP:AMBER]": the label as it opens every copy's Subject (rule 5).
std::string subject_tag(Tlp t);

// One-sentence sharing rule of the label (TLP 2.0 wording, shortened), the
// sentence every copy's banner carries.
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

// --- Mentions: labels plus the spellings that only ever raise a label. ---
//
// A mention is "TLP" (not preceded by an ASCII letter or digit), a non-empty
// separator of spaces, tabs, no-break spaces, ':', '-' or '_', then a label
// name (case-insensitive; AMBER+STRICT also as "AMBER + STRICT", "AMBER
// STRICT", "AMBER-STRICT", "AMBER_STRICT", "AMBER/STRICT", "AMBERSTRICT")
// not followed by an ASCII letter or digit. A mention is a *label* when its
// separator is exactly one ':' with optional blanks around it and the name
// is not followed by '+', '-' or '_'. Everything else ("TLP RED", "TLP-RED", "TLP::RED",
// "TLP:RED-team") is a *loose* mention: tlpmail lets it raise the message's
// label but never lower it (docs/tlp.md, "Why two kinds of match").
struct Mention {
  Tlp label = Tlp::clear;
  bool is_label = false;   // canonical form; false: loose mention
  std::size_t offset = 0;  // byte offset of "TLP" in the text
  std::size_t length = 0;  // bytes up to the end of the name
};

// Every mention in the text, in order of appearance; mentions never overlap.
std::vector<Mention> find_mentions(std::string_view text);

// What a piece of a message says about its label.
struct LabelScan {
  std::optional<Tlp> label;  // most restrictive label (canonical form)
  std::optional<Tlp> loose;  // most restrictive loose mention; raises only

  // Combines two scans (subject and body): the most restrictive of each.
  LabelScan merged(const LabelScan& other) const;
  bool operator==(const LabelScan&) const = default;
};

LabelScan scan_text(std::string_view text);

// How many non-empty lines at the top of a body are searched for a label.
inline constexpr int kBodyHeadLines = 5;

// Scans the first max_lines lines of the body that are not empty or blank
// (spaces, tabs, CR). Lines end at LF; a CR before it is ignored. Quoted
// lines ("> [TLP:RED] ...") count like any other line. max_lines <= 0 scans
// nothing. The body is the decoded text of the message's first text part.
LabelScan scan_body_head(std::string_view body, int max_lines = kBodyHeadLines);

// scan_body_head(body, max_lines).label: the most restrictive label on the
// first non-empty lines of the body.
std::optional<Tlp> label_in_body_head(std::string_view body, int max_lines = kBodyHeadLines);

// Subject (decoded, unfolded) and body head together: rule 1's search.
LabelScan scan_message(std::string_view subject, std::string_view body,
                       int max_lines = kBodyHeadLines);

// The Subject for a copy (rule 5): every label in the subject is removed
// (with its brackets when written "[TLP:X]", and the blanks after it), and
// "[TLP:X] " for the decided label is put first. Loose mentions are left as
// written, and so is any label above the given one (a caller's mistake must
// not erase a higher label: the subject then still reads as the higher one).
// "Re: [TLP:GREEN] Phishing" with AMBER gives "[TLP:AMBER] Re: Phishing";
// an empty result gives "[TLP:AMBER]".
std::string labelled_subject(std::string_view subject, Tlp label);

}  // namespace tlpmail::policy
