// The message each list member receives, as MIME (RFC 3156 PGP/MIME):
// the entity that is signed and encrypted (the list's banner part, then the
// original content), and the outer frame around the armored ciphertext
// (header fields and the multipart/encrypted structure); the same for the
// admins' notices. Builds bytes only: no gpg, no queueing, no logging, no
// policy decisions. Pure functions (random boundaries aside), thread-safe.
// The format, field by field: docs/outgoing.md.
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "policy/tlp.h"
#include "util/result.h"

namespace tlpmail::compose {

// The verified sender: the directory's person and its pinned primary key.
struct Sender {
  std::string name;          // "Alice Example"
  std::string organization;  // "CSIRT-A"; may be empty
  std::string email;         // "alice@csirt-a.example"
  std::string fingerprint;   // 40 hex digits
};

struct ListFacts {
  std::string address;         // "csirt-ops@lists.example.org" (ASCII)
  std::string description;     // may be empty
  std::string subject_prefix;  // may be empty, e.g. "[csirt-ops]"
  bool protect_subject = false;
};

struct CopyFacts {
  ListFacts list;
  Sender sender;
  policy::Tlp label = policy::Tlp::red;
  // policy::banner_lines(decision): the label with its sharing rule, then
  // one line per raise. When empty, the label line is made from `label`.
  std::vector<std::string> banner_lines;
  // The original subject, decoded to UTF-8 (the protected subject when the
  // sender used one).
  std::string subject;
  std::string message_id;  // the list's fresh Message-ID, without <>
  std::time_t date = 0;    // for the Date header
  // Ids without <>, for threading; every id that is not Message-ID syntax
  // (is_message_id in header_text.h) is dropped.
  std::vector<std::string> in_reply_to, references;
  // The list key as Autocrypt key data (binary OpenPGP packets, see
  // openpgp/publish.h); empty: the copy has no Autocrypt header field.
  std::string autocrypt_key;
};

// At most this many ids go into In-Reply-To and into References: the first
// one and the last kMaxThreadIds - 1 (RFC 5322 section 3.6.4 keeps the
// thread's root and its latest messages).
inline constexpr std::size_t kMaxThreadIds = 20;
// A subject longer than this (bytes of UTF-8, after cleaning) is cut at a
// character boundary and ends in "...".
inline constexpr std::size_t kMaxSubjectBytes = 1000;

// ------------------------------------------------------------- content

// The original content of a message that was signed but not encrypted
// (root multipart/signed, or a clearsigned text/plain), or of the unsigned
// wrapper of decrypted plaintext (a multipart/signed inside the
// encryption), as an entity: the root's Content-Type and
// Content-Transfer-Encoding fields exactly as written (folding kept, bare
// LF made CRLF), a blank line, and the body byte for byte (bare LF made
// CRLF, nothing else changed). Every other header field (From, Received,
// Content-Description, the wrapper's protected headers, ...) is left out:
// none of them is signed. A message without those two fields gives an
// entity without header fields (a blank line, then the body).
// Errors: Error::refused("the message has no blank line between header
// and body") when there is no header/body separator;
// Error::refused("the message has N Content-Type header fields") (or
// Content-Transfer-Encoding) when the root repeats one: which one a reader
// takes is not defined, so it is not guessed.
Result<std::string> content_of_message(std::string_view raw);

// The original content from decrypted plaintext. is_mime (PGP/MIME: the
// plaintext already is an entity): the plaintext with bare LF made CRLF.
// Otherwise (inline PGP): a text/plain; charset=utf-8 entity holding the
// text, Content-Transfer-Encoding 8bit when every line is at most 998
// octets and there is no NUL or bare CR, else quoted-printable.
std::string content_of_plaintext(std::string_view plaintext, bool is_mime);

// ------------------------------------------------------------- subjects

// "[TLP:AMBER] [csirt-ops] Re: Phishing wave": policy::labelled_subject of
// the cleaned subject (controls and line breaks become spaces, blanks
// collapse) with every copy of the prefix removed from it, the prefix put
// after the label; single spaces, no trailing blank.
std::string copy_subject(const CopyFacts& f);

// copy_subject(f), or "[TLP:AMBER] [csirt-ops] Encrypted message" when
// f.list.protect_subject (no prefix: "[TLP:AMBER] Encrypted message").
std::string outer_subject(const CopyFacts& f);

// ---------------------------------------------------- the signed entity

// The banner, CRLF lines: f.banner_lines, then "Sent by <name>
// (<organization>) <email>, signature verified, key <fingerprint in groups
// of four>" ("(<organization>) " left out when empty). Every line is
// cleaned (no controls).
std::string banner_text(const CopyFacts& f);

// The entity to sign and encrypt (CRLF):
//   Content-Type: multipart/mixed; boundary="..."; protected-headers="v1"
//   Subject (copy_subject), From, To, Reply-To, Message-ID, Date
//   part 1: the banner, text/plain; charset=utf-8, inline, with a
//           Content-Description naming it as the list's notice
//   part 2: `content` exactly as given (content_of_message or
//           content_of_plaintext output)
// The boundary is fresh and random and occurs neither in the content nor
// in the banner.
std::string inner_entity(const CopyFacts& f, std::string_view content);

// ------------------------------------------------------------ the frame

// An outer message split around the armored ciphertext, so that the queue
// stores one frame per message and puts each member's armor in.
struct Frame {
  std::string head;  // header fields and the multipart/encrypted structure up to the armor
  std::string tail;  // the line break after the armor and the close delimiter

