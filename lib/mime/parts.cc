// leaf_parts(): the leaf parts of a MIME entity with their transfer-decoded
// content, for a stage that looks at what a verified message carries (an
// attached key for update-key). Bounded: at most a given number of parts,
// each at most a given size. Walks multiparts only: an attached message
// (message/rfc822) is one leaf whose content is its raw text. GMime types
// stay in this file; classification and nested ciphertext are message.cc's.
#include <gmime/gmime.h>

#include <memory>

#include "mime/gmime_ptr.h"
#include "mime/mime.h"
#include "util/text.h"

namespace tlpmail::mime {
namespace {

std::string type_of(GMimeObject* obj) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (!ct) return "text/plain";
  GChars s(g_mime_content_type_get_mime_type(ct));
  return s ? ascii_lower(s.get()) : std::string("text/plain");
}

// The content as it would be decoded, or nullopt when it is larger than
// `max` (decoding never makes base64 or quoted-printable larger, so the
// encoded length bounds the work before anything is decoded).
std::optional<std::string> decoded(GMimePart* part, std::size_t max) {
  GMimeDataWrapper* w = g_mime_part_get_content(part);
  if (!w) return std::string();
  GMimeStream* in = g_mime_data_wrapper_get_stream(w);
  const gint64 encoded = in ? g_mime_stream_length(in) : 0;
  const GMimeContentEncoding e = g_mime_data_wrapper_get_encoding(w);
  const bool shrinks = e == GMIME_CONTENT_ENCODING_BASE64 ||
                       e == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
  if (encoded > 0 && !shrinks && static_cast<std::uint64_t>(encoded) > max) return std::nullopt;
  // uuencode and unknown encodings: decoded like GMime does, then checked.
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(w, out.get()) < 0) return std::string();
  GByteArray* a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  if (!a || a->len == 0) return std::string();
  if (a->len > max) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(a->data), a->len);
}

std::string raw_text(GMimeObject* obj, std::size_t max, bool* too_large) {
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  GMimeMessage* m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
  if (!m) return {};
  if (g_mime_object_write_to_stream(GMIME_OBJECT(m), nullptr, out.get()) < 0) return {};
  GByteArray* a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  if (!a) return {};
  if (a->len > max) {
    *too_large = true;
    return {};
  }
  return std::string(reinterpret_cast<const char*>(a->data), a->len);
}

struct Walker {
  std::size_t max_parts;
  std::size_t max_bytes;
  std::vector<LeafPart> out;
  bool cut = false;

  void leaf(GMimeObject* obj, const std::string& path) {
    if (out.size() >= max_parts) {
      cut = true;
      return;
    }
    LeafPart p;
    p.path = path;
    p.content_type = type_of(obj);
    const char* disposition = g_mime_object_get_disposition(obj);
    p.attachment = disposition && iequals(disposition, "attachment");
    if (GMIME_IS_PART(obj)) {
      if (const char* name = g_mime_part_get_filename(GMIME_PART(obj))) {
        p.filename = name;
        p.attachment = true;
      }
      auto data = decoded(GMIME_PART(obj), max_bytes);
      if (data) {
        p.data = std::move(*data);
      } else {
        p.too_large = true;
      }
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
      p.data = raw_text(obj, max_bytes, &p.too_large);
    }
    out.push_back(std::move(p));
  }

  void walk(GMimeObject* obj, const std::string& path, int depth) {
    if (depth > kMaxDepth || cut) {
      cut = true;
      return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      const int n = g_mime_multipart_get_count(mp);
      for (int i = 0; i < n; ++i) {
        const std::string child =
            path.empty() ? std::to_string(i + 1) : path + "." + std::to_string(i + 1);
        walk(g_mime_multipart_get_part(mp, i), child, depth + 1);
      }
      return;
    }
    leaf(obj, path);
  }
};

}  // namespace

Result<LeafParts> leaf_parts(std::string_view entity, std::size_t max_parts,
                             std::size_t max_bytes) {
  initialize();
  OptionsPtr options(g_mime_parser_options_new());
  const MemoryParser p = parser_over(entity);
  GPtr<GMimeObject> root(g_mime_parser_construct_part(p.parser.get(), options.get()));
  if (!root) return Unexpected(Error::refused("not a MIME entity"));
  Walker w{max_parts, max_bytes, {}, false};
  w.walk(root.get(), "", 0);
  return LeafParts{std::move(w.out), w.cut};
}

}  // namespace tlpmail::mime
