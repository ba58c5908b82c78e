// Finds OpenPGP ASCII-armored blocks (RFC 4880 section 6.2) in decoded text
// by the strict line rules of the inline shapes, decides those shapes (one
// clearsigned block or one PGP MESSAGE and nothing but whitespace around
// it), and recognises a binary encrypted OpenPGP message. Nested ciphertext
// in text is found more widely, by nested.h. Pure functions, no GMime.
// Internal to lib/mime.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "mime/mime.h"

namespace tlpmail::mime {

enum class ArmorKind { signed_message, message, signature, public_key, private_key, other };

struct ArmorBlock {
  ArmorKind kind = ArmorKind::other;
  std::size_t begin = 0;    // offset of the first '-' of the BEGIN line
  std::size_t end = 0;      // one past the last '-' of the END line (text.size() when unterminated)
  bool terminated = false;  // the END line was found
};

// Every armored block, in order. A BEGIN line is "-----BEGIN PGP <label>-----"
// at the start of a line, after optional spaces or tabs, followed only by
// whitespace; the block ends at the matching "-----END PGP <label>-----"
// line (for a SIGNED MESSAGE: the END PGP SIGNATURE line after its BEGIN
// PGP SIGNATURE line). Lines quoted with '>' are not markers.
std::vector<ArmorBlock> find_armor_blocks(std::string_view text);

// The shape of a text body by the inline rules: Plain when it holds no
// SIGNED MESSAGE or MESSAGE block; InlineClearsigned / InlineEncrypted when
// it is exactly one such block with only whitespace around it; Malformed
// when such a block has no END line; otherwise PartlySigned (a signed block
// is among the content) or PartlyEncrypted. `where` names the part in the
// reasons ("the body", "part 2").
Shape classify_inline(std::string_view text, std::string_view where);

// True when `data`, read as OpenPGP packets from its first byte, is or
// holds an encrypted message a client would decrypt: a session key packet
// after any Marker, Padding, signature or other packets, a lone SEIPD/AEAD
// packet, or such inside a compressed packet (openpgp::scan_for_encryption,
// whose limits make an unreadable compressed packet count too).
bool looks_like_binary_openpgp_message(std::string_view data);

}  // namespace tlpmail::mime
