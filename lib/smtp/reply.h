// SMTP/LMTP replies: a three-digit code, an enhanced status code (RFC 3463,
// RFC 2034) and a text, and their exact wire form. Also the check applied
// to replies that come from outside the session (recipient decisions, spool
// results) so that a malformed reply can never reach the wire.
// Does not decide any reply itself; lib/smtp/session.cc does that.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace tlpmail::smtp {

// The longest reply line RFC 5321 4.5.3.1.5 allows, CRLF included.
inline constexpr std::size_t kMaxReplyLine = 512;

struct Reply {
  int code = 0;          // 200..599
  std::string enhanced;  // "2.1.0"; empty only where RFC 2034 has none (220, 354, EHLO)
  std::string text;      // printable ASCII, no CR/LF

  // "250 2.1.0 Ok\r\n"; without the enhanced code when it is empty and
  // without the text when it is empty.
  std::string to_wire() const;
  // The same line without CRLF ("550 5.7.1 signature is not valid"), for
  // logs, the audit log and reports.
  std::string to_string() const;

  friend bool operator==(const Reply&, const Reply&) = default;
};

// True when the reply may be put on the wire as a final reply from the
// server side (a recipient rejection or a spool result): code 200..599 with
// class 2, 4 or 5; an enhanced code "c.s.d" (subject and detail 1-3 digits)
// whose class c equals the code's first digit; a text of printable ASCII
// and spaces; the whole line at most kMaxReplyLine octets.
bool is_valid_reply(const Reply& r);

// True for an enhanced status code "C.S.D" (RFC 3463: S and D one to three
// digits) whose class C is the digit `cls`.
bool is_enhanced_code(std::string_view e, int cls);

// What the recipient resolver says about one RCPT TO mailbox.
struct RcptDecision {
  bool accepted = false;
  Reply reply;  // the refusal (4xx/5xx) when !accepted; unused when accepted

  static RcptDecision accept() { return {true, {}}; }
  static RcptDecision reject(Reply r) { return {false, std::move(r)}; }
};

// The refusal for a RCPT TO that names no list on this server:
//   550 5.1.1 <MAILBOX>: Recipient address rejected: not a list address on this server
// (which addresses are lists is the caller's business: Directory).
Reply unknown_recipient_reply(std::string_view mailbox);

}  // namespace tlpmail::smtp
