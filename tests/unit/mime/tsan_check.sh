#!/usr/bin/env bash
# ThreadSanitizer evidence for docs/mime.md "Threads": builds lib/mime with
# -fsanitize=thread plus a small driver that parses messages from 4 threads
# (charset conversion, RFC 2047, multipart/signed, attached messages) and
# sorts TSan's reports by where they happen. Not part of the CMake build or
# CI. Usage: bash tests/unit/mime/tsan_check.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
work="$(mktemp -d /tmp/tlpts-XXXXXX)"
trap 'rm -rf "$work"' EXIT
cat >"$work/driver.cc" <<'CC'
#include <string>
#include <thread>
#include <vector>
#include "mime/mime.h"
using namespace tlpmail::mime;
static std::string crlf(std::string_view s) {
  std::string o;
  for (char c : s) { if (c == '\n') o.push_back('\r'); o.push_back(c); }
  return o;
}
int main() {
  initialize();
  const std::vector<std::string> in = {
      crlf("From: =?ISO-8859-1?Q?J=FCrgen?= <j@a.example>\nSubject: =?KOI8-R?B?8NLJ18XU?= x\n"
           "References: <x@y> <z@w>\nContent-Type: text/plain; charset=windows-1252\n\nTLP:RED \x80\n"),
      crlf("From: a@a.example\nContent-Type: multipart/mixed; boundary=m\n\n--m\n"
           "Content-Type: text/plain; charset=iso-2022-jp\n\nhello\n--m\n"
           "Content-Type: text/html; charset=iso-8859-15\n\n<p>x</p>\n--m\n"
           "Content-Type: message/rfc822\n\nFrom: b@b.example\nSubject: =?big5?B?pKSk5Q==?=\n\nb\n--m--\n"),
      crlf("From: a@a.example\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\";"
           " micalg=pgp-sha256; boundary=s\n\n--s\nContent-Type: text/plain; charset=utf-8\n\nhi\n--s\n"
           "Content-Type: application/pgp-signature\n\n-----BEGIN PGP SIGNATURE-----\nx\n"
           "-----END PGP SIGNATURE-----\n--s--\n"),
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string& m = in[static_cast<std::size_t>(i + t) % in.size()];
        (void)parse_message(m);
        (void)parse_entity(m);
        (void)decode_header_text("=?UTF-8?Q?x?= =?iso-8859-2?Q?=A3?=");
      }
    });
  }
  for (auto& th : threads) th.join();
  return 0;
}
CC
src=("$root"/lib/mime/*.cc "$root"/lib/util/util.cc)
g++ -std=c++20 -g -O1 -fsanitize=thread -I"$root/lib" "$work/driver.cc" "${src[@]}" -o "$work/driver" \
  $(pkg-config --cflags --libs gmime-3.0)
G_SLICE=always-malloc TSAN_OPTIONS="halt_on_error=0 report_signal_unsafe=0" "$work/driver" >"$work/log" 2>&1 || true
python3 - "$work/log" <<'PY'
import sys
reports = open(sys.argv[1], errors="replace").read().split("WARNING: ThreadSanitizer")[1:]
gconv = charset = 0
other = []
for r in reports:
    head = r[:1500]  # the two accesses' top frames
    if "_dl_close_worker" in head or "_dl_check_map_versions" in head:
        gconv += 1
    elif ("g_mime_charset_iconv_name" in head or "g_str_equal" in head or
          ("libgmime" in head and ("__vasprintf_internal" in head or "g_strdup" in head))):
        # the cache's strings are written once under the lock, read after it
        charset += 1
    else:
        other.append(r)
print("TSan reports: %d" % len(reports))
print("  glibc iconv module load/unload (_dl_*, under glibc's own lock): %d" % gconv)
print("  GMime charset-name cache (GHashTable under GMime's GMutex): %d" % charset)
print("  other: %d" % len(other))
for r in other[:3]:
    print(r[:3000])
PY
