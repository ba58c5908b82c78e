// The GMime 3 side of lib/mime: parsing a message or entity from memory,
// the header facts, the walk over the MIME tree that finds the shape,
// nested ciphertext and the body head, and the exact signed bytes (raw
// splitting checked against GMime's tree). GMime types stay in this file.
// Never calls GMime's crypto functions (no gpg from here).
#include <gmime/gmime.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mime/address_syntax.h"
#include "mime/armor.h"
#include "mime/gmime_ptr.h"
#include "mime/mime.h"
#include "mime/nested.h"
#include "mime/raw_multipart.h"
#include "mime/text_head.h"
#include "util/text.h"

namespace tlpmail::mime {
namespace {

// ------------------------------------------------------------- ownership
// GPtr, GChars and OptionsPtr: mime/gmime_ptr.h.

struct ReferencesFree {
  void operator()(GMimeReferences* p) const {
    if (p) g_mime_references_free(p);
  }
};
using ReferencesPtr = std::unique_ptr<GMimeReferences, ReferencesFree>;

std::string str_or_empty(const char* s) { return s ? std::string(s) : std::string(); }

// ------------------------------------------------------ parser warnings

// What GMime's parser reported. Fatal findings make the entity malformed:
// they are the places where GMime had to pick one reading of an ambiguous
// or broken structure and another reader (the recipient's client) may pick
// another.
struct Findings {
  std::vector<std::string> fatal;
  std::vector<std::string> warnings;
  int address_problems = 0;  // GMIME_WARN_INVALID_ADDRESS_LIST
  bool callback_failed = false;
};

std::string with_offset(std::string_view text, gint64 offset) {
  std::string s(text);
  if (offset >= 0) s += " (offset " + std::to_string(offset) + ")";
  return s;
}

void record_warning(Findings& f, gint64 offset, GMimeParserWarning code, const char* item) {
  switch (code) {
    case GMIME_CRIT_INVALID_HEADER_NAME:
      f.fatal.push_back(with_offset("a header line is not a valid header field", offset));
      return;
    case GMIME_CRIT_CONFLICTING_HEADER:
      // Repeated From/Subject/... are judged by their own rules (single_from,
      // subjects); repeated Content-* headers change the structure.
      if (item == nullptr || iequals(std::string_view(item).substr(0, 8), "Content-") ||
          iequals(item, "MIME-Version")) {
        f.fatal.push_back(with_offset("conflicting Content-* header fields", offset));
      } else {
        f.warnings.push_back(with_offset("repeated header field", offset));
      }
      return;
    case GMIME_CRIT_CONFLICTING_PARAMETER:
      f.fatal.push_back(with_offset("conflicting MIME parameters", offset));
      return;
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
      f.fatal.push_back(with_offset("a multipart has no boundary parameter", offset));
      return;
    case GMIME_CRIT_NESTING_OVERFLOW:
      f.fatal.push_back(with_offset("MIME nesting too deep", offset));
      return;
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
      f.fatal.push_back(with_offset("a MIME part has neither headers nor content", offset));
      return;
    case GMIME_WARN_MALFORMED_MULTIPART:
      f.fatal.push_back(with_offset("a multipart is malformed", offset));
      return;
    case GMIME_WARN_TRUNCATED_MESSAGE:
      f.fatal.push_back(with_offset("the message ends early (truncated, or a multipart is not closed)", offset));
      return;
    case GMIME_WARN_MALFORMED_MESSAGE:
      f.fatal.push_back(with_offset("an attached message is malformed", offset));
      return;
    case GMIME_WARN_DUPLICATED_HEADER:
      f.warnings.push_back(with_offset("duplicated header field", offset));
      return;
    case GMIME_WARN_DUPLICATED_PARAMETER:
      f.warnings.push_back(with_offset("duplicated MIME parameter", offset));
      return;
    case GMIME_WARN_UNENCODED_8BIT_HEADER:
      f.warnings.push_back(with_offset("unencoded 8-bit header", offset));
      return;
    case GMIME_WARN_INVALID_CONTENT_TYPE:
      f.warnings.push_back(with_offset("invalid Content-Type", offset));
      return;
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
      f.warnings.push_back(with_offset("invalid RFC 2047 header value", offset));
      return;
    case GMIME_WARN_INVALID_PARAMETER:
      f.warnings.push_back(with_offset("invalid MIME parameter", offset));
      return;
    case GMIME_WARN_INVALID_ADDRESS_LIST:
      // Counted by on_parser_warning. In the message parse these come from
      // To/Cc/...: not our business; parse_from() parses each From field
      // on its own and looks at them.
      return;
    case GMIME_WARN_PART_WITHOUT_CONTENT:
      f.warnings.push_back(with_offset("a MIME part has no content", offset));
      return;
  }
  f.warnings.push_back(with_offset("parser warning " + std::to_string(static_cast<int>(code)), offset));
}

// Hostile input can make thousands of findings; the first few say enough.
constexpr std::size_t kMaxFindings = 32;

// Called from C: must not throw.
void on_parser_warning(gint64 offset, GMimeParserWarning code, const gchar* item,
                       gpointer user_data) {
  auto* f = static_cast<Findings*>(user_data);
  if (code == GMIME_WARN_INVALID_ADDRESS_LIST) {
    ++f->address_problems;
    return;
  }
  try {
    Findings one;
    record_warning(one, offset, code, item);
    for (std::string& s : one.fatal) {
      if (f->fatal.size() < kMaxFindings) f->fatal.push_back(std::move(s));
    }
    for (std::string& s : one.warnings) {
      if (f->warnings.size() < kMaxFindings) f->warnings.push_back(std::move(s));
    }
  } catch (...) {
    f->callback_failed = true;
  }
}

OptionsPtr new_options(Findings* findings) {
  OptionsPtr o(g_mime_parser_options_new());
  // Loose on purpose: GMime 3.2.13's strict address mode leaks memory on
  // some bad input ("a@b.example> x"). From is checked by
  // check_address_list() instead.
  g_mime_parser_options_set_address_compliance_mode(o.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_allow_addresses_without_domain(o.get(), FALSE);
  g_mime_parser_options_set_rfc2047_compliance_mode(o.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  if (findings) g_mime_parser_options_set_warning_callback(o.get(), on_parser_warning, findings);
  return o;
}

// ------------------------------------------------------------ small reads

std::string mime_type_of(GMimeObject* obj) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (!ct) return "text/plain";
  GChars s(g_mime_content_type_get_mime_type(ct));
  return s ? ascii_lower(s.get()) : std::string("text/plain");
}

std::string param_of(GMimeObject* obj, const char* name) {
  return str_or_empty(g_mime_object_get_content_type_parameter(obj, name));
}

// The transfer-decoded content of a leaf part (no charset conversion).
std::string decoded_content(GMimePart* part) {
  GMimeDataWrapper* w = g_mime_part_get_content(part);
  if (!w) return {};
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(w, out.get()) < 0) return {};
  GByteArray* a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  if (!a || a->len == 0) return {};
  return std::string(reinterpret_cast<const char*>(a->data), a->len);
}

// Unfolds a raw header value as GMime keeps it (leading space, folding
// line breaks, final line break) and trims it.
std::string unfold(const char* raw) {
  std::string out;
  if (!raw) return out;
  for (const char* p = raw; *p; ++p) {
    if (*p != '\r' && *p != '\n') out.push_back(*p);
  }
  return std::string(trim(out));
}

struct RawHeader {
  std::string name;
  std::string value;  // unfolded, trimmed
  gint64 offset = -1;
};

void collect_headers(GMimeObject* obj, std::vector<RawHeader>& out) {
  GMimeHeaderList* list = g_mime_object_get_header_list(obj);
  if (!list) return;
  const int n = g_mime_header_list_get_count(list);
  for (int i = 0; i < n; ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
    if (!h) continue;
    out.push_back({str_or_empty(g_mime_header_get_name(h)), unfold(g_mime_header_get_raw_value(h)),
                   g_mime_header_get_offset(h)});
  }
}

gint64 first_header_offset(GMimeObject* obj) {
  GMimeHeaderList* list = g_mime_object_get_header_list(obj);
  if (!list || g_mime_header_list_get_count(list) == 0) return -1;
  GMimeHeader* h = g_mime_header_list_get_header_at(list, 0);
  return h ? g_mime_header_get_offset(h) : -1;
}

std::string decode_text_with(GMimeParserOptions* options, const std::string& value) {
  GChars d(g_mime_utils_header_decode_text(options, value.c_str()));
  return sanitize_utf8(d ? std::string_view(d.get()) : std::string_view(value));
}

bool is_content_header(std::string_view name) {
  return iequals(name.substr(0, 8), "Content-") || iequals(name, "MIME-Version");
}

// --------------------------------------------------------------- the walk

struct Walk {
  std::vector<CiphertextLocation> ciphertext;
  // The root leaf holds more than one armor marker, or an armored block of
  // another label with encrypted data: more than an inline message's own
  // block, so the root's ciphertext is nested even for inline_encrypted.
  bool root_has_more_armor = false;
  std::string signed_marker;     // reason for the first signed part below the root
  std::string encrypted_marker;  // reason for the first ciphertext below/beside the root
  bool too_deep = false;
  std::optional<std::string> body_text;  // first inline text/plain, UTF-8
  std::optional<std::string> body_html;  // first inline text/html, as text
  bool text_truncated = false;
  bool html_truncated = false;
  int leaf_parts = 0;
  int attachments = 0;
  std::string root_content;  // transfer-decoded content of a leaf root
};

std::string part_name(const std::string& path) {
  return path.empty() ? std::string("the body") : "part " + path;
}

std::string child_path(const std::string& path, int index) {
  return path.empty() ? std::to_string(index + 1) : path + "." + std::to_string(index + 1);
}

bool is_attachment(GMimeObject* obj) {
  const char* disp = g_mime_object_get_disposition(obj);
  if (disp && iequals(disp, "attachment")) return true;
  return GMIME_IS_PART(obj) && g_mime_part_get_filename(GMIME_PART(obj)) != nullptr;
}

void add_ciphertext(Walk& w, CiphertextKind kind, const std::string& path, bool in_attached) {
  const CiphertextLocation here{kind, path};
  if (!w.ciphertext.empty() && w.ciphertext.back() == here) return;  // one place, read twice
  w.ciphertext.push_back(here);
  if (!in_attached && w.encrypted_marker.empty() && !path.empty()) {
    w.encrypted_marker = "encrypted content (" + std::string(to_string(kind)) + ") in " +
                         part_name(path) + " is not the whole message";
  }
}

std::string text_of(GMimeObject* obj, const std::string& decoded) {
  if (GMIME_IS_TEXT_PART(obj)) {
    GChars t(g_mime_text_part_get_text(GMIME_TEXT_PART(obj)));
    if (t) return sanitize_utf8(t.get());
  }
  return sanitize_utf8(decoded);
}

// Armor markers in the part's content as it was transmitted, when a
// transfer encoding (base64, quoted-printable, uuencode) makes that differ
// from the decoded content: a client that ignores a bogus encoding shows
// these bytes. Streamed from GMime's copy; nothing is kept.
int markers_as_transmitted(GMimePart* part, bool skip_dash_escaped) {
  GMimeDataWrapper* w = g_mime_part_get_content(part);
  if (!w) return 0;
  switch (g_mime_data_wrapper_get_encoding(w)) {
    case GMIME_CONTENT_ENCODING_BASE64:
    case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
    case GMIME_CONTENT_ENCODING_UUENCODE:
      break;
    default:
      return 0;
  }
  GMimeStream* s = g_mime_data_wrapper_get_stream(w);
  if (!s) return 0;
  MarkerScanner scan(false, skip_dash_escaped);
  g_mime_stream_reset(s);
  char buf[16384];
  for (;;) {
    const ssize_t n = g_mime_stream_read(s, buf, sizeof buf);
    if (n <= 0) break;
    scan.feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  g_mime_stream_reset(s);
  return scan.count();
}

// Ciphertext in one leaf, wherever a client could meet it (docs/mime.md,
// "Nested ciphertext"): by the part's type, in the transfer-decoded bytes,
// in the text converted from the part's charset, and as transmitted.
void find_ciphertext(GMimeObject* obj, const std::string& type, const std::string& content,
                     const std::optional<std::string>& text, const std::string& path,
                     bool in_attached, Walk& w) {
  bool smime = false;
  if (type == "application/pgp-encrypted") {
    add_ciphertext(w, CiphertextKind::pgp_encrypted_part, path, in_attached);
  } else if (type == "application/pkcs7-mime" || type == "application/x-pkcs7-mime") {
    const std::string smime_type = ascii_lower(param_of(obj, "smime-type"));
    smime = smime_type != "signed-data" && smime_type != "certs-only";
  }
  // Clients decrypt an attached smime.p7m whatever its label says.
  if (smime || looks_like_smime_enveloped(content)) {
    add_ciphertext(w, CiphertextKind::smime_enveloped, path, in_attached);
  }
  // A root text/plain that is one clearsigned block: its dash-escaped
  // lines are read in gpg's verified text, where they are plain lines
  // (docs/mime.md; the pipeline reads every content fact from there).
  const bool clearsigned = path.empty() && !in_attached && type == "text/plain" &&
                           std::holds_alternative<InlineClearsigned>(classify_inline(content, ""));
  // The converted text is read too when the charset changed its bytes
  // (UTF-16, EBCDIC, ISO-2022, invalid bytes replaced...).
  const bool text_differs = text && *text != content;
  int markers = count_armor_markers(content, clearsigned);
  if (text_differs && markers < 2) {
    markers = std::max(markers, count_armor_markers(*text, clearsigned));
  }
  if (markers < 2) {
    markers = std::max(markers, markers_as_transmitted(GMIME_PART(obj), clearsigned));
  }
  const bool other_armor =
      has_encrypted_armor(content) || (text_differs && has_encrypted_armor(*text));
  const bool armored = markers > 0 || other_armor;
  if (armored) add_ciphertext(w, CiphertextKind::armored_message, path, in_attached);
  if (path.empty() && !in_attached) w.root_has_more_armor = markers > 1 || other_armor;
  if (!armored && looks_like_binary_openpgp_message(content)) {
    add_ciphertext(w, CiphertextKind::binary_openpgp_message, path, in_attached);
  }
}

void walk_encoded_message(const std::string& content, const std::string& path, int depth,
                          Walk& w);

// message/rfc822, message/global and message/news that GMime keeps as a
// leaf: transfer-encoded (RFC 6532 allows base64 for message/global, and
// clients decode message/rfc822 in base64 too).
bool is_encoded_message(const std::string& type, GMimePart* part) {
  if (type != "message/rfc822" && type != "message/global" && type != "message/news") return false;
  GMimeDataWrapper* w = g_mime_part_get_content(part);
  if (!w) return false;
  const GMimeContentEncoding e = g_mime_data_wrapper_get_encoding(w);
  return e == GMIME_CONTENT_ENCODING_BASE64 || e == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
         e == GMIME_CONTENT_ENCODING_UUENCODE;
}

void walk_leaf(GMimeObject* obj, const std::string& path, int depth, bool in_attached, Walk& w) {
  GMimePart* part = GMIME_PART(obj);
  const std::string type = mime_type_of(obj);
  const bool attachment = is_attachment(obj);
  ++w.leaf_parts;
  if (attachment) ++w.attachments;
  std::string content = decoded_content(part);
  // What a client shows of a text part: converted from its charset.
  std::optional<std::string> text;
  if (GMIME_IS_TEXT_PART(obj)) text = text_of(obj, content);

  const bool encoded_message = is_encoded_message(type, part);
  find_ciphertext(obj, type, content, text, path, in_attached || encoded_message, w);
  if (encoded_message) {
    if (!attachment) ++w.attachments;  // an attached message counts as one
    walk_encoded_message(content, path, depth, w);
  }
  if (!in_attached && !encoded_message && !path.empty() && w.signed_marker.empty()) {
    for (const ArmorBlock& b : find_armor_blocks(content)) {
      if (b.kind == ArmorKind::signed_message) {
        w.signed_marker = "an inline signed block in " + part_name(path) +
                          " is not the whole message";
        break;
      }
    }
  }
  if (!attachment && !in_attached) {
    if (type == "text/plain" && !w.body_text) {
      w.body_text = cut_utf8(text ? *text : text_of(obj, content), kBodyHeadMax, &w.text_truncated);
    } else if (type == "text/html" && !w.body_html) {
      w.body_html = cut_utf8(html_to_text(text ? *text : text_of(obj, content), kBodyHeadMax + 1),
                             kBodyHeadMax, &w.html_truncated);
    }
  }
  if (path.empty()) w.root_content = std::move(content);
}

// The text around a multipart's parts (preamble, epilogue) is shown by
// some clients; an armor marker there counts as well.
void find_ciphertext_around(GMimeMultipart* mp, const std::string& path, bool in_attached,
                            Walk& w) {
  for (const char* around : {g_mime_multipart_get_prologue(mp), g_mime_multipart_get_epilogue(mp)}) {
    if (around && count_armor_markers(around) > 0) {
      add_ciphertext(w, CiphertextKind::armored_message, path, in_attached);
      return;
    }
  }
}

void walk(GMimeObject* obj, const std::string& path, int depth, bool in_attached, Walk& w) {
  if (!obj) return;
  if (depth > kMaxDepth) {
    w.too_deep = true;
    return;
  }
  if (GMIME_IS_MULTIPART_ENCRYPTED(obj)) {
    // Its parts are the control part and the ciphertext: nothing to read.
    add_ciphertext(w, CiphertextKind::multipart_encrypted, path, in_attached);
    return;
  }
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    const int n = g_mime_multipart_get_count(mp);
    find_ciphertext_around(mp, path, in_attached, w);
    if (GMIME_IS_MULTIPART_SIGNED(obj)) {
      if (!path.empty() && !in_attached && w.signed_marker.empty()) {
        w.signed_marker = "a multipart/signed in " + part_name(path) +
                          " is not the whole message";
      }
      // Only the signed content; the signature part is a control part.
      if (n > 0) walk(g_mime_multipart_get_part(mp, 0), child_path(path, 0), depth + 1, in_attached, w);
      return;
    }
    for (int i = 0; i < n && !w.too_deep; ++i) {
      walk(g_mime_multipart_get_part(mp, i), child_path(path, i), depth + 1, in_attached, w);
    }
    return;
  }
  if (GMIME_IS_MESSAGE_PART(obj)) {
    ++w.leaf_parts;
    ++w.attachments;
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    if (inner) walk(g_mime_message_get_mime_part(inner), path, depth + 1, true, w);
    return;
  }
  if (GMIME_IS_PART(obj)) walk_leaf(obj, path, depth, in_attached, w);
}

// ------------------------------------------------ the root's crypto shape

struct Source {
  std::string_view raw;     // the bytes that were parsed
  gint64 headers_end = -1;  // offset of the blank line ending the root's headers
};

// RFC 1847: multipart/signed and multipart/encrypted name their protocol
// and have exactly two parts. Why `root` (a multipart/<subtype>) is not
// such a multipart, or nullopt when it is.
std::optional<Malformed> not_two_part_multipart(GMimeObject* root, std::string_view subtype,
                                                std::string_view protocol) {
  const std::string type = "multipart/" + std::string(subtype);
  if (!iequals(trim(param_of(root, "protocol")), protocol)) {
    return Malformed{type + " protocol is not " + std::string(protocol)};
  }
  if (g_mime_multipart_get_count(GMIME_MULTIPART(root)) != 2) {
    return Malformed{type + " does not have exactly two parts"};
  }
  return std::nullopt;
}

Shape pgpmime_signed(GMimeObject* root, const Source& src) {
  if (auto bad = not_two_part_multipart(root, "signed", "application/pgp-signature")) return *bad;
  GMimeMultipart* mp = GMIME_MULTIPART(root);
  GMimeObject* content = g_mime_multipart_get_part(mp, 0);
  GMimeObject* sig = g_mime_multipart_get_part(mp, 1);
  if (!content || !sig || !GMIME_IS_PART(sig) ||
      mime_type_of(sig) != "application/pgp-signature") {
    return Malformed{"the second part of multipart/signed is not application/pgp-signature"};
  }
  const char* boundary = g_mime_multipart_get_boundary(mp);
  if (!boundary || !*boundary) return Malformed{"multipart/signed has no boundary"};
  if (src.headers_end < 0) return Malformed{"cannot locate the end of the headers"};
  const std::size_t body = body_begin_after(src.raw, static_cast<std::size_t>(src.headers_end));
  if (body == std::string_view::npos) return Malformed{"cannot locate the end of the headers"};

  const RawMultipart layout = split_multipart(src.raw, body, boundary);
  if (layout.parts.size() != 2) {
    return Malformed{"multipart/signed boundaries do not delimit exactly two parts"};
  }
  if (!layout.closed) return Malformed{"multipart/signed has no closing boundary"};
  const RawSpan signed_span = layout.parts[0];
  // Cross-check with GMime's reading: the parts must start where GMime found
  // their first header field. A mismatch means the two readings differ.
  const gint64 content_at = first_header_offset(content);
  const gint64 sig_at = first_header_offset(sig);
  if ((content_at >= 0 && static_cast<std::size_t>(content_at) != signed_span.begin) ||
      sig_at < 0 || static_cast<std::size_t>(sig_at) != layout.parts[1].begin) {
    return Malformed{"multipart/signed parts are ambiguous"};
  }
  if (signed_span.end <= signed_span.begin) return Malformed{"the signed part is empty"};

  PgpMimeSigned out;
  out.signed_bytes =
      to_canonical_crlf(src.raw.substr(signed_span.begin, signed_span.end - signed_span.begin));
  out.signature = decoded_content(GMIME_PART(sig));
  if (trim(out.signature).empty()) return Malformed{"the signature part is empty"};
  out.micalg = ascii_lower(trim(param_of(root, "micalg")));
  return out;
}

bool has_version_one(std::string_view control) {
  bool seen = false;
  std::size_t pos = 0;
  while (pos <= control.size()) {
    const std::size_t lf = control.find('\n', pos);
    const std::string_view line =
        trim(control.substr(pos, lf == std::string_view::npos ? std::string_view::npos : lf - pos));
    if (!line.empty()) {
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || !iequals(trim(line.substr(0, colon)), "Version") ||
          trim(line.substr(colon + 1)) != "1" || seen) {
        return false;
      }
      seen = true;
    }
    if (lf == std::string_view::npos) break;
    pos = lf + 1;
  }
  return seen;
}

Shape pgpmime_encrypted(GMimeObject* root) {
  if (auto bad = not_two_part_multipart(root, "encrypted", "application/pgp-encrypted")) {
    return *bad;
  }
  GMimeMultipart* mp = GMIME_MULTIPART(root);
  GMimeObject* control = g_mime_multipart_get_part(mp, 0);
  GMimeObject* data = g_mime_multipart_get_part(mp, 1);
  if (!control || !GMIME_IS_PART(control) ||
      mime_type_of(control) != "application/pgp-encrypted") {
    return Malformed{"the first part of multipart/encrypted is not application/pgp-encrypted"};
  }
  if (!has_version_one(decoded_content(GMIME_PART(control)))) {
    return Malformed{"the application/pgp-encrypted part does not say \"Version: 1\""};
  }
  if (!data || !GMIME_IS_PART(data) || mime_type_of(data) != "application/octet-stream") {
    return Malformed{"the second part of multipart/encrypted is not application/octet-stream"};
  }
  PgpMimeEncrypted out;
  out.ciphertext = decoded_content(GMIME_PART(data));
  if (trim(out.ciphertext).empty()) return Malformed{"the encrypted part is empty"};
  return out;
}

// The shape of the root entity, after the walk.
Shape classify(GMimeObject* root, const Source& src, const Findings& findings, const Walk& w) {
  if (findings.callback_failed) return Malformed{"out of memory while parsing"};
  if (!findings.fatal.empty()) return Malformed{findings.fatal.front()};
  if (w.too_deep) {
    return Malformed{"MIME nesting deeper than " + std::to_string(kMaxDepth) + " levels"};
  }
  if (root && GMIME_IS_MULTIPART_SIGNED(root)) return pgpmime_signed(root, src);
  if (root && GMIME_IS_MULTIPART_ENCRYPTED(root)) return pgpmime_encrypted(root);
  if (root && GMIME_IS_PART(root) && mime_type_of(root) == "text/plain") {
    Shape s = classify_inline(w.root_content, "the body");
    if (!std::holds_alternative<Plain>(s)) return s;
  }
  if (!w.signed_marker.empty()) return PartlySigned{w.signed_marker};
  if (!w.encrypted_marker.empty()) return PartlyEncrypted{w.encrypted_marker};
  return Plain{};
}

// Fills an Entity from a parsed root. `outermost` is true for a received
// message: its own encryption layer is not nested ciphertext.
Entity make_entity(GMimeObject* root, const Source& src, const Findings& findings,
                   bool outermost) {
  Walk w;
  walk(root, "", 0, false, w);
  Entity e;
  e.shape = classify(root, src, findings, w);
  const ShapeKind kind = kind_of(e.shape);
  for (CiphertextLocation& c : w.ciphertext) {
    const bool own_layer =
        outermost && c.path.empty() &&
        ((kind == ShapeKind::pgpmime_encrypted && c.kind == CiphertextKind::multipart_encrypted) ||
         (kind == ShapeKind::inline_encrypted && c.kind == CiphertextKind::armored_message &&
          !w.root_has_more_armor));
    if (!own_layer) e.nested_ciphertext.push_back(std::move(c));
  }
  if (w.body_text) {
    e.body_head = std::move(*w.body_text);
    e.body_head_truncated = w.text_truncated;
  } else if (w.body_html) {
    e.body_head = std::move(*w.body_html);
    e.body_head_truncated = w.html_truncated;
  }
  e.leaf_parts = w.leaf_parts;
  e.attachments = w.attachments;
  e.parser_warnings = findings.warnings;
  return e;
}

// -------------------------------------------------------------- parsing

// Everything one parse owns. Declaration order matters: the findings and
// options outlive the GMime objects that may report into them.
struct Parse {
  Findings findings;
  OptionsPtr options;
  MemoryParser input;
  GPtr<GMimeObject> object;  // a GMimeMessage or the root GMimeObject
  gint64 headers_end = -1;
};

std::unique_ptr<Parse> run_parser(std::string_view raw, bool as_message) {
  initialize();
  auto p = std::make_unique<Parse>();
  p->options = new_options(&p->findings);
  // The memory stream copies the bytes; with persist_stream the parts refer
  // to ranges of that copy instead of copying again.
  p->input = parser_over(raw);
  GMimeParser* parser = p->input.parser.get();
  g_mime_parser_set_persist_stream(parser, TRUE);
  if (as_message) {
    p->object.reset(GMIME_OBJECT(g_mime_parser_construct_message(parser, p->options.get())));
  } else {
    p->object.reset(g_mime_parser_construct_part(parser, p->options.get()));
  }
  p->headers_end = g_mime_parser_get_headers_end(parser);
  return p;
}

// The decoded content of an encoded message leaf, parsed as a message of
// its own and walked like an attached one (its findings do not change the
// outer message's shape; its ciphertext is nested all the same).
void walk_encoded_message(const std::string& content, const std::string& path, int depth,
                          Walk& w) {
  std::unique_ptr<Parse> p = run_parser(content, true);
  if (!p->object || !GMIME_IS_MESSAGE(p->object.get())) return;
  walk(g_mime_message_get_mime_part(GMIME_MESSAGE(p->object.get())), path, depth + 1, true, w);
}

void parse_from(Message& m, const std::vector<RawHeader>& headers) {
  for (const RawHeader& h : headers) {
    if (!iequals(h.name, "From")) continue;
    m.from_headers.push_back(h.value);
    Findings f;
    OptionsPtr o = new_options(&f);
    GPtr<InternetAddressList> list(internet_address_list_parse(o.get(), h.value.c_str()));
    const AddressListSyntax syntax = check_address_list(h.value);
    // GMime reports what it had to skip or guess as a warning; the strict
    // check must agree with GMime's reading, count for count.
    bool bad = !list || f.callback_failed || !syntax.valid || f.address_problems > 0 ||
               !f.warnings.empty() || !f.fatal.empty();
    const std::size_t mailboxes_before = m.from_mailboxes.size();
    const int groups_before = m.from_groups;
    if (list) {
      const int n = internet_address_list_length(list.get());
      for (int i = 0; i < n; ++i) {
        InternetAddress* a = internet_address_list_get_address(list.get(), i);
        if (INTERNET_ADDRESS_IS_GROUP(a)) {
          ++m.from_groups;
          InternetAddressList* members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a));
          const int k = members ? internet_address_list_length(members) : 0;
          for (int j = 0; j < k; ++j) {
            InternetAddress* b = internet_address_list_get_address(members, j);
            if (INTERNET_ADDRESS_IS_MAILBOX(b)) {
              m.from_mailboxes.push_back(
                  {sanitize_utf8(str_or_empty(internet_address_get_name(b))),
                   str_or_empty(internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(b)))});
            } else {
              bad = true;  // groups do not nest
            }
          }
        } else if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
          m.from_mailboxes.push_back(
              {sanitize_utf8(str_or_empty(internet_address_get_name(a))),
               str_or_empty(internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(a)))});
        }
      }
    }
    if (static_cast<int>(m.from_mailboxes.size() - mailboxes_before) != syntax.mailboxes ||
        m.from_groups - groups_before != syntax.groups) {
      bad = true;
    }
    if (bad) m.from_unparsable = true;
  }
}

