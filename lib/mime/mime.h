// The MIME facts tlpmail's verification pipeline needs from a received
// message, as plain values: the From/Subject/threading headers, the
// cryptographic shape of the content (RFC 3156 PGP/MIME signed or encrypted,
// inline PGP, partly signed, malformed) with the exact bytes to verify or
// decrypt, nested ciphertext, protected headers and the head of the body
// text for label scanning. Parses and classifies only: no gpg, no policy,
// no logging. GMime types never leave lib/mime. Rules: docs/mime.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/result.h"

namespace tlpmail::mime {

// Entities nested deeper than this (multiparts and attached messages count
// one level each; the root is level 0) make the input malformed.
inline constexpr int kMaxDepth = 32;
// Entity::body_head holds at most this many bytes (cut at a UTF-8 boundary).
inline constexpr std::size_t kBodyHeadMax = 8192;

// Initialises GMime (g_mime_init) exactly once per process; later calls do
// nothing. Thread-safe (std::call_once), and the parse functions below call
// it themselves, but call it from main() before starting threads so that
// the one-time work happens at a known moment. Never shuts GMime down.
void initialize();

// ---------------------------------------------------------------- shapes

enum class ShapeKind {
  plain,               // nothing cryptographic ("unsigned")
  pgpmime_signed,      // RFC 3156 multipart/signed is the whole entity
  pgpmime_encrypted,   // RFC 3156 multipart/encrypted is the whole entity
  inline_clearsigned,  // the text/plain body is one clearsigned block
  inline_encrypted,    // the text/plain body is one armored PGP MESSAGE
  partly_signed,       // a signed part or inline signed block beside unsigned content
  partly_encrypted,    // an encrypted part or inline PGP MESSAGE beside other content
  malformed,           // broken structure; never guessed around
};

// "plain", "pgpmime_signed", ... (the enumerator's name).
std::string_view to_string(ShapeKind k);

struct Plain {};

struct PgpMimeSigned {
  // The first part of the multipart/signed exactly as it is in the input,
  // its headers and body, from the first byte after the first delimiter
  // line up to (not including) the line break before the next delimiter
  // line; then every bare LF turned into CRLF (RFC 3156 section 5). This is
  // what the detached signature covers. Never a re-serialisation.
  std::string signed_bytes;
  std::string signature;  // content of the application/pgp-signature part, transfer-decoded
  std::string micalg;     // lower-cased micalg parameter, "" when absent (not checked here)
};

struct PgpMimeEncrypted {
  // Content of the application/octet-stream part, transfer-decoded (the
  // armored or binary OpenPGP message to decrypt).
  std::string ciphertext;
};

struct InlineClearsigned {
  // The transfer-decoded body (no charset conversion) from the first '-' of
  // "-----BEGIN PGP SIGNED MESSAGE-----" to the last '-' of
  // "-----END PGP SIGNATURE-----", line endings as in the body.
  std::string block;
};

struct InlineEncrypted {
  // As above, "-----BEGIN PGP MESSAGE-----" to "-----END PGP MESSAGE-----".
  std::string block;
};

// The reasons below are fixed texts plus part numbers and byte offsets:
// they never quote the message, so they are safe to log and to show the
// sender.
struct PartlySigned {
  std::string reason;
};
struct PartlyEncrypted {
  std::string reason;
};
struct Malformed {
  std::string reason;
};

using Shape = std::variant<Plain, PgpMimeSigned, PgpMimeEncrypted, InlineClearsigned,
                           InlineEncrypted, PartlySigned, PartlyEncrypted, Malformed>;

ShapeKind kind_of(const Shape& s);

// ------------------------------------------------------ nested ciphertext

// Where each is found: docs/mime.md, "Nested ciphertext".
enum class CiphertextKind {
  multipart_encrypted,     // a multipart/encrypted entity
  pgp_encrypted_part,      // an application/pgp-encrypted part
  armored_message,         // a "-----BEGIN PGP MESSAGE" marker anywhere in a part as a
                           // client could show it, or other armor holding ciphertext
  binary_openpgp_message,  // a part of any type whose content, read as OpenPGP
                           // packets, is or holds an encrypted message
  smime_enveloped,         // application/(x-)pkcs7-mime other than signed-data/certs-only,
                           // or DER enveloped/encrypted data under any type
};

// "multipart/encrypted", "application/pgp-encrypted part", ...
std::string_view to_string(CiphertextKind k);

struct CiphertextLocation {
  CiphertextKind kind = CiphertextKind::armored_message;
  // Where: "" is the root entity; "2" its second child; "2.1" the first
  // child of that. An attached message's body keeps the number of its
  // message/rfc822 part. Our own numbering: safe to log.
  std::string path;
  friend bool operator==(const CiphertextLocation&, const CiphertextLocation&) = default;
};

// ---------------------------------------------------------------- values

// One header field: the name as written and the value unfolded (line
// breaks removed), trimmed, not decoded. Network data: escape before logging.
struct HeaderField {
  std::string name;
  std::string value;
};

struct Mailbox {
  std::string display_name;  // RFC 2047-decoded, UTF-8; "" when none
  std::string address;       // addr-spec, domain in ASCII (IDNA) form
};

// The classification of one MIME entity (a whole message, a decrypted
// plaintext, or a bare text) and the content facts the pipeline needs.
struct Entity {
  Shape shape = Plain{};

