// The malformed-message corpus shared by the mimetic and GMime probes, plus
// small helpers both probes use (heap/RSS figures, file I/O).
// Every message is built deterministically in memory, so both libraries see
// exactly the same bytes. Not part of tlpmail: a one-off evidence kit for
// docs/decisions.md, built and run by tools/mime-evidence/run.sh.
#pragma once

#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "hostile.h"

namespace mime_evidence {

struct Sample {
  std::string name;
  std::string bytes;
  bool malformed = true;
  bool in_loop = true;  // false: too slow or fatal for a 10,000-message loop
};

// A well-formed control message: its figures are the baseline the malformed
// ones are compared against.
inline std::string control_message() {
  return "From: Alice <alice@example.org>\r\n"
         "To: list@example.org\r\n"
         "Subject: =?UTF-8?Q?=5BTLP=3AAMBER=5D_control?=\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
         "\r\n"
         "--outer\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "\r\n"
         "hello\r\n"
         "--outer\r\n"
         "Content-Type: application/octet-stream\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt\r\n"
         "\r\n"
         "aGVsbG8gd29ybGQK\r\n"
         "--outer--\r\n";
}

inline std::vector<Sample> corpus(std::size_t huge_header_bytes) {
  std::vector<Sample> out;
  out.push_back({"control", control_message(), false});

  out.push_back({"unterminated_boundary",
                 "From: a@example.org\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n"
                 "preamble\r\n--XYZ\r\nContent-Type: text/plain\r\n\r\none\r\n"
                 "--XYZ\r\nContent-Type: multipart/alternative; boundary=\"IN\"\r\n\r\n"
                 "--IN\r\nContent-Type: text/plain\r\n\r\ntwo, never closed\r\n",
                 true});

  out.push_back({"nested_1000_unclosed", nested_multipart(1000, false), true});
  out.push_back({"nested_1000_closed", nested_multipart(1000, true), true});
  // 50,000 levels is a 3.3 MB message, well under a 25 MiB size limit.
  // mimetic dies on it (stack overflow), so the loops leave it out.
  out.push_back({"nested_50000_unclosed", nested_multipart(50000, false), true, false});

  {
    std::string m = "From: a@example.org\r\nSubject: ";
    m.append(huge_header_bytes, 'A');
    m += "\r\nX-Folded: ";
    for (std::size_t i = 0; i < huge_header_bytes / 64; ++i) {
      m += "word word word word word word word word word word word\r\n ";
    }
    m += "end\r\nContent-Type: text/plain\r\n\r\nbody\r\n";
    out.push_back({"huge_header_line", m, true});
  }

  out.push_back({"broken_base64",
                 "From: a@example.org\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: multipart/mixed; boundary=\"q\"\r\n\r\n"
                 "--q\r\nContent-Type: application/octet-stream\r\n"
                 "Content-Transfer-Encoding: base64\r\n\r\n"
                 "aGVsbG8*!@#$====\r\nQQ=Q=\r\n====\r\n%%%%\r\nYWJj\x01\x02\xff\r\nQ\r\n"
                 "--q\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                 "=ZZ=4=\r\n=\r\n"
                 "--q--\r\n",
                 true});

  out.push_back({"missing_boundary_param",
                 "From: a@example.org\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: multipart/mixed\r\n\r\n"
                 "--\r\nContent-Type: text/plain\r\n\r\nx\r\n--\r\n\r\ny\r\n----\r\n",
                 true});

  out.push_back({"empty_boundary_param",
                 "From: a@example.org\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n"
                 "--\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n"
                 "----\r\n-- \r\nx\r\n",
                 true});

  out.push_back({"garbage_bytes", garbage(65536, 0x9e3779b9u), true});

  out.push_back({"truncated_headers",
                 "From: a@example.org\r\nSubject: =?UTF-8?Q?broken\r\n"
                 "Content-Type: multipart/signed; protocol=\"application/pgp-signature\";\r\n"
                 " micalg=pgp-sha256; boundary=\"unterminated-quote",
                 true});

  out.push_back({"bad_params_2231",
                 "From: =?utf-8?B?////?= <a@example.org>, , ,\r\nTo: <<<@@@>>>\r\n"
                 "Subject: =?x-unknown?Q?=FF=FE?= =?UTF-8?B?*?=\r\n"
                 "MIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset*0*=utf-8''%E2%82; charset*2=x;"
                 " charset*1*=%%%; name*=''; name*=bogus'''\r\n"
                 "Content-Disposition: attachment; filename*99999999999999999999*=a;"
                 " filename*0=\"a; filename*1=\r\n\r\nbody\r\n",
                 true});

  {
    static const char kCrNul[] =
        "From: a@example.org\rSubject: x\0y\r"
        "Content-Type: multipart/mixed; boundary=z\r\r--z\r"
        "\r\0\0\0\r--z--\r";
    out.push_back({"bare_cr_and_nul", std::string(kCrNul, sizeof(kCrNul) - 1), true});
  }

  // Found by libFuzzer (fuzz_mimetic.cpp) and minimised to 32 bytes: after
  // a boundary line, an "LF CR" empty header line followed by "LF --".
  // mimetic's random-access parser then reads the byte before the body
  // block, computes a body length of -1 and throws std::length_error.
  out.push_back({"lf_cr_after_boundary",
                 "Content-Type:multipart\n\n--\n\n\r\n--", true});

  // The same trigger behind ten 10 KiB parts: what mimetic has built of the
  // tree when it throws is what leaks.
  {
    std::string m =
        "From: a@example.org\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n";
    for (int i = 0; i < 10; ++i) {
      m += "--B\r\nContent-Type: text/plain\r\n\r\n";
      for (int line = 0; line < 160; ++line) {
        m += "0123456789012345678901234567890123456789012345678901234567890\r\n";
      }
    }
    m += "--B\r\n\n\r\n--B--\r\n";
    out.push_back({"lf_cr_after_boundary_100k", m, true});
  }

  {
    std::string m;
    for (int i = 0; i < 200; ++i) {
      m += "Content-Type: message/rfc822\r\n\r\n";
    }
    m += "Subject: deep\r\n\r\nend\r\n";
    out.push_back({"message_rfc822_200_deep", m, true});
  }
  return out;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline bool write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

// Converts every line ending (CRLF or bare LF) to CRLF: RFC 3156 canonical form.
inline std::string to_crlf(const std::string& in) {
  std::string out;
  out.reserve(in.size() + in.size() / 16);
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) out.push_back('\r');
    out.push_back(in[i]);
  }
  return out;
}

inline long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

inline long heap_in_use_bytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<long>(mi.uordblks + mi.hblkhd);
}

}  // namespace mime_evidence
