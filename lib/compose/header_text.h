// Header field text for the messages tlpmail writes: cleaning text from
// people and configuration (no controls, no line breaks, valid UTF-8),
// RFC 2047 encoded-words, RFC 5322 phrases and quoting, folding below 78
// columns, Date values and Message-ID syntax. Pure functions, thread-safe.
// Not here: which fields a message has (copy.cc, notice.cc).
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace tlpmail::compose {

// Text made safe for one header line or one banner line: invalid UTF-8
// becomes U+FFFD; C0 and C1 controls, DEL, U+2028/U+2029 (CR, LF and TAB
// included) become a space; Unicode bidirectional controls (U+061C,
// U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) are removed; runs of
// spaces become one; leading and trailing spaces are dropped.
std::string clean_text(std::string_view s);

// Valid UTF-8 cut to at most `max` bytes without splitting a character;
// "..." is appended when something was cut (the result may then be up to
// max + 3 bytes long).
std::string cut_text(std::string_view s, std::size_t max);

// True when a word must be written as encoded-words: a byte outside
// printable ASCII, or "=?" in it (it would read as an encoded-word).
bool needs_encoding(std::string_view word);

// RFC 2047 encoded-words for valid UTF-8 text: "=?UTF-8?Q?...?=" or
// "=?UTF-8?B?...?=" (B only when Q would be over 20% longer), never
// splitting a character. Q uses only the characters RFC 2047 section 5 (3)
// allows in a phrase. The first word is at most `first_max` characters
// long (at least 20 are used), every other word at most 75. Empty text
// gives no words.
std::vector<std::string> encoded_words(std::string_view text, std::size_t first_max = 75);

// A piece of a header value: written as it is, or (encode) UTF-8 text to
// be written as encoded-words where the line has room for them.
struct Token {
  std::string text;
  bool encode = false;
  bool operator==(const Token&) const = default;
};

// The tokens of an unstructured value (Subject, Content-Description) from
// clean_text() output: words as written, except that runs of words that
// need encoding, and words longer than 75 bytes, become one encoded token
// (the spaces between such words travel inside the encoding). Joining the
// written tokens with single spaces and decoding gives the text back.
std::vector<Token> unstructured_tokens(std::string_view clean);

// A display name or other RFC 5322 phrase from clean_text() output: one
// encoded token when the text needs encoding or is too long for one quoted
// string (over 70 bytes); otherwise a quoted-string ("\" and '"' escaped)
// when `always_quote` is set or a character is not atext; otherwise the
// words as atoms. Empty text gives no tokens.
std::vector<Token> phrase_tokens(std::string_view clean, bool always_quote);

// One header field: "Name: tok tok ...\r\n". A line is broken (CRLF and a
// space) before a token that would take it past 78 columns; encoded tokens
// become encoded-words sized to the room left on the line. Plain tokens
// are never split: with plain tokens of at most 76 bytes every line stays
// within 78 columns, with at most 990 bytes within 998 octets.
std::string header_field(std::string_view name, const std::vector<Token>& tokens);

// header_field for plain tokens only (addresses, parameters, fixed values).
std::string header_field(std::string_view name, const std::vector<std::string>& plain);
std::string header_field(std::string_view name, std::string_view value);

// Base64 (RFC 4648, standard alphabet, '=' padding), one line.
std::string base64_encode(std::string_view data);

// "Sat, 22 Nov 2025 18:51:07 +0000": RFC 5322 date-time in UTC.
std::string rfc5322_date(std::time_t t);

// Message-ID syntax without the angle brackets (RFC 5322 section 3.6.4):
// id-left "@" id-right, id-left made of atext and dots, id-right of atext
// and dots or a "[...]" literal of printable ASCII without "[", "]", "\";
// at most kMaxMessageIdLength bytes.
inline constexpr std::size_t kMaxMessageIdLength = 250;
bool is_message_id(std::string_view id);

// An address for a header (list, admin): CR, LF, other controls, spaces,
// '<', '>', ',' and ';' are removed, so that a misconfigured address can
// never add a header field or a second address.
std::string clean_address(std::string_view address);

}  // namespace tlpmail::compose