  // Every place that holds ciphertext, in document order. parse_message
  // leaves out the message's own encryption layer (the root
  // multipart/encrypted, or the root text/plain armored PGP MESSAGE of an
  // inline_encrypted message); parse_entity and parse_text leave out
  // nothing, since what they see has already been decrypted once.
  std::vector<CiphertextLocation> nested_ciphertext;

  // parse_entity only: set when the root entity's Content-Type carries
  // protected-headers="v1" (draft-autocrypt-lamps-protected-headers).
  // protected_headers: every header field of the root entity except
  // Content-* and MIME-Version; protected_subject: its first Subject,
  // RFC 2047-decoded to UTF-8 (nullopt when there is none).
  bool has_protected_headers = false;
  std::vector<HeaderField> protected_headers;
  std::optional<std::string> protected_subject;

  // The first inline text/plain part (not an attachment, not inside an
  // attached message), transfer-decoded and converted from its charset to
  // UTF-8 (invalid bytes become U+FFFD), at most kBodyHeadMax bytes. When
  // there is no such part, the first inline text/html part with its markup
  // removed. Of a multipart/signed, only the signed part is looked at; of a
  // multipart/encrypted, nothing (empty). For inline shapes this is the
  // armored block itself: use clearsigned_text() or the decrypted text.
  std::string body_head;
  bool body_head_truncated = false;

  // Non-multipart entities, without the control parts of multipart/signed
  // and multipart/encrypted; an attached message counts as one (and one
  // attachment), and its own parts count too.
  int leaf_parts = 0;
  int attachments = 0;  // leaf parts with Content-Disposition: attachment or a file name
  // GMime parser findings that did not make the entity malformed, e.g.
  // "duplicated header (offset 120)". Fixed texts and offsets only.
  std::vector<std::string> parser_warnings;

  ShapeKind kind() const { return kind_of(shape); }
  bool has_nested_ciphertext() const { return !nested_ciphertext.empty(); }
};

struct Message {
  std::vector<HeaderField> headers;  // every top-level header field, in order

  std::vector<std::string> from_headers;  // value of each From header field, in order
  std::vector<Mailbox> from_mailboxes;    // every mailbox in them, group members included
  int from_groups = 0;                    // group constructs ("name: a, b;") in From
  bool from_unparsable = false;           // a From value that fails the strict RFC 5322 check

  // The single From address, when there is exactly one From header field
  // holding exactly one mailbox, no group, parsed strictly, and its address
  // looks like local@domain. Otherwise Error::refused with one of: "no From
  // header", "N From header fields", "the From header is not a valid
  // address list", "the From header uses group syntax", "the From header
  // holds N addresses", "the From address is not local@domain".
  Result<Mailbox> single_from() const;

  // Every Subject header field, RFC 2047-decoded and unfolded, in order
  // (more than one is possible in hostile mail: scan them all).
  std::vector<std::string> subjects;
  std::string subject;      // the first of them, "" when none
  std::string subject_raw;  // the first Subject's value unfolded, not decoded

  std::string message_id;                // first Message-ID, without <>; "" when none/invalid
  std::vector<std::string> in_reply_to;  // ids without <>, every In-Reply-To field, in order
  std::vector<std::string> references;   // ids without <>, every References field, in order
  std::string date;                      // first Date value, unfolded, not interpreted

