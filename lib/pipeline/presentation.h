// What a copy shows of the sender's header fields, and where those come
// from: the signed MIME entity of a message, found by structure alone once
// the outer layer is open (the same places the verifier reads labels from,
// unwrap.cc), and its protected Subject, In-Reply-To and References when it
// has them; the outer (unsigned) fields otherwise. An unsigned wrapper's
// fields (a multipart/signed inside the encryption) never decide what a
// copy shows. Pure; no gpg.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mime/mime.h"

namespace tlpmail::pipeline {

// The MIME entity a message's signature covers:
//   - a root multipart/signed: its signed part;
//   - decrypted PGP/MIME plaintext (`decrypted`) that is a multipart/signed
//     (sign, then encrypt): that one's signed part;
//   - other decrypted PGP/MIME plaintext (signed in the encryption pass):
//     the plaintext itself.
// nullopt for inline shapes (no MIME headers are signed there) and when the
// signed part does not parse.
std::optional<mime::Entity> signed_entity_of(const mime::Message& outer,
                                             const mime::Entity* decrypted);

struct Shown {
  std::string subject;  // decoded
  std::vector<std::string> in_reply_to, references;
};

// The signed entity's protected Subject, In-Reply-To and References, each
// when it has that field; the outer message's otherwise.
Shown shown_headers(const mime::Message& outer, const std::optional<mime::Entity>& signed_entity);

}  // namespace tlpmail::pipeline
