// Wire form and validation of SMTP replies (see reply.h).
#include "smtp/reply.h"

#include "util/text.h"

namespace tlpmail::smtp {

std::string Reply::to_wire() const { return to_string() + "\r\n"; }

std::string Reply::to_string() const {
  std::string out = std::to_string(code);
  if (!enhanced.empty()) {
    out += ' ';
    out += enhanced;
  }
  if (!text.empty()) {
    out += ' ';
    out += text;
  }
  return out;
}

bool is_enhanced_code(std::string_view e, int cls) {
  if (e.size() < 5 || e[0] != static_cast<char>('0' + cls) || e[1] != '.') return false;
  std::string_view rest = e.substr(2);
  const auto dot = rest.find('.');
  return dot != std::string_view::npos && is_digits(rest.substr(0, dot), 1, 3) &&
         is_digits(rest.substr(dot + 1), 1, 3);
}

bool is_valid_reply(const Reply& r) {
  if (r.code < 200 || r.code > 599) return false;
  const int cls = r.code / 100;
  if (cls == 3) return false;
  if (!is_enhanced_code(r.enhanced, cls)) return false;
  for (char c : r.text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return r.to_wire().size() <= kMaxReplyLine;
}

Reply unknown_recipient_reply(std::string_view mailbox) {
  return {550, "5.1.1",
          "<" + std::string(mailbox) +
              ">: Recipient address rejected: not a list address on this server"};
}

}  // namespace tlpmail::smtp
