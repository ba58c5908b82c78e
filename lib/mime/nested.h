// Finds ciphertext inside the content of one MIME part the ways a reader's
// client could meet it: an armor marker anywhere in the text (any spacing,
// line ends, markup or character references), an armored block of any
// label holding an encrypted message, binary OpenPGP after leading
// packets, DER S/MIME enveloped data. Pure, no GMime; decrypts nothing.
// Internal to lib/mime. Rules: docs/mime.md, "Nested ciphertext".
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace tlpmail::mime {

// Counts occurrences of the armor marker "-----BEGIN PGP MESSAGE" in a
// stream of bytes fed in pieces. Case is ignored and every byte that is not
// printable ASCII (space, tab, CR, LF, NUL, any byte >= 0x7F) is skipped, so
// the marker is found after leading text on its line, across CR-only or
// any other line ends, split by spaces or soft line breaks, or inside
// UTF-16 and non-ASCII spacing (U+00A0, U+200B). With `markup`, text
// between '<' + letter, '/', '!' or '?' and the next '>' is dropped (HTML,
// text/enriched tags, <br> splitting a line) and character references
// (&#45; &#x2D; &amp; ...) are decoded first; other named references are
// skipped like spaces. With `skip_dash_escaped`, lines that start with
// "- " are not read: inside a text that is one clearsigned block they are
// dash-escaped signed lines (RFC 4880 7.1), read once gpg has verified the
// block and removed the escape. Memory is constant; nothing is copied.
class MarkerScanner {
 public:
  explicit MarkerScanner(bool markup, bool skip_dash_escaped = false)
      : markup_(markup), skip_dash_escaped_(skip_dash_escaped) {}
  void feed(std::string_view bytes);
  // 0, 1, or 2 for "two or more".
  int count() const { return count_; }

 private:
  void feed_byte(char c);
  void match(char c);
  void entity_done(bool terminated);
  bool continues_entity(char c) const;

  bool markup_;
  bool skip_dash_escaped_;
  bool line_start_ = true;
  bool dash_pending_ = false;  // a '-' at the start of a line, before its next byte
  bool skipping_line_ = false;
  int count_ = 0;
  std::size_t matched_ = 0;  // pattern characters matched so far
  enum class State { text, tag, entity } state_ = State::text;
  bool tag_pending_ = false;  // a '<' whose next byte decides whether a tag starts
  std::array<char, 40> entity_{};  // a character reference after '&', without it
  std::size_t entity_len_ = 0;
};

// The most markers any reading of the bytes shows (both MarkerScanner
// modes), 0..2. `skip_dash_escaped` as for MarkerScanner: only for a text
// whose shape is inline_clearsigned.
int count_armor_markers(std::string_view bytes, bool skip_dash_escaped = false);

// True when an armored block whose label is not MESSAGE or SIGNED MESSAGE
// ("-----BEGIN PGP SIGNATURE-----", "... PUBLIC KEY BLOCK", "... ARMORED
// FILE", anything; BEGIN line anywhere, any line ends) carries base64 data
// that is an encrypted message (openpgp::scan_for_encryption): gpg reads
// what the data is, not what the label says.
bool has_encrypted_armor(std::string_view text);

// True when `data` is DER-encoded CMS ContentInfo of enveloped-data,
// authEnveloped-data or encrypted-data (what a client decrypts as S/MIME,
// e.g. an attached smime.p7m labelled application/octet-stream).
bool looks_like_smime_enveloped(std::string_view data);

}  // namespace tlpmail::mime
