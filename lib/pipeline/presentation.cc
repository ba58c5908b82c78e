// signed_entity_of() and shown_headers() (see presentation.h).
#include "pipeline/presentation.h"

#include <variant>

#include "util/text.h"

namespace tlpmail::pipeline {

std::optional<mime::Entity> signed_entity_of(const mime::Message& outer,
                                             const mime::Entity* decrypted) {
  const mime::Entity& root = decrypted ? *decrypted : outer.content;
  if (const auto* s = std::get_if<mime::PgpMimeSigned>(&root.shape)) {
    auto e = mime::parse_entity(s->signed_bytes);
    if (!e) return std::nullopt;
    return std::move(*e);
  }
  if (!decrypted || decrypted->kind() == mime::ShapeKind::inline_clearsigned) return std::nullopt;
  return *decrypted;
}

Shown shown_headers(const mime::Message& outer, const std::optional<mime::Entity>& signed_entity) {
  Shown out;
  out.subject = outer.subject;
  out.in_reply_to = outer.in_reply_to;
  out.references = outer.references;
  if (!signed_entity || !signed_entity->has_protected_headers) return out;
  if (signed_entity->protected_subject) out.subject = *signed_entity->protected_subject;
  const mime::ProtectedHeaders p = mime::read_protected_headers(*signed_entity);
  bool has_in_reply_to = false, has_references = false;
  for (const mime::HeaderField& h : signed_entity->protected_headers) {
    has_in_reply_to = has_in_reply_to || iequals(h.name, "In-Reply-To");
    has_references = has_references || iequals(h.name, "References");
  }
  if (has_in_reply_to) out.in_reply_to = p.in_reply_to;
  if (has_references) out.references = p.references;
  return out;
}

}  // namespace tlpmail::pipeline