  // head + armored (bare LF made CRLF, a final CRLF added when missing) +
  // tail. `armored` is an ASCII-armored OpenPGP message ("-----BEGIN PGP
  // MESSAGE-----" ...); it is not checked.
  std::string assemble(std::string_view armored) const;
};

// The copy's frame. Header fields, in this order: From ("<name> via
// <list local part>" <list>), To (the list), Reply-To (the list),
// Subject (outer_subject), Date, Message-ID, In-Reply-To and References
// (when any valid id is left), List-Id, List-Post, List-Help (the -request
// address), Autocrypt (when f.autocrypt_key is set: autocrypt_field),
// MIME-Version, Content-Type: multipart/encrypted;
// protocol="application/pgp-encrypted"; boundary="...". Nothing else, and
// nothing the sender wrote apart from the subject and the thread ids.
Frame copy_frame(const CopyFacts& f);

// The Autocrypt header field (Autocrypt Level 1) for the list: "Autocrypt:
// addr=<list address>; prefer-encrypt=mutual; keydata=" and the base64 of
// `key` in lines of at most 76 characters, each folded onto a line of its
// own (CRLF, one space). Readers remove the whitespace before decoding.
std::string autocrypt_field(std::string_view list_address, std::string_view key);

// ------------------------------------------- notices and request replies

// A file attached to a notice or reply, e.g. a key as application/pgp-keys.
struct Attachment {
  std::string content_type;  // "application/pgp-keys"
  std::string filename;      // "csirt-ops.asc"
  std::string data;          // sent 7bit when it is ASCII text with short lines, else base64
};

// A message from the list's -request address to one person: a notice to
// an admin (withheld members, failed deliveries, digests) or the reply to
// a request. The body is the list's own text: never put message content
// in it.
struct NoticeFacts {
  ListFacts list;
  std::string to;          // the recipient's address
  std::string subject;     // e.g. "[csirt-ops] 1 member withheld"
  std::string body;        // plain text, UTF-8
  std::string message_id;  // without <>
  std::time_t date = 0;
  // RFC 3834: "auto-generated" for notices, "auto-replied" for replies.
  std::string auto_submitted = "auto-generated";
  std::vector<std::string> in_reply_to;  // ids without <> (replies); invalid ones dropped
  std::vector<Attachment> attachments;
};

// The entity to sign and encrypt. Without attachments: text/plain;
// charset=utf-8; protected-headers="v1" with Subject, From, To,
// Message-ID and Date, then the body (8bit or quoted-printable as for
// content_of_plaintext). With attachments: the same header fields on a
// multipart/mixed (protected-headers="v1") holding the text and then each
// attachment (Content-Disposition: attachment).
std::string notice_entity(const NoticeFacts& f);

// The notice's frame: From ("<list local part> list" <list-request
// address>), To, Subject (the given one; "Encrypted message", after the
// prefix when there is one, when f.list.protect_subject), Date,
// Message-ID, In-Reply-To and References (the valid ids of
// f.in_reply_to), List-Id, Auto-Submitted, MIME-Version, Content-Type as
// for copies.
Frame notice_frame(const NoticeFacts& f);

// The same message unencrypted and unsigned, whole: the frame's header
// fields (with the real Subject) and notice_entity's MIME structure
// without the protected header fields. For the list's public key sent to
// someone the list cannot encrypt to: it must carry nothing secret.
std::string plain_message(const NoticeFacts& f);

// "0123 4567 89AB ...": 40 hex digits in groups of four, upper case;
// anything else as it is (cleaned for a header or text line).
std::string grouped_fingerprint(std::string_view fpr);

}  // namespace tlpmail::compose
