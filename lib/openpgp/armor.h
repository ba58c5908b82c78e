// Checks that a text holds exactly one ASCII-armored OpenPGP block and
// nothing else but blank lines, before it is handed to gpg (which skips
// text outside the armor silently and handles several blocks in ways a
// caller cannot see); and decodes one armored message's packets for a look
// at their framing. Pure; no GPGME.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tlpmail::openpgp {

enum class ArmorFraming {
  alone,         // one block, only blank lines around it
  absent,        // no BEGIN line of the wanted kind at all
  text_outside,  // non-blank text before or after the block, or a second block
  malformed,     // a BEGIN line without its END line, or a stray "-----" line inside
};

// A cleartext-signed message: "-----BEGIN PGP SIGNED MESSAGE-----", armor
// headers, the dash-escaped text, then "-----BEGIN PGP SIGNATURE-----" ...
// "-----END PGP SIGNATURE-----". A line of the text that starts with
// "-----" (i.e. is not dash-escaped) other than the signature's BEGIN line
// makes it malformed. Lines may end in CRLF or LF; trailing spaces and
// tabs on armor lines are ignored.
ArmorFraming check_clearsigned_framing(std::string_view text);

// An armored message: "-----BEGIN PGP MESSAGE-----" ... "-----END PGP
// MESSAGE-----".
ArmorFraming check_message_framing(std::string_view text);

// True when "-----BEGIN PGP " occurs anywhere in `data`: gpg would look
// for armor in it (also after leading text), so it must be framed as text
// rather than passed on as binary packets.
bool contains_armor(std::string_view data);

// The binary packets of the first "-----BEGIN PGP MESSAGE-----" block of
// `text`: the base64 lines after the armor headers, up to the checksum or
// END line, decoded (the checksum is not checked: gpg does that). nullopt
// when there is no such block or its base64 is broken. At most `max_bytes`
// are decoded (the rest is cut): callers look at the first packets only.
std::optional<std::string> dearmor_message(std::string_view text, std::size_t max_bytes);

}  // namespace tlpmail::openpgp
