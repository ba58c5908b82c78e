// Drives GMime 3 over the evidence corpus: parse + walk one message (for
// ASan/LSan and valgrind), a loop of malformed messages (heap and RSS
// growth), byte-exact extraction of the signed part of a multipart/signed
// file (three ways), GMime's own signature check, and header decoding.
// Prints plain "key: value" lines for run.sh. Not part of tlpmail.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "corpus.h"
#include "gmime_walk.h"

namespace {

using mime_evidence::GmimeWalkStats;
using mime_evidence::Sample;

std::size_t huge_bytes() {
  const char* e = std::getenv("HUGE_HEADER_BYTES");
  return e ? std::strtoul(e, nullptr, 10) : 1048576;
}

int cmd_parse(const std::string& name) {
  for (const Sample& s : mime_evidence::corpus(huge_bytes())) {
    if (s.name != name) continue;
    GmimeWalkStats st;
    mime_evidence::gmime_parse_and_walk(s.bytes.data(), s.bytes.size(), true, st);
    std::cout << "gmime " << name << ": parts=" << st.parts << " depth=" << st.max_depth
              << " decoded=" << st.decoded_bytes << (st.refused ? " refused" : "") << "\n";
    return 0;
  }
  std::cerr << "unknown sample " << name << "\n";
  return 2;
}

int cmd_loop(long n, const std::string& only) {
  std::vector<Sample> all = mime_evidence::corpus(huge_bytes());
  std::vector<const Sample*> bad;
  for (const Sample& s : all) {
    if (s.malformed && (s.name == only || (only.empty() && s.in_loop))) bad.push_back(&s);
  }
  if (bad.empty()) return 2;
  for (const Sample* s : bad) {  // warm-up: one-time type registrations etc.
    GmimeWalkStats st;
    mime_evidence::gmime_parse_and_walk(s->bytes.data(), s->bytes.size(), true, st);
  }
  const long rss0 = mime_evidence::rss_kib();
  const long heap0 = mime_evidence::heap_in_use_bytes();
  long refused = 0;
  for (long i = 0; i < n; ++i) {
    const Sample* s = bad[static_cast<std::size_t>(i) % bad.size()];
    GmimeWalkStats st;
    mime_evidence::gmime_parse_and_walk(s->bytes.data(), s->bytes.size(), true, st);
    if (st.refused) ++refused;
  }
  const long rss1 = mime_evidence::rss_kib();
  const long heap1 = mime_evidence::heap_in_use_bytes();
  std::cout << "gmime loop " << (only.empty() ? "mix" : only) << " n=" << n
            << " refused=" << refused << " heap_growth_bytes=" << (heap1 - heap0)
            << " rss_before_kib=" << rss0 << " rss_after_kib=" << rss1
            << " rss_growth_kib=" << (rss1 - rss0) << "\n";
  return 0;
}

std::string stream_bytes(GMimeStream* s) {
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
  return std::string(reinterpret_cast<const char*>(arr->data), arr->len);
}

// Writes OUTDIR/gmime-write-dos.part (g_mime_object_write_to_stream with
// DOS newlines, what g_mime_multipart_signed_verify itself hashes),
// OUTDIR/gmime-to-string.part (g_mime_object_to_string with default options,
// then CRLF), OUTDIR/gmime-offsets.part (input bytes sliced at the parser's
// header offsets) and OUTDIR/gmime.sig (decoded signature part).
int cmd_signed(const std::string& file, const std::string& outdir) {
  const std::string bytes = mime_evidence::read_file(file);
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_persist_stream(parser, TRUE);
  GMimeMessage* msg = g_mime_parser_construct_message(parser, nullptr);
  int rc = 1;
  GMimeObject* top = msg ? g_mime_message_get_mime_part(msg) : nullptr;
  if (top && GMIME_IS_MULTIPART_SIGNED(top) && g_mime_multipart_get_count(GMIME_MULTIPART(top)) == 2) {
    GMimeMultipart* mp = GMIME_MULTIPART(top);
    GMimeObject* content = g_mime_multipart_get_part(mp, GMIME_MULTIPART_SIGNED_CONTENT);
    GMimeObject* sig = g_mime_multipart_get_part(mp, GMIME_MULTIPART_SIGNED_SIGNATURE);

    GMimeFormatOptions* dos = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(dos, GMIME_NEWLINE_FORMAT_DOS);
    GMimeStream* out = g_mime_stream_mem_new();
    g_mime_object_write_to_stream(content, dos, out);
    mime_evidence::write_file(outdir + "/gmime-write-dos.part", stream_bytes(out));
    g_object_unref(out);
    g_mime_format_options_free(dos);

    char* str = g_mime_object_to_string(content, nullptr);
    mime_evidence::write_file(outdir + "/gmime-to-string.part", mime_evidence::to_crlf(str));
    g_free(str);

    // Offsets: first header of the content part up to the newline that
    // precedes the boundary line in front of the signature part.
    GMimeHeaderList* ch = g_mime_object_get_header_list(content);
    GMimeHeaderList* sh = g_mime_object_get_header_list(sig);
    if (g_mime_header_list_get_count(ch) > 0 && g_mime_header_list_get_count(sh) > 0) {
      const gint64 begin = g_mime_header_get_offset(g_mime_header_list_get_header_at(ch, 0));
      const gint64 sig_begin = g_mime_header_get_offset(g_mime_header_list_get_header_at(sh, 0));
      const std::string delim = std::string("\n--") + g_mime_multipart_get_boundary(mp);
      std::size_t end = bytes.rfind(delim, static_cast<std::size_t>(sig_begin));
      if (begin >= 0 && end != std::string::npos && end > static_cast<std::size_t>(begin)) {
        if (bytes[end - 1] == '\r') --end;
        mime_evidence::write_file(
            outdir + "/gmime-offsets.part",
            mime_evidence::to_crlf(bytes.substr(static_cast<std::size_t>(begin),
                                                end - static_cast<std::size_t>(begin))));
        std::cout << "gmime offsets: content headers begin at " << begin << ", part ends at " << end
                  << "\n";
      }
    }

    GMimeStream* sigout = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(sig)), sigout);
    mime_evidence::write_file(outdir + "/gmime.sig", stream_bytes(sigout));
    g_object_unref(sigout);

