// The pure parts of the MIME facts (see mime.h): names of the enums, the
// single-From rule and the classification of bare text. No GMime here.
#include <string>

#include "mime/armor.h"
#include "mime/mime.h"
#include "mime/nested.h"
#include "mime/text_head.h"
#include "util/enum_names.h"

namespace tlpmail::mime {

constexpr auto kShapeKindNames = std::to_array<std::string_view>(
    {"plain", "pgpmime_signed", "pgpmime_encrypted", "inline_clearsigned", "inline_encrypted",
     "partly_signed", "partly_encrypted", "malformed"});
static_assert(util::names_cover(kShapeKindNames, ShapeKind::malformed));
std::string_view to_string(ShapeKind k) { return util::name_of(kShapeKindNames, k, "?"); }

ShapeKind kind_of(const Shape& s) {
  // The variant's alternatives are declared in ShapeKind's order.
  return static_cast<ShapeKind>(s.index());
}
static_assert(std::variant_size_v<Shape> == 8);
static_assert(std::is_same_v<std::variant_alternative_t<7, Shape>, Malformed>);

constexpr auto kCiphertextKindNames = std::to_array<std::string_view>(
    {"multipart/encrypted", "application/pgp-encrypted part", "armored PGP message",
     "binary OpenPGP message", "S/MIME enveloped data"});
static_assert(util::names_cover(kCiphertextKindNames, CiphertextKind::smime_enveloped));
std::string_view to_string(CiphertextKind k) { return util::name_of(kCiphertextKindNames, k, "?"); }

namespace {

bool looks_like_addr_spec(std::string_view a) {
  const std::size_t at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == a.size()) return false;
  for (char c : a) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '<' || c == '>' || c == ',' || c == ';') return false;
  }
  return true;
}

}  // namespace

Result<Mailbox> Message::single_from() const {
  if (from_headers.empty()) return Unexpected(Error::refused("no From header"));
  if (from_headers.size() > 1) {
    return Unexpected(Error::refused(std::to_string(from_headers.size()) + " From header fields"));
  }
  if (from_unparsable) {
    return Unexpected(Error::refused("the From header is not a valid address list"));
  }
  if (from_groups > 0) return Unexpected(Error::refused("the From header uses group syntax"));
  if (from_mailboxes.size() != 1) {
    return Unexpected(Error::refused("the From header holds " +
                                     std::to_string(from_mailboxes.size()) + " addresses"));
  }
  if (!looks_like_addr_spec(from_mailboxes.front().address)) {
    return Unexpected(Error::refused("the From address is not local@domain"));
  }
  return from_mailboxes.front();
}

Entity parse_text(std::string_view text) {
  Entity e;
  e.shape = classify_inline(text, "the text");
  // The same readings as for a MIME part (docs/mime.md, "Nested
  // ciphertext"), without a charset: the text is what gpg returned. A text
  // that is one clearsigned block is read again, dash escapes removed, in
  // gpg's verified output.
  const bool clearsigned = e.kind() == ShapeKind::inline_clearsigned;
  if (count_armor_markers(text, clearsigned) > 0 || has_encrypted_armor(text)) {
    e.nested_ciphertext.push_back({CiphertextKind::armored_message, ""});
  } else if (looks_like_binary_openpgp_message(text)) {
    e.nested_ciphertext.push_back({CiphertextKind::binary_openpgp_message, ""});
  }
  if (looks_like_smime_enveloped(text)) {
    e.nested_ciphertext.push_back({CiphertextKind::smime_enveloped, ""});
  }
  // Sanitising the whole text would copy it; a little more than the limit
  // is enough to cut at a character boundary afterwards.
  const std::string_view head = text.substr(0, kBodyHeadMax + 4);
  e.body_head = cut_utf8(sanitize_utf8(head), kBodyHeadMax, &e.body_head_truncated);
  if (text.size() > head.size()) e.body_head_truncated = true;
  e.leaf_parts = 1;
  return e;
}

}  // namespace tlpmail::mime
