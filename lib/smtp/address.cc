// RFC 5321 path, mailbox and ESMTP parameter syntax (see address.h).
// Strict on purpose: anything outside the grammar is refused, never repaired.
#include "smtp/address.h"

#include "util/text.h"

namespace tlpmail::smtp {

namespace {

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_let_dig(char c) { return is_alpha(c) || is_digit(c); }

// RFC 5322 atext.
bool is_atext(char c) {
  if (is_let_dig(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

// Dot-string = Atom *("." Atom)
bool is_dot_string(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!is_atext(c)) {
      return false;
    }
    prev = c;
  }
  return true;
}

// Quoted-string = DQUOTE *(qtextSMTP / quoted-pairSMTP) DQUOTE
bool is_quoted_string(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      if (i + 2 >= s.size()) return false;  // the escaped char may not be the closing quote
      const char q = s[++i];
      if (q < 32 || q > 126) return false;
    } else if (c == '"' || c < 32 || c > 126) {
      return false;
    }
  }
  return true;
}

// Position of the '@' that separates local part and domain, or npos.
std::size_t split_at(std::string_view mailbox) {
  if (!mailbox.empty() && mailbox.front() == '"') {
    for (std::size_t i = 1; i < mailbox.size(); ++i) {
      if (mailbox[i] == '\\') {
        ++i;
      } else if (mailbox[i] == '"') {
        return (i + 1 < mailbox.size() && mailbox[i + 1] == '@') ? i + 1 : std::string_view::npos;
      }
    }
    return std::string_view::npos;
  }
  return mailbox.find('@');
}

enum class MailboxCheck { ok, bad, too_long };

MailboxCheck check_mailbox(std::string_view mailbox) {
  const std::size_t at = split_at(mailbox);
  if (at == std::string_view::npos) return MailboxCheck::bad;
  const std::string_view local = mailbox.substr(0, at);
  const std::string_view domain = mailbox.substr(at + 1);
  const bool local_ok = local.front() == '"' ? is_quoted_string(local) : is_dot_string(local);
  if (!local_ok || domain.empty()) return MailboxCheck::bad;
  if (local.size() > kMaxLocalPart || domain.size() > kMaxDomain) return MailboxCheck::too_long;
  if (!is_valid_domain(domain)) return MailboxCheck::bad;
  return MailboxCheck::ok;
}

// A-d-l = At-domain *( "," At-domain ), At-domain = "@" Domain
bool is_source_route(std::string_view route) {
  if (route.empty()) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = route.find(',', start);
    const std::string_view hop =
        route.substr(start, comma == std::string_view::npos ? route.npos : comma - start);
    if (hop.size() < 2 || hop.front() != '@' || !is_valid_domain(hop.substr(1))) return false;
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
bool is_esmtp_keyword(std::string_view s) {
  if (s.empty() || !is_let_dig(s.front())) return false;
  for (char c : s) {
    if (!is_let_dig(c) && c != '-') return false;
  }
  return true;
}

// esmtp-value = 1*(%d33-60 / %d62-126)
bool is_esmtp_value(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 33 || c > 126 || c == '=') return false;
  }
  return true;
}

bool parse_params(std::string_view rest, std::vector<EsmtpParam>& out) {
  if (rest.empty()) return true;
  if (rest.front() != ' ') return false;
  std::size_t pos = 0;
  while (pos < rest.size()) {
    if (rest[pos] == ' ') {
      ++pos;
      continue;
    }
    std::size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view token = rest.substr(pos, end - pos);
    const std::size_t eq = token.find('=');
    EsmtpParam p;
    const std::string_view keyword = token.substr(0, eq);
    if (!is_esmtp_keyword(keyword)) return false;
    p.keyword = ascii_upper(keyword);
    if (eq != std::string_view::npos) {
      const std::string_view value = token.substr(eq + 1);
      if (!is_esmtp_value(value)) return false;
      p.value = std::string(value);
      p.has_value = true;
    }
    out.push_back(std::move(p));
    pos = end;
  }
  return true;
}

}  // namespace

bool is_valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > kMaxDomain) return false;
  if (domain.front() == '[') {
    // address-literal; the content is dcontent (%d33-90 / %d94-126).
    if (domain.size() < 3 || domain.back() != ']') return false;
    for (char c : domain.substr(1, domain.size() - 2)) {
      if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']') return false;
    }
    return true;
  }
  std::size_t start = 0;
  while (true) {
    std::size_t dot = domain.find('.', start);
    const std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? domain.npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (!is_let_dig(label.front()) || !is_let_dig(label.back())) return false;
    for (char c : label) {
      if (!is_let_dig(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_valid_mailbox(std::string_view mailbox) {
  return !mailbox.empty() && check_mailbox(mailbox) == MailboxCheck::ok;
}

Result<PathArgument, PathError> parse_path_argument(std::string_view args, PathKind kind) {
  const std::string_view prefix = kind == PathKind::reverse ? "FROM:" : "TO:";
  if (args.size() < prefix.size() || !iequals(args.substr(0, prefix.size()), prefix)) {
    return Unexpected(PathError::missing_prefix);
  }
  args.remove_prefix(prefix.size());
  // RFC 5321 has no space here; many clients send one. Tolerated, as
  // Postfix and OpenSMTPD do: it cannot change the meaning of the path.
  while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
  if (args.empty() || args.front() != '<') return Unexpected(PathError::missing_prefix);

  // The closing '>' is the first one outside a quoted local part.
  std::size_t close = std::string_view::npos;
  bool quoted = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const char c = args[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '>') {
      close = i;
      break;
    }
  }
  if (close == std::string_view::npos) return Unexpected(PathError::bad_address);
  if (close + 1 > kMaxPath) return Unexpected(PathError::too_long);

  PathArgument out;
  if (!parse_params(args.substr(close + 1), out.params))
    return Unexpected(PathError::bad_parameters);

  std::string_view path = args.substr(1, close - 1);
  if (path.empty()) {
    if (kind == PathKind::reverse) return out;  // the null reverse-path <>
    return Unexpected(PathError::bad_address);
  }
  if (path.front() == '@') {
    const std::size_t colon = path.find(':');
    if (colon == std::string_view::npos || !is_source_route(path.substr(0, colon))) {
      return Unexpected(PathError::bad_address);
    }
    path.remove_prefix(colon + 1);
  }
  if (kind == PathKind::forward && iequals(path, "postmaster")) {
    out.mailbox = std::string(path);
    return out;
  }
  if (path.empty()) return Unexpected(PathError::bad_address);
  switch (check_mailbox(path)) {
    case MailboxCheck::ok:
      break;
    case MailboxCheck::bad:
      return Unexpected(PathError::bad_address);
    case MailboxCheck::too_long:
      return Unexpected(PathError::too_long);
  }
  out.mailbox = std::string(path);
  return out;
}

}  // namespace tlpmail::smtp
