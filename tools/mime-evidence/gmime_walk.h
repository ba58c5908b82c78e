// Parse + walk of one message with GMime 3: what a remailer would read
// (content types, parameters, decoded Subject and From, filenames, decoded
// part content). Shared by gmime_probe.cpp and fuzz_gmime.cpp.
// Caller must have called g_mime_init(). Not part of tlpmail.
#pragma once

#include <gmime/gmime.h>

#include <string>

namespace mime_evidence {

struct GmimeWalkStats {
  long parts = 0;
  long decoded_bytes = 0;
  long header_bytes = 0;
  int max_depth = 0;
  bool refused = false;  // g_mime_parser_construct_message returned NULL
};

inline void gmime_walk_object(GMimeObject* obj, int depth, GmimeWalkStats& st);

inline void gmime_walk_message(GMimeMessage* msg, int depth, GmimeWalkStats& st) {
  const char* subject = g_mime_message_get_subject(msg);
  if (subject) st.header_bytes += static_cast<long>(std::string(subject).size());
  InternetAddressList* from = g_mime_message_get_from(msg);
  if (from) {
    char* s = internet_address_list_to_string(from, nullptr, FALSE);
    if (s) {
      st.header_bytes += static_cast<long>(std::string(s).size());
      g_free(s);
    }
  }
  GMimeObject* body = g_mime_message_get_mime_part(msg);
  if (body) gmime_walk_object(body, depth + 1, st);
}

inline void gmime_walk_object(GMimeObject* obj, int depth, GmimeWalkStats& st) {
  ++st.parts;
  if (depth > st.max_depth) st.max_depth = depth;
  const char* charset = g_mime_object_get_content_type_parameter(obj, "charset");
  if (charset) st.header_bytes += static_cast<long>(std::string(charset).size());
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    const char* boundary = g_mime_multipart_get_boundary(mp);
    if (boundary) st.header_bytes += static_cast<long>(std::string(boundary).size());
    const int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i) gmime_walk_object(g_mime_multipart_get_part(mp, i), depth + 1, st);
  } else if (GMIME_IS_MESSAGE_PART(obj)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    if (inner) gmime_walk_message(inner, depth, st);
  } else if (GMIME_IS_PART(obj)) {
    GMimePart* part = GMIME_PART(obj);
    const char* filename = g_mime_part_get_filename(part);
    if (filename) st.header_bytes += static_cast<long>(std::string(filename).size());
    GMimeDataWrapper* content = g_mime_part_get_content(part);
    if (content) {
      GMimeStream* out = g_mime_stream_mem_new();
      g_mime_data_wrapper_write_to_stream(content, out);  // decodes base64/QP
      st.decoded_bytes += static_cast<long>(g_mime_stream_length(out));
      g_object_unref(out);
    }
  }
}

// Parses bytes as a message (persisting the stream when persist is true) and
// walks it. The message is released before returning.
inline void gmime_parse_and_walk(const char* data, std::size_t len, bool persist,
                                 GmimeWalkStats& st) {
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(data, len);
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_persist_stream(parser, persist ? TRUE : FALSE);
  GMimeMessage* msg = g_mime_parser_construct_message(parser, nullptr);
  if (msg) {
    gmime_walk_message(msg, 0, st);
    g_object_unref(msg);
  } else {
    st.refused = true;
  }
  g_object_unref(parser);
  g_object_unref(stream);
}

}  // namespace mime_evidence
