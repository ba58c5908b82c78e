// Body text for the entities tlpmail writes: CRLF canonical form, the
// choice between 8bit and quoted-printable, the quoted-printable encoder,
// and fresh random multipart boundaries. Pure apart from the random
// source (getrandom); thread-safe. Not here: header fields (header_text.h).
#pragma once

#include <string>
#include <string_view>

namespace tlpmail::compose {

// A text body ready for a leaf part: the Content-Transfer-Encoding value
// and the encoded CRLF body.
struct EncodedBody {
  std::string transfer_encoding;  // "8bit" or "quoted-printable"
  std::string body;
};

// to_crlf(text), sent as 8bit when every line is at most 998 octets and no
// NUL or bare CR is left; otherwise quoted-printable (RFC 2045 section
// 6.7: lines of at most 76 characters, CRLF kept as line breaks).
EncodedBody encode_text_body(std::string_view text);

// Quoted-printable of CRLF text: "=" and bytes outside printable ASCII
// (bare CR and LF included) as =XX, spaces and tabs at the end of a line
// encoded, soft line breaks keep every line within 76 characters.
std::string quoted_printable(std::string_view crlf_text);

// A fresh multipart boundary: "=_tlpmail_" and 32 random hex digits
// (getrandom). "=_" cannot occur in quoted-printable or base64 text, nor
// at the start of an ASCII-armor line. Drawn again while it occurs in any
// of `avoid`.
std::string fresh_boundary(std::string_view avoid1 = {}, std::string_view avoid2 = {});

}  // namespace tlpmail::compose