  Entity content;  // the classification of the message as a whole
};

// ------------------------------------------------------------- functions

// Parses a whole message (headers and body, CRLF or LF line endings) as
// received. Never throws (bad_alloc aside), crashes or hangs on hostile
// input; nesting is cut at kMaxDepth (shape malformed).
// Errors: Error::refused("not a MIME message") only when GMime cannot
// build a message at all (e.g. empty input). Everything else, including
// broken structure, comes back as a Message whose content.shape says so.
// Thread-safe: separate calls may run concurrently (docs/mime.md).
Result<Message> parse_message(std::string_view raw);

// Parses a MIME entity that is not a message: the plaintext of a decrypted
// PGP/MIME message (RFC 3156 section 4: a MIME entity with its own
// Content-Type), or the signed_bytes of a PgpMimeSigned, whose facts are
// then exactly those of the verified bytes. Same classification as
// parse_message, plus protected headers; every ciphertext found counts as
// nested. Errors and thread safety as parse_message.
Result<Entity> parse_entity(std::string_view entity);

// Classifies a bare text that is not MIME: the plaintext of an inline PGP
// message, or the text gpg returns for a clearsigned one. Inline rules as
// for a text/plain body; every armored PGP MESSAGE counts as nested
// ciphertext; body_head is the text's head (invalid UTF-8 becomes U+FFFD).
// Pure and thread-safe.
Entity parse_text(std::string_view text);

// The signed text of a clearsigned block (InlineClearsigned::block), for
// label scanning: the lines between the armor headers' blank line and
// "-----BEGIN PGP SIGNATURE-----", dash-escaping ("- ") removed, lines
// joined with LF, without the line break that precedes the signature
// (RFC 4880 section 7.1). Not a verification: gpg's output of the verified
// text is authoritative and equal to this for a good signature.
// Errors: Error::refused("not a clearsigned block") when the structure is
// not BEGIN line, armor headers, blank line, text, signature.
Result<std::string> clearsigned_text(std::string_view block);

// Decodes RFC 2047 encoded-words in an unstructured header value (e.g. a
// HeaderField::value) to UTF-8. Thread-safe.
std::string decode_header_text(std::string_view value);

// Every bare LF (not preceded by CR) becomes CRLF; everything else is kept.
std::string to_canonical_crlf(std::string_view bytes);

// The protected header fields of a signed entity, as the pipeline judges
// them (docs/pipeline.md, "Protected headers").
struct ProtectedHeaders {
  bool has_from = false;         // a protected From field exists
  bool from_unparsable = false;  // ... but is not exactly one clean mailbox
  Mailbox from;                  // the single From mailbox, when has_from and parsable
  bool has_to_cc = false;        // a protected To or Cc field exists
  bool to_cc_unparsable = false;  // one of them is not a clean address list
  std::vector<Mailbox> to_cc;     // every mailbox of every To and Cc field
  std::vector<std::string> in_reply_to, references;  // ids without <>, as parse_message
};

// Reads Entity::protected_headers (empty result when the entity has none).
// Thread-safe.
ProtectedHeaders read_protected_headers(const Entity& e);

// ------------------------------------------------------------ leaf parts

// One leaf part of an entity (parts.cc): not a multipart; an attached
// message (message/rfc822) is one leaf holding its raw text.
struct LeafPart {
  std::string path;          // "" the root, "2" its second child, "2.1" ... (as above)
  std::string content_type;  // lower-case "type/subtype"; "text/plain" when absent
  std::string filename;      // Content-Disposition filename or Content-Type name; "" when none
  bool attachment = false;   // Content-Disposition: attachment, or a file name
  std::string data;          // transfer-decoded content (no charset conversion)
  bool too_large = false;    // more than max_bytes decoded: `data` is empty
};

struct LeafParts {
  std::vector<LeafPart> parts;  // in document order
  bool cut = false;  // more than max_parts leaves, or nested deeper than kMaxDepth
};

// The leaf parts of `entity` (a MIME entity with its own header, as
// RequestContent::entity or PgpMimeSigned::signed_bytes hold it), at most
// `max_parts` of them, each decoded only when it has at most `max_bytes`
// bytes (decoded content never exceeds the encoded length for base64 and
// quoted-printable, so larger parts are skipped before decoding). Memory
// is bounded by the entity's size. Errors: Error::refused("not a MIME
// entity") when GMime cannot build one. Thread-safe.
Result<LeafParts> leaf_parts(std::string_view entity, std::size_t max_parts,
                             std::size_t max_bytes);

}  // namespace tlpmail::mime
