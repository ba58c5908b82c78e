// Syntax checks for e-mail addresses and fingerprints (address.h). Kept
// deliberately narrower than RFC 5322: a configuration address that needs
// quoting or a domain literal is far more likely a typo than a real member.
#include "directory/address.h"

#include <string>

namespace tlpmail::directory {
namespace {

constexpr std::size_t kMaxLocalPart = 64;  // RFC 5321 4.5.3.1.1
constexpr std::size_t kMaxDomain = 253;    // RFC 1035, without the root dot
constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kFingerprintDigits = 40;

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext.
bool is_atext(char c) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return is_alnum(c) || kSpecials.find(c) != std::string_view::npos;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// How a character is named in a reason: 'x', or a word for the invisible.
std::string describe_char(char c) {
  switch (c) {
    case ' ':
      return "a space";
    case '\t':
      return "a tab";
    case '\n':
    case '\r':
      return "a line break";
    default:
      break;
  }
  auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u == 0x7f) return "a control character";
  if (u >= 0x80) return "a non-ASCII character";
  return std::string("'") + c + "'";
}

std::optional<std::string> local_part_problem(std::string_view local) {
  if (local.empty()) return "the local part before '@' is empty";
  if (local.size() > kMaxLocalPart) return "the local part is longer than 64 characters";
  for (char c : local) {
    if (c != '.' && !is_atext(c)) {
      return describe_char(c) + " is not allowed in the local part";
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return "the local part may not start or end with a dot or contain two dots in a row";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> domain_problem(std::string_view domain) {
  if (domain.empty()) return "it is empty";
  if (domain.size() > kMaxDomain) return "the domain is longer than 253 characters";
  for (char c : domain) {
    if (c != '.' && c != '-' && !is_alnum(c)) {
      return describe_char(c) + " is not allowed in the domain";
    }
  }
  if (domain.find('.') == std::string_view::npos) return "the domain needs at least one dot";
  std::size_t start = 0;
  while (start <= domain.size()) {
    std::size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    std::string_view label = domain.substr(start, dot - start);
    if (label.empty()) return "the domain has an empty label (a leading, trailing or double dot)";
    if (label.size() > kMaxLabel) return "a domain label is longer than 63 characters";
    if (label.front() == '-' || label.back() == '-') {
      return "a domain label may not start or end with a hyphen";
    }
    start = dot + 1;
  }
  return std::nullopt;
}

std::optional<std::string> address_problem(std::string_view address) {
  if (address.empty()) return "the address is empty";
  auto at = address.rfind('@');
  if (at == std::string_view::npos) return "it has no '@'";
  std::string_view local = address.substr(0, at);
  std::string_view domain = address.substr(at + 1);
  if (local.find('@') != std::string_view::npos) return "it has more than one '@'";
  if (auto p = local_part_problem(local)) return p;
  if (domain.empty()) return "the domain after '@' is empty";
  return domain_problem(domain);
}

Result<std::string> normalize_fingerprint(std::string_view text) {
  std::string out;
  out.reserve(kFingerprintDigits);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ') continue;
    if (!is_hex(c)) {
      return Unexpected(Error::permanent("fingerprint must be 40 hex digits, got " +
                                         describe_char(c) + " at position " +
                                         std::to_string(i + 1)));
    }
    out += (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  if (out.size() != kFingerprintDigits) {
    std::string msg = "fingerprint must be 40 hex digits, got " + std::to_string(out.size());
    if (out.size() == 8 || out.size() == 16) msg += " (a key ID is not a fingerprint)";
    return Unexpected(Error::permanent(std::move(msg)));
  }
  return out;
}

}  // namespace tlpmail::directory