    // GMime's own verification (GPGME underneath, GNUPGHOME from the env).
    GError* err = nullptr;
    GMimeSignatureList* sigs =
        g_mime_multipart_signed_verify(GMIME_MULTIPART_SIGNED(top), GMIME_VERIFY_NONE, &err);
    if (sigs) {
      for (int i = 0; i < g_mime_signature_list_length(sigs); ++i) {
        GMimeSignature* s = g_mime_signature_list_get_signature(sigs, i);
        const unsigned status = g_mime_signature_get_status(s);
        std::cout << "gmime verify: status=0x" << std::hex << status << std::dec
                  << ((status & GMIME_SIGNATURE_STATUS_RED) ? " BAD" : " GOOD") << "\n";
      }
      g_object_unref(sigs);
    } else {
      std::cout << "gmime verify: error " << (err ? err->message : "?") << "\n";
      if (err) g_error_free(err);
    }
    rc = 0;
  } else {
    std::cout << "gmime: not a two-part multipart/signed\n";
  }
  if (msg) g_object_unref(msg);
  g_object_unref(parser);
  g_object_unref(stream);
  return rc;
}

int cmd_headers(const std::string& file) {
  const std::string bytes = mime_evidence::read_file(file);
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* msg = g_mime_parser_construct_message(parser, nullptr);
  if (msg) {
    const char* subject = g_mime_message_get_subject(msg);
    std::cout << "subject: " << (subject ? subject : "(null)") << "\n";
    GMimeObject* body = g_mime_message_get_mime_part(msg);
    if (body && GMIME_IS_PART(body)) {
      const char* fn = g_mime_part_get_filename(GMIME_PART(body));
      std::cout << "filename: " << (fn ? fn : "(null)") << "\n";
    }
    g_object_unref(msg);
  }
  g_object_unref(parser);
  g_object_unref(stream);
  return msg ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  g_mime_init();
  const std::string cmd = argc > 1 ? argv[1] : "";
  int rc = 2;
  if (cmd == "selftest-leak") {
    // Proves the leak checkers are live: leaks exactly 4096 bytes.
    char* volatile lost = static_cast<char*>(g_malloc(4096));
    lost[0] = 1;
    lost = nullptr;
    std::cout << "gmime selftest-leak: leaked 4096 bytes on purpose\n";
    rc = 0;
  } else if (cmd == "parse" && argc > 2) {
    rc = cmd_parse(argv[2]);
  } else if (cmd == "loop" && argc > 2) {
    rc = cmd_loop(std::atol(argv[2]), argc > 3 ? argv[3] : "");
  } else if (cmd == "signed" && argc > 3) {
    rc = cmd_signed(argv[2], argv[3]);
  } else if (cmd == "headers" && argc > 2) {
    rc = cmd_headers(argv[2]);
  } else {
    std::cerr << "usage: gmime_probe parse NAME | loop N [NAME] | signed FILE OUTDIR |"
                 " headers FILE\n";
  }
  g_mime_shutdown();
  return rc;
}