std::vector<std::string> parse_ids(GMimeParserOptions* options, const std::string& value) {
  std::vector<std::string> out;
  ReferencesPtr refs(g_mime_references_parse(options, value.c_str()));
  if (!refs) return out;
  const int n = g_mime_references_length(refs.get());
  for (int i = 0; i < n; ++i) {
    const char* id = g_mime_references_get_message_id(refs.get(), i);
    if (id && *id) out.emplace_back(id);
  }
  return out;
}

}  // namespace

void initialize() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_mime_init();
    // Create the GObject classes now, on this thread, instead of lazily in
    // whichever parsing thread meets a type first. GLib's type system is
    // thread-safe either way; this keeps the one-time work in one known
    // place. The references are kept for the life of the process.
    const GType types[] = {
        GMIME_TYPE_PARSER,          GMIME_TYPE_STREAM_MEM,         GMIME_TYPE_MESSAGE,
        GMIME_TYPE_PART,            GMIME_TYPE_TEXT_PART,          GMIME_TYPE_MULTIPART,
        GMIME_TYPE_MULTIPART_SIGNED, GMIME_TYPE_MULTIPART_ENCRYPTED, GMIME_TYPE_MESSAGE_PART,
        GMIME_TYPE_MESSAGE_PARTIAL, GMIME_TYPE_DATA_WRAPPER,       GMIME_TYPE_CONTENT_TYPE,
        GMIME_TYPE_CONTENT_DISPOSITION, GMIME_TYPE_HEADER_LIST,    GMIME_TYPE_STREAM_FILTER,
        GMIME_TYPE_FILTER_BASIC,    GMIME_TYPE_FILTER_CHARSET,     INTERNET_ADDRESS_LIST_TYPE,
        INTERNET_ADDRESS_TYPE_MAILBOX, INTERNET_ADDRESS_TYPE_GROUP,
    };
    for (GType t : types) g_type_class_ref(t);
  });
}

