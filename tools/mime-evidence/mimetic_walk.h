// Parse + walk of one message with mimetic 0.9.8: what a remailer would read
// (content type and parameters, Subject, From, filename, decoded base64/QP
// content). Shared by mimetic_probe.cpp and fuzz_mimetic.cpp.
// Not part of tlpmail.
#pragma once

#include <mimetic/mimetic.h>

#include <exception>
#include <iterator>
#include <sstream>
#include <string>

namespace mime_evidence {

enum class Variant { kIterator, kStream, kLoad };

struct WalkStats {
  long parts = 0;
  long decoded_bytes = 0;
  long header_bytes = 0;
  int max_depth = 0;
};

inline void walk(const mimetic::MimeEntity& me, int depth, WalkStats& st) {
  ++st.parts;
  if (depth > st.max_depth) st.max_depth = depth;
  const mimetic::Header& h = me.header();
  // Touch what a remailer reads: type, parameters, subject, sender, filename.
  const mimetic::ContentType& ct = h.contentType();
  std::string sink = ct.type() + "/" + ct.subtype() + ct.param("boundary") +
                     ct.param("charset") + h.subject() +
                     h.contentDisposition().param("filename");
  if (h.hasField("From")) sink += h.from().str();
  const std::string enc = h.contentTransferEncoding().mechanism();
  std::string decoded;
  if (mimetic::istring(enc) == "base64") {
    mimetic::Base64::Decoder dec;
    mimetic::code(me.body().begin(), me.body().end(), dec, std::back_inserter(decoded));
  } else if (mimetic::istring(enc) == "quoted-printable") {
    mimetic::QP::Decoder dec;
    mimetic::code(me.body().begin(), me.body().end(), dec, std::back_inserter(decoded));
  }
  st.decoded_bytes += static_cast<long>(decoded.size());
  st.header_bytes += static_cast<long>(sink.size());
  for (const mimetic::MimeEntity* child : me.body().parts()) walk(*child, depth + 1, st);
}

// Returns an empty string on success, the exception text otherwise.
inline std::string parse_and_walk(const std::string& bytes, Variant v, WalkStats& st) {
  try {
    switch (v) {
      case Variant::kIterator: {
        mimetic::MimeEntity me(bytes.begin(), bytes.end());
        walk(me, 0, st);
        break;
      }
      case Variant::kStream: {
        std::istringstream is(bytes);
        mimetic::MimeEntity me(is);
        walk(me, 0, st);
        break;
      }
      case Variant::kLoad: {
        // Default-construct, then load: if load throws, the destructor of
        // the already-constructed entity still runs.
        mimetic::MimeEntity me;
        me.load(bytes.begin(), bytes.end());
        walk(me, 0, st);
        break;
      }
    }
  } catch (const std::exception& e) {
    return std::string("exception: ") + e.what();
  }
  return {};
}

}  // namespace mime_evidence
