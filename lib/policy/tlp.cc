// TLP labels: names, sharing rules, and the scanner that finds labels and
// loose mentions in subjects and body lines. The scanner works on bytes and
// treats only ASCII as letters; UTF-8 text passes through it unharmed (a
// non-ASCII character is never a letter, so "TLP:AMBER—" still matches).
// No allocation beyond the returned vectors and strings.
#include "policy/tlp.h"

#include <array>

#include "util/enum_names.h"
#include "util/text.h"

namespace tlpmail::policy {
namespace {

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Length of a blank at pos: space or tab (1), UTF-8 no-break space (2), else 0.
std::size_t blank_at(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return 0;
  if (s[pos] == ' ' || s[pos] == '\t') return 1;
  if (s[pos] == '\xC2' && pos + 1 < s.size() && s[pos + 1] == '\xA0') return 2;
  return 0;
}

std::size_t skip_blanks(std::string_view s, std::size_t pos) {
  while (std::size_t n = blank_at(s, pos)) pos += n;
  return pos;
}

bool word_at(std::string_view s, std::size_t pos, std::string_view word) {
  return pos + word.size() <= s.size() && iequals(s.substr(pos, word.size()), word);
}

// True when nothing that continues a word follows at pos.
bool ends_word(std::string_view s, std::size_t pos) {
  return pos >= s.size() || !is_ascii_alnum(s[pos]);
}

struct NameMatch {
  Tlp label;
  std::size_t end;  // one past the last byte of the name
};

// The label name at pos, longest spelling first, ending on a word boundary.
std::optional<NameMatch> match_name(std::string_view s, std::size_t pos) {
  if (word_at(s, pos, "AMBER")) {
    // AMBER+STRICT and its variants: AMBER, blanks, at most one joiner, blanks,
    // STRICT. Reading a variant as AMBER would lower the label.
    std::size_t p = skip_blanks(s, pos + 5);
    if (p < s.size() && (s[p] == '+' || s[p] == '-' || s[p] == '_' || s[p] == '/')) {
      p = skip_blanks(s, p + 1);
    }
    if (word_at(s, p, "STRICT") && ends_word(s, p + 6)) return NameMatch{Tlp::amber_strict, p + 6};
    if (ends_word(s, pos + 5)) return NameMatch{Tlp::amber, pos + 5};
    return std::nullopt;
  }
  struct Name {
    std::string_view text;
    Tlp label;
  };
  static constexpr std::array<Name, 4> kNames{{
      {"CLEAR", Tlp::clear},
      {"WHITE", Tlp::clear},  // TLP 1.0
      {"GREEN", Tlp::green},
      {"RED", Tlp::red},
  }};
  for (const Name& n : kNames) {
    if (word_at(s, pos, n.text) && ends_word(s, pos + n.text.size())) {
      return NameMatch{n.label, pos + n.text.size()};
    }
  }
  return std::nullopt;
}

// The mention starting at pos (where "TLP" was found), if any.
std::optional<Mention> mention_at(std::string_view s, std::size_t pos) {
  std::size_t p = pos + 3;
  int colons = 0;
  int dashes = 0;  // '-' and '_'
  while (p < s.size()) {
    if (std::size_t n = blank_at(s, p)) {
      p += n;
    } else if (s[p] == ':') {
      ++colons;
      ++p;
    } else if (s[p] == '-' || s[p] == '_') {
      ++dashes;
      ++p;
    } else {
      break;
    }
  }
  if (p == pos + 3) return std::nullopt;  // "TLPRED", "TLP" at the end
  auto name = match_name(s, p);
  if (!name) return std::nullopt;
  bool trailing_joiner =
      name->end < s.size() && (s[name->end] == '+' || s[name->end] == '-' || s[name->end] == '_');
  Mention m;
  m.label = name->label;
  m.is_label = colons == 1 && dashes == 0 && !trailing_joiner;
  m.offset = pos;
  m.length = name->end - pos;
  return m;
}

}  // namespace

constexpr auto kTlpNames =
    std::to_array<std::string_view>({"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"});
static_assert(util::names_cover(kTlpNames, Tlp::red));
std::string_view to_string(Tlp t) { return util::name_of(kTlpNames, t, "RED"); }

std::string label_text(Tlp t) { return "TLP:" + std::string(to_string(t)); }

std::string subject_tag(Tlp t) { return "[" + label_text(t) + "]"; }

std::string_view sharing_rule(Tlp t) {
  switch (t) {
    case Tlp::clear:
      return "Recipients may share this with anyone, publicly included; only copyright limits it.";
    case Tlp::green:
      return "Recipients may share this within their community (peers and partner "
             "organisations), but not through publicly accessible channels.";
    case Tlp::amber:
      return "Recipients may share this only on a need-to-know basis within their own "
             "organisation and with its clients, to protect them.";
    case Tlp::amber_strict:
      return "Recipients may share this only on a need-to-know basis within their own "
             "organisation, not with its clients.";
    case Tlp::red:
      return "For the named recipients only: no further disclosure to anyone, not even "
             "within their organisation.";
  }
  return sharing_rule(Tlp::red);
}

std::optional<Tlp> parse_name(std::string_view name) {
  struct Name {
    std::string_view text;
    Tlp label;
  };
  static constexpr std::array<Name, 6> kNames{{
      {"CLEAR", Tlp::clear},
      {"WHITE", Tlp::clear},
      {"GREEN", Tlp::green},
      {"AMBER", Tlp::amber},
      {"AMBER+STRICT", Tlp::amber_strict},
      {"RED", Tlp::red},
  }};
  for (const Name& n : kNames) {
    if (iequals(name, n.text)) return n.label;
  }
  return std::nullopt;
}

std::vector<Mention> find_mentions(std::string_view text) {
  std::vector<Mention> out;
  std::size_t pos = 0;
  while (pos + 3 <= text.size()) {
    if (word_at(text, pos, "TLP") && (pos == 0 || !is_ascii_alnum(text[pos - 1]))) {
      if (auto m = mention_at(text, pos)) {
        out.push_back(*m);
        pos += m->length;
        continue;
      }
    }
    ++pos;
  }
  return out;
}

std::vector<Tlp> find_labels(std::string_view text) {
  std::vector<Tlp> out;
  for (const Mention& m : find_mentions(text)) {
    if (m.is_label) out.push_back(m.label);
  }
  return out;
}

std::optional<Tlp> most_restrictive(std::string_view text) { return scan_text(text).label; }

namespace {
void raise_to(std::optional<Tlp>& slot, std::optional<Tlp> t) {
  if (t && (!slot || *slot < *t)) slot = t;
}
}  // namespace

LabelScan LabelScan::merged(const LabelScan& other) const {
  LabelScan out = *this;
  raise_to(out.label, other.label);
  raise_to(out.loose, other.loose);
  return out;
}

LabelScan scan_text(std::string_view text) {
  LabelScan out;
  for (const Mention& m : find_mentions(text)) {
    raise_to(m.is_label ? out.label : out.loose, m.label);
  }
  return out;
}

LabelScan scan_body_head(std::string_view body, int max_lines) {
  LabelScan out;
  int seen = 0;
  std::size_t pos = 0;
  while (seen < max_lines && pos < body.size()) {
    std::size_t nl = body.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? body.size() : nl;
    std::string_view line = body.substr(pos, end - pos);
    pos = nl == std::string_view::npos ? body.size() : nl + 1;
    if (trim(line).empty()) continue;
    ++seen;
    out = out.merged(scan_text(line));
  }
  return out;
}

std::optional<Tlp> label_in_body_head(std::string_view body, int max_lines) {
  return scan_body_head(body, max_lines).label;
}

LabelScan scan_message(std::string_view subject, std::string_view body, int max_lines) {
  return scan_text(subject).merged(scan_body_head(body, max_lines));
}

namespace {
// Appends a piece of the subject, keeping words apart where a label that
// separated them was removed ("Re:[TLP:AMBER]Phishing").
void append_joined(std::string& out, std::string_view piece) {
  if (piece.empty()) return;
  bool out_open = !out.empty() && out.back() != ' ' && out.back() != '\t';
  bool piece_open = piece.front() != ' ' && piece.front() != '\t';
  if (out_open && piece_open) out.push_back(' ');
  out.append(piece);
}
}  // namespace

std::string labelled_subject(std::string_view subject, Tlp label) {
  std::string rest;
  std::size_t copied = 0;  // subject[copied..] not yet copied to rest
  for (const Mention& m : find_mentions(subject)) {
    if (!m.is_label || label < m.label) continue;
    std::size_t begin = m.offset;
    std::size_t end = m.offset + m.length;
    // Brackets around the label go with it: "[TLP:AMBER]", "( TLP:AMBER )".
    std::size_t before = begin;
    while (before > copied && (subject[before - 1] == ' ' || subject[before - 1] == '\t')) --before;
    std::size_t after = end;
    while (after < subject.size() && (subject[after] == ' ' || subject[after] == '\t')) ++after;
    bool bracketed = before > copied && after < subject.size() &&
                     ((subject[before - 1] == '[' && subject[after] == ']') ||
                      (subject[before - 1] == '(' && subject[after] == ')'));
    if (bracketed) {
      begin = before - 1;
      end = after + 1;
    } else if (end < subject.size() && (subject[end] == ':' || subject[end] == '|')) {
      // "TLP:AMBER: text" or "TLP:AMBER - text": the separator goes too.
      std::size_t p = end + 1;
      if (p == subject.size() || subject[p] == ' ' || subject[p] == '\t') end = p;
    } else {
      std::size_t p = skip_blanks(subject, end);
      if (p < subject.size() && (subject[p] == '-' || subject[p] == '|') &&
          (p + 1 == subject.size() || subject[p + 1] == ' ' || subject[p + 1] == '\t')) {
        end = p + 1;
      }
    }
    end = skip_blanks(subject, end);
    append_joined(rest, subject.substr(copied, begin - copied));
    copied = end;
  }
  append_joined(rest, subject.substr(copied));
  // The blanks after each label went with it, so no double blank is left.
  std::string_view body = trim(rest);
  std::string out = subject_tag(label);
  if (!body.empty()) {
    out += ' ';
    out += body;
  }
  return out;
}

}  // namespace tlpmail::policy
