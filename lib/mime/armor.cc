// Armor block scanning, the inline shapes and clearsigned_text() (see
// armor.h and mime.h). Works on decoded bytes; no charset handling: the
// armor lines are ASCII.
#include "mime/armor.h"

#include <string>

#include "openpgp/packets.h"
#include "util/text.h"

namespace tlpmail::mime {
namespace {

constexpr std::string_view kBegin = "-----BEGIN PGP ";
constexpr std::string_view kEnd = "-----END PGP ";
constexpr std::string_view kDashes = "-----";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

bool all_space(std::string_view s) {
  for (char c : s) {
    if (!is_space(c)) return false;
  }
  return true;
}

struct Line {
  std::size_t start = 0;     // offset of the line's first byte
  std::size_t next = 0;      // offset of the next line
  std::size_t content = 0;   // offset after leading spaces/tabs
  std::string_view trimmed;  // without leading spaces/tabs and trailing whitespace
};

Line line_at(std::string_view text, std::size_t pos) {
  Line l;
  l.start = pos;
  const std::size_t lf = text.find('\n', pos);
  const std::size_t end = lf == std::string_view::npos ? text.size() : lf;
  l.next = lf == std::string_view::npos ? text.size() : lf + 1;
  std::size_t b = pos;
  while (b < end && (text[b] == ' ' || text[b] == '\t')) ++b;
  std::size_t e = end;
  while (e > b && is_space(text[e - 1])) --e;
  l.content = b;
  l.trimmed = text.substr(b, e - b);
  return l;
}

// The label of "-----BEGIN PGP <label>-----", or "" when the line is not one.
std::string_view begin_label(std::string_view line) {
  if (line.size() <= kBegin.size() + kDashes.size()) return {};
  if (line.substr(0, kBegin.size()) != kBegin) return {};
  if (line.substr(line.size() - kDashes.size()) != kDashes) return {};
  return line.substr(kBegin.size(), line.size() - kBegin.size() - kDashes.size());
}

bool is_end_line(std::string_view line, std::string_view label) {
  return line.size() == kEnd.size() + label.size() + kDashes.size() &&
         line.substr(0, kEnd.size()) == kEnd && line.substr(kEnd.size(), label.size()) == label &&
         line.substr(kEnd.size() + label.size()) == kDashes;
}

ArmorKind kind_of_label(std::string_view label) {
  if (label == "SIGNED MESSAGE") return ArmorKind::signed_message;
  if (label == "MESSAGE" || label.starts_with("MESSAGE, PART ")) return ArmorKind::message;
  if (label == "SIGNATURE") return ArmorKind::signature;
  if (label == "PUBLIC KEY BLOCK") return ArmorKind::public_key;
  if (label == "PRIVATE KEY BLOCK" || label == "SECRET KEY BLOCK") return ArmorKind::private_key;
  return ArmorKind::other;
}

// Finds, from `pos`, the line equal to `wanted` (trimmed). Returns the
// line, or a Line with next == npos when there is none.
Line find_line(std::string_view text, std::size_t pos, std::string_view wanted, bool end_of,
               std::string_view label) {
  while (pos < text.size()) {
    Line l = line_at(text, pos);
    if (end_of ? is_end_line(l.trimmed, label) : l.trimmed == wanted) return l;
    pos = l.next;
  }
  Line none;
  none.next = std::string_view::npos;
  return none;
}

std::string where_text(std::string_view where) { return std::string(where); }

}  // namespace

std::vector<ArmorBlock> find_armor_blocks(std::string_view text) {
  std::vector<ArmorBlock> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const Line l = line_at(text, pos);
    const std::string_view label = begin_label(l.trimmed);
    if (label.empty()) {
      pos = l.next;
      continue;
    }
    ArmorBlock b;
    b.kind = kind_of_label(label);
    b.begin = l.content;
    Line end;
    if (b.kind == ArmorKind::signed_message) {
      const Line sig = find_line(text, l.next, "-----BEGIN PGP SIGNATURE-----", false, {});
      end = sig.next == std::string_view::npos ? sig : find_line(text, sig.next, {}, true, "SIGNATURE");
    } else {
      end = find_line(text, l.next, {}, true, label);
    }
    if (end.next == std::string_view::npos) {
      b.end = text.size();
      b.terminated = false;
      out.push_back(b);
      return out;  // everything after an unterminated BEGIN belongs to it
    }
    b.end = end.content + end.trimmed.size();
    b.terminated = true;
    out.push_back(b);
    pos = end.next;
  }
  return out;
}

Shape classify_inline(std::string_view text, std::string_view where) {
  const std::vector<ArmorBlock> blocks = find_armor_blocks(text);
  const ArmorBlock* first = nullptr;
  int relevant = 0;
  bool any_signed = false;
  for (const ArmorBlock& b : blocks) {
    if (b.kind != ArmorKind::signed_message && b.kind != ArmorKind::message) continue;
    if (!b.terminated) {
      return Malformed{"an inline PGP block in " + where_text(where) + " has no END line"};
    }
    if (b.kind == ArmorKind::signed_message) any_signed = true;
    if (!first) first = &b;
    ++relevant;
  }
  if (relevant == 0) return Plain{};
  if (relevant == 1 && blocks.size() == 1 && all_space(text.substr(0, first->begin)) &&
      all_space(text.substr(first->end))) {
    std::string block(text.substr(first->begin, first->end - first->begin));
    if (first->kind == ArmorKind::signed_message) return InlineClearsigned{std::move(block)};
    return InlineEncrypted{std::move(block)};
  }
  if (any_signed) {
    return PartlySigned{"an inline signed block in " + where_text(where) +
                        " is not the whole message"};
  }
  return PartlyEncrypted{"an inline PGP message in " + where_text(where) +
                         " is not the whole message"};
}

bool looks_like_binary_openpgp_message(std::string_view data) {
  return openpgp::scan_for_encryption(data).is_encrypted();
}

Result<std::string> clearsigned_text(std::string_view block) {
  const auto refuse = [] { return Unexpected(Error::refused("not a clearsigned block")); };
  std::size_t pos = 0;
  Line l = line_at(block, pos);
  if (l.trimmed != "-----BEGIN PGP SIGNED MESSAGE-----" || l.next >= block.size()) return refuse();
  pos = l.next;
  // Armor headers ("Hash: SHA256") up to a blank line.
  int headers = 0;
  for (;;) {
    if (pos >= block.size()) return refuse();
    l = line_at(block, pos);
    pos = l.next;
    if (l.trimmed.empty()) break;
    if (++headers > 16 || l.trimmed.find(':') == std::string_view::npos) return refuse();
  }
  std::string out;
  bool first = true;
  while (pos < block.size()) {
    const std::size_t lf = block.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? block.size() : lf;
    std::string_view line = block.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line) == "-----BEGIN PGP SIGNATURE-----") return out;
    if (line.size() >= 2 && line[0] == '-' && line[1] == ' ') line.remove_prefix(2);
    if (!first) out.push_back('\n');
    out.append(line);
    first = false;
    if (lf == std::string_view::npos) break;
    pos = lf + 1;
  }
  return refuse();
}

}  // namespace tlpmail::mime
