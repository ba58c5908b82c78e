// Drives mimetic 0.9.8 over the evidence corpus: parse + walk one message
// (for ASan/LSan and valgrind), a loop of malformed messages (heap and RSS
// growth), extraction of the signed part of a multipart/signed file, and
// header decoding. Prints plain "key: value" lines for run.sh to collect.
// Not part of tlpmail; tlpmail does not use mimetic.
#include <mimetic/mimetic.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>

#include "corpus.h"
#include "mimetic_walk.h"

namespace {

using mime_evidence::Sample;
using mime_evidence::Variant;
using mime_evidence::WalkStats;
using mime_evidence::parse_and_walk;

Variant variant_from(const char* s) {
  std::string v = s ? s : "iterator";
  if (v == "stream") return Variant::kStream;
  if (v == "load") return Variant::kLoad;
  return Variant::kIterator;
}

std::size_t huge_bytes() {
  const char* e = std::getenv("HUGE_HEADER_BYTES");
  return e ? std::strtoul(e, nullptr, 10) : 1048576;
}

int cmd_parse(const std::string& name, Variant v) {
  for (const Sample& s : mime_evidence::corpus(huge_bytes())) {
    if (s.name != name) continue;
    WalkStats st;
    std::string err = parse_and_walk(s.bytes, v, st);
    std::cout << "mimetic " << name << ": parts=" << st.parts << " depth=" << st.max_depth
              << " decoded=" << st.decoded_bytes << (err.empty() ? "" : " " + err) << "\n";
    return 0;
  }
  std::cerr << "unknown sample " << name << "\n";
  return 2;
}

int cmd_loop(long n, Variant v, const std::string& only) {
  std::vector<Sample> all = mime_evidence::corpus(huge_bytes());
  std::vector<const Sample*> bad;
  for (const Sample& s : all) {
    if (s.malformed && (s.name == only || (only.empty() && s.in_loop))) bad.push_back(&s);
  }
  if (bad.empty()) return 2;
  // Warm-up round so one-time allocations are not counted as growth.
  for (const Sample* s : bad) {
    WalkStats st;
    parse_and_walk(s->bytes, v, st);
  }
  const long rss0 = mime_evidence::rss_kib();
  const long heap0 = mime_evidence::heap_in_use_bytes();
  long exceptions = 0;
  for (long i = 0; i < n; ++i) {
    WalkStats st;
    if (!parse_and_walk(bad[static_cast<std::size_t>(i) % bad.size()]->bytes, v, st).empty()) {
      ++exceptions;
    }
  }
  const long rss1 = mime_evidence::rss_kib();
  const long heap1 = mime_evidence::heap_in_use_bytes();
  std::cout << "mimetic loop " << (only.empty() ? "mix" : only) << " n=" << n
            << " exceptions=" << exceptions << " heap_growth_bytes=" << (heap1 - heap0)
            << " rss_before_kib=" << rss0 << " rss_after_kib=" << rss1
            << " rss_growth_kib=" << (rss1 - rss0) << "\n";
  return 0;
}

// Writes OUTDIR/mimetic.part (first part as mimetic serialises it, CRLF)
// and OUTDIR/mimetic.sig (body of the second part).
int cmd_signed(const std::string& file, const std::string& outdir) {
  const std::string bytes = mime_evidence::read_file(file);
  mimetic::MimeEntity me(bytes.begin(), bytes.end());
  const mimetic::ContentType& ct = me.header().contentType();
  std::cout << "mimetic top type: " << ct.type() << "/" << ct.subtype()
            << " parts=" << me.body().parts().size() << "\n";
  if (me.body().parts().size() < 2) return 1;
  auto it = me.body().parts().begin();
  std::ostringstream part;
  part << **it;
  ++it;
  mime_evidence::write_file(outdir + "/mimetic.part", mime_evidence::to_crlf(part.str()));
  mime_evidence::write_file(outdir + "/mimetic.sig", (*it)->body());
  return 0;
}

int cmd_headers(const std::string& file) {
  const std::string bytes = mime_evidence::read_file(file);
  mimetic::MimeEntity me(bytes.begin(), bytes.end());
  std::cout << "subject: " << me.header().subject() << "\n";
  std::cout << "filename: " << me.header().contentDisposition().param("filename") << "\n";
  for (const mimetic::FieldParam& p : me.header().contentDisposition().paramList()) {
    std::cout << "  disposition param " << p.name() << " = " << p.value() << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "selftest-leak") {
    // Proves the leak checkers are live: leaks exactly 4096 bytes.
    char* volatile lost = new char[4096];
    lost[0] = 1;
    lost = nullptr;
    std::cout << "mimetic selftest-leak: leaked 4096 bytes on purpose\n";
    return 0;
  }
  if (cmd == "dump" && argc > 2) {
    // Writes every sample to DIR/NAME.eml (fuzzing seeds); HUGE_HEADER_BYTES applies.
    for (const Sample& s : mime_evidence::corpus(huge_bytes())) {
      if (!mime_evidence::write_file(std::string(argv[2]) + "/" + s.name + ".eml", s.bytes)) return 1;
    }
    return 0;
  }
  if (cmd == "list") {
    for (const Sample& s : mime_evidence::corpus(16)) {
      std::cout << s.name << "\n";
    }
    return 0;
  }
  if (cmd == "parse" && argc > 2) return cmd_parse(argv[2], variant_from(argc > 3 ? argv[3] : nullptr));
  if (cmd == "parse-file" && argc > 2) {
    const std::string bytes = mime_evidence::read_file(argv[2]);
    WalkStats st;
    const std::string err = parse_and_walk(bytes, variant_from(argc > 3 ? argv[3] : nullptr), st);
    std::cout << "mimetic " << argv[2] << ": parts=" << st.parts << " depth=" << st.max_depth
              << (err.empty() ? "" : " " + err) << "\n";
    return 0;
  }
  if (cmd == "loop" && argc > 2) {
    return cmd_loop(std::atol(argv[2]), variant_from(argc > 3 ? argv[3] : nullptr),
                    argc > 4 ? argv[4] : "");
  }
  if (cmd == "signed" && argc > 3) return cmd_signed(argv[2], argv[3]);
  if (cmd == "headers" && argc > 2) return cmd_headers(argv[2]);
  std::cerr << "usage: mimetic_probe list | parse NAME [iterator|stream|load] |"
               " loop N [variant] [NAME] | signed FILE OUTDIR | headers FILE\n";
  return 2;
}