std::string decode_header_text(std::string_view value) {
  initialize();
  OptionsPtr o = new_options(nullptr);
  return decode_text_with(o.get(), std::string(value));
}

Result<Message> parse_message(std::string_view raw) {
  std::unique_ptr<Parse> p = run_parser(raw, true);
  if (!p->object || !GMIME_IS_MESSAGE(p->object.get())) {
    return Unexpected(Error::refused("not a MIME message"));
  }
  GMimeMessage* msg = GMIME_MESSAGE(p->object.get());
  GMimeObject* root = g_mime_message_get_mime_part(msg);

  Message m;
  // GMime files the Content-* fields under the root part: merge both lists
  // back into input order.
  std::vector<RawHeader> headers;
  collect_headers(p->object.get(), headers);
  if (root) collect_headers(root, headers);
  std::stable_sort(headers.begin(), headers.end(),
                   [](const RawHeader& a, const RawHeader& b) { return a.offset < b.offset; });
  for (const RawHeader& h : headers) m.headers.push_back({h.name, h.value});

  parse_from(m, headers);
  OptionsPtr plain_options = new_options(nullptr);
  bool have_message_id = false;
  bool have_date = false;
  for (const RawHeader& h : headers) {
    if (iequals(h.name, "Subject")) {
      m.subjects.push_back(decode_text_with(plain_options.get(), h.value));
      if (m.subjects.size() == 1) m.subject_raw = h.value;
    } else if (iequals(h.name, "Message-ID") && !have_message_id) {
      have_message_id = true;
      GChars id(g_mime_utils_decode_message_id(h.value.c_str()));
      if (id) m.message_id = id.get();
    } else if (iequals(h.name, "In-Reply-To")) {
      for (std::string& id : parse_ids(plain_options.get(), h.value)) m.in_reply_to.push_back(std::move(id));
    } else if (iequals(h.name, "References")) {
      for (std::string& id : parse_ids(plain_options.get(), h.value)) m.references.push_back(std::move(id));
    } else if (iequals(h.name, "Date") && !have_date) {
      have_date = true;
      m.date = h.value;
    }
  }
  if (!m.subjects.empty()) m.subject = m.subjects.front();

  const Source src{raw, p->headers_end};
  m.content = make_entity(root, src, p->findings, true);
  return m;
}

Result<Entity> parse_entity(std::string_view entity) {
  std::unique_ptr<Parse> p = run_parser(entity, false);
  if (!p->object) return Unexpected(Error::refused("not a MIME entity"));
  GMimeObject* root = p->object.get();
  const Source src{entity, p->headers_end};
  Entity e = make_entity(root, src, p->findings, false);

  if (iequals(trim(param_of(root, "protected-headers")), "v1")) {
    e.has_protected_headers = true;
    std::vector<RawHeader> headers;
    collect_headers(root, headers);
    OptionsPtr o = new_options(nullptr);
    for (const RawHeader& h : headers) {
      if (is_content_header(h.name)) continue;
      e.protected_headers.push_back({h.name, h.value});
      if (!e.protected_subject && iequals(h.name, "Subject")) {
        e.protected_subject = decode_text_with(o.get(), h.value);
      }
    }
  }
  return e;
}

}  // namespace tlpmail::mime
