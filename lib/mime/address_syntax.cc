// The strict address-list check (see address_syntax.h): a tokenizer for
// atoms, quoted strings, domain literals and specials that skips comments
// and whitespace, and a recursive-descent reading of the RFC 5322 grammar.
#include "mime/address_syntax.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace tlpmail::mime {
namespace {

enum class Tok { atom, quoted, literal, special, end, bad };

struct Token {
  Tok kind = Tok::end;
  char special = 0;  // for Tok::special: one of < > @ , : ; .
};

bool is_atext(unsigned char c) {
  if (c >= 0x80) return true;  // UTF-8 (RFC 6532)
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr && c != 0;
}

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  const auto bad = [&out] {
    out.push_back({Tok::bad, 0});
    return out;
  };
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '(') {
      int depth = 0;
      for (; i < s.size(); ++i) {
        if (s[i] == '\\') {
          ++i;
        } else if (s[i] == '(') {
          ++depth;
        } else if (s[i] == ')' && --depth == 0) {
          break;
        }
      }
      if (i >= s.size()) return bad();
      ++i;
    } else if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\') ++i;
      }
      if (i >= s.size()) return bad();
      ++i;
      out.push_back({Tok::quoted, 0});
    } else if (c == '[') {
      for (++i; i < s.size() && s[i] != ']'; ++i) {
        if (s[i] == '[' || s[i] == '\\') return bad();
      }
      if (i >= s.size()) return bad();
      ++i;
      out.push_back({Tok::literal, 0});
    } else if (std::strchr("<>@,:;.", c) != nullptr) {
      out.push_back({Tok::special, static_cast<char>(c)});
      ++i;
    } else if (is_atext(c)) {
      while (i < s.size() && is_atext(static_cast<unsigned char>(s[i]))) ++i;
      out.push_back({Tok::atom, 0});
    } else {
      return bad();
    }
  }
  out.push_back({Tok::end, 0});
  return out;
}

class Reader {
 public:
  explicit Reader(std::vector<Token> t) : t_(std::move(t)) {}

  AddressListSyntax address_list() {
    AddressListSyntax r;
    if (t_.back().kind == Tok::bad) return r;
    if (!address(r)) return r;
    while (is_special(',')) {
      ++pos_;
      if (is_special(',') || at_end()) continue;  // empty list elements are tolerated
      if (!address(r)) return r;
    }
    r.valid = at_end();
    return r;
  }

 private:
  bool at_end() const { return t_[pos_].kind == Tok::end; }
  bool is_special(char c) const { return t_[pos_].kind == Tok::special && t_[pos_].special == c; }
  bool is_word() const { return t_[pos_].kind == Tok::atom || t_[pos_].kind == Tok::quoted; }

  // Moves past the next token when it is of `kind`.
  bool take(Tok kind) {
    if (t_[pos_].kind != kind) return false;
    ++pos_;
    return true;
  }
  // dot-atom (atom *("." atom)) or a single quoted string (local part only).
  bool local_part() { return take(Tok::quoted) || dot_atom(); }
  bool dot_atom() {
    if (!take(Tok::atom)) return false;
    while (is_special('.')) {
      ++pos_;
      if (!take(Tok::atom)) return false;
    }
    return true;
  }
  bool domain() { return take(Tok::literal) || dot_atom(); }
  bool addr_spec() {
    if (!local_part() || !is_special('@')) return false;
    ++pos_;
    return domain();
  }
  bool angle_addr() {
    if (!is_special('<')) return false;
    ++pos_;
    if (!addr_spec() || !is_special('>')) return false;
    ++pos_;
    return true;
  }
  // phrase: one or more words; '.' between words is tolerated (obs-phrase,
  // "J. Smith").
  std::size_t phrase_length() const {
    std::size_t p = pos_;
    while (t_[p].kind == Tok::atom || t_[p].kind == Tok::quoted ||
           (p > pos_ && t_[p].kind == Tok::special && t_[p].special == '.')) {
      ++p;
    }
    return p - pos_;
  }
  bool mailbox(AddressListSyntax& r) {
    if (is_special('<')) {
      if (!angle_addr()) return false;
      ++r.mailboxes;
      return true;
    }
    const std::size_t start = pos_;
    if (addr_spec() && (at_end() || is_special(',') || is_special(';'))) {
      ++r.mailboxes;
      return true;
    }
    pos_ = start;
    const std::size_t n = phrase_length();
    if (n == 0) return false;
    pos_ += n;
    if (!angle_addr()) return false;
    ++r.mailboxes;
    return true;
  }
  bool address(AddressListSyntax& r) {
    const std::size_t start = pos_;
    const std::size_t n = phrase_length();
    if (n > 0 && t_[pos_ + n].kind == Tok::special && t_[pos_ + n].special == ':') {
      pos_ += n + 1;  // group: phrase ":" [mailbox-list] ";"
      ++r.groups;
      if (!is_special(';')) {
        if (!mailbox(r)) return false;
        while (is_special(',')) {
          ++pos_;
          if (!mailbox(r)) return false;
        }
      }
      if (!is_special(';')) return false;
      ++pos_;
      return true;
    }
    pos_ = start;
    return mailbox(r);
  }

  std::vector<Token> t_;
  std::size_t pos_ = 0;
};

}  // namespace

AddressListSyntax check_address_list(std::string_view value) {
  return Reader(tokenize(value)).address_list();
}

}  // namespace tlpmail::mime
