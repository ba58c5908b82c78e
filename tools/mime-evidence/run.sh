#!/usr/bin/env bash
# Evidence kit for docs/decisions.md: builds the mimetic and GMime probes in
# this folder (ASan, valgrind and plain builds, libFuzzer targets) and prints
# the figures the MIME library decision rests on, plus one line of evidence
# for each other library choice. Not part of the CMake build and not run by
# CI; it installs libmimetic-dev if missing (tlpmail itself never uses it).
# Usage: bash tools/mime-evidence/run.sh
#   env: FUZZ_SECONDS=45 (per fuzzer run), FUZZ_SEEDS="1 2" (libFuzzer seeds run
#   one after another; each library gets the same seeds and time), LOOP_N=10000
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fuzz_seconds="${FUZZ_SECONDS:-45}"
fuzz_seeds="${FUZZ_SEEDS:-1 2}"
loop_n="${LOOP_N:-10000}"
work="$(mktemp -d /tmp/tlpev-XXXXXX)"
gnupg_home="$work/g"
cleanup() {
  if [ -d "$gnupg_home" ]; then gpgconf --homedir "$gnupg_home" --kill all >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

section() { printf '\n=== %s\n' "$*"; }

# ---------------------------------------------------------------- setup
section "setup"
if ! dpkg-query -W -f='${Status}' libmimetic-dev 2>/dev/null | grep -q 'install ok installed'; then
  echo "libmimetic-dev is missing: installing it for this measurement only (tlpmail does not use it)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends libmimetic-dev >/dev/null
fi
for tool in g++ clang++ valgrind gpg pkg-config; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
echo "machine: $(nproc) cores, $(. /etc/os-release; echo "$PRETTY_NAME"), $(g++ --version | head -n1), $(clang++ --version | head -n1)"
dpkg-query -W -f='${Package} ${Version}\n' libmimetic-dev libgmime-3.0-dev valgrind gnupg
gm_flags="$(pkg-config --cflags --libs gmime-3.0)"
cxx=(g++ -std=c++20 -Wall -Wextra -I"$here")
echo "building probes in $work ..."
"${cxx[@]}" -Wno-register -O1 -g -fsanitize=address -fno-omit-frame-pointer "$here/mimetic_probe.cpp" -o "$work/mimetic_asan" -lmimetic &
"${cxx[@]}" -O1 -g -fsanitize=address -fno-omit-frame-pointer "$here/gmime_probe.cpp" -o "$work/gmime_asan" $gm_flags &
wait
"${cxx[@]}" -Wno-register -O1 -g "$here/mimetic_probe.cpp" -o "$work/mimetic_vg" -lmimetic &
"${cxx[@]}" -O1 -g "$here/gmime_probe.cpp" -o "$work/gmime_vg" $gm_flags &
wait
"${cxx[@]}" -Wno-register -O2 "$here/mimetic_probe.cpp" -o "$work/mimetic_plain" -lmimetic &
"${cxx[@]}" -O2 "$here/gmime_probe.cpp" -o "$work/gmime_plain" $gm_flags &
wait
clang++ -std=c++20 -Wno-register -O1 -g -fsanitize=fuzzer,address -I"$here" "$here/fuzz_mimetic.cpp" -o "$work/fuzz_mimetic" -lmimetic &
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address -I"$here" "$here/fuzz_gmime.cpp" -o "$work/fuzz_gmime" $gm_flags &
wait
# (mimetic's headers use the 'register' keyword, removed in C++17: -Wno-register.)
for b in mimetic_asan gmime_asan mimetic_vg gmime_vg mimetic_plain gmime_plain fuzz_mimetic fuzz_gmime; do
  [ -x "$work/$b" ] || { echo "build of $b failed" >&2; exit 1; }
done

export G_SLICE=always-malloc
asan_env=(env ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=0 LSAN_OPTIONS=exitcode=0)

lsan_bytes() {  # prints "N" bytes leaked according to the LSan summary (0 if none)
  local out; out="$("${asan_env[@]}" "$@" 2>&1 || true)"
  local b; b="$(printf '%s\n' "$out" | sed -n 's/^SUMMARY: AddressSanitizer: \([0-9]*\) byte(s) leaked.*/\1/p' | tail -n1)"
  if printf '%s\n' "$out" | grep -q 'ERROR: AddressSanitizer'; then
    printf 'ASan:%s' "$(printf '%s\n' "$out" | grep -m1 -o 'ERROR: AddressSanitizer: [a-z-]*' | sed 's/.*: //')"
  else
    printf '%s' "${b:-0}"
  fi
}
probe_note() {  # the probe's own line, minus the sample name; CRASH if it died
  local out rc=0
  out="$("$@" 2>/dev/null)" || rc=$?
  if [ "$rc" -ge 128 ]; then echo "CRASH: killed by signal $((rc - 128))"; return; fi
  printf '%s\n' "$out" | grep -E '^(mimetic|gmime) ' | sed 's/^[a-z]* [a-z0-9_]*: //' || true
}
vg_leak() {  # prints "definite+indirect" bytes and error count from valgrind
  local out; out="$(valgrind --leak-check=full --errors-for-leak-kinds=definite "$@" 2>&1 >/dev/null || true)"
  if printf '%s\n' "$out" | grep -q 'Process terminating with default action of signal'; then
    printf 'CRASH(%s)' "$(printf '%s\n' "$out" | grep -m1 -oE 'Stack overflow|signal [0-9]+ \([A-Z]+\)')"
    return
  fi
  local d i e
  d="$(printf '%s\n' "$out" | sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' | tr -d , | tail -n1)"
  i="$(printf '%s\n' "$out" | sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' | tr -d , | tail -n1)"
  e="$(printf '%s\n' "$out" | sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' | tail -n1)"
  printf '%s+%s B, %s err' "${d:-0}" "${i:-0}" "${e:-?}"
}

# ------------------------------------------------- 1. malformed messages
section "1a. leak checkers are live (each must report 4096 bytes)"
echo "mimetic probe LSan: $(lsan_bytes "$work/mimetic_asan" selftest-leak) B; valgrind: $(vg_leak "$work/mimetic_vg" selftest-leak)"
echo "gmime   probe LSan: $(lsan_bytes "$work/gmime_asan" selftest-leak) B; valgrind: $(vg_leak "$work/gmime_vg" selftest-leak)"

section "1b. one message per process: bytes leaked (ASan/LSan), parse+walk of each"
echo "    mimetic variants: ctor = MimeEntity(begin,end); stream = MimeEntity(istream&); load = MimeEntity me; me.load(begin,end)"
printf '%-27s %-19s %-19s %-19s %-8s | %s\n' sample mimetic-ctor mimetic-stream mimetic-load gmime "outcome (mimetic ctor / gmime)"
export HUGE_HEADER_BYTES=1048576
for s in $("$work/mimetic_plain" list); do
  a="$(lsan_bytes "$work/mimetic_asan" parse "$s" iterator)"
  b="$(lsan_bytes "$work/mimetic_asan" parse "$s" stream)"
  c="$(lsan_bytes "$work/mimetic_asan" parse "$s" load)"
  d="$(lsan_bytes "$work/gmime_asan" parse "$s")"
  printf '%-27s %-19s %-19s %-19s %-8s | %s / %s\n' "$s" "$a" "$b" "$c" "$d" \
    "$(probe_note "$work/mimetic_plain" parse "$s" iterator)" "$(probe_note "$work/gmime_plain" parse "$s")"
done

section "1c. valgrind memcheck, one message per process: definitely+indirectly lost, errors (huge header 1 MiB)"
printf '%-28s %-26s %-26s\n' sample "mimetic (ctor)" gmime
for s in $("$work/mimetic_plain" list); do
  printf '%-28s %-26s %-26s\n' "$s" "$(vg_leak "$work/mimetic_vg" parse "$s" iterator)" "$(vg_leak "$work/gmime_vg" parse "$s")"
done

section "1d. $loop_n malformed messages in one process (plain -O2 build): heap in use and RSS growth"
echo "    'mix' cycles through every malformed sample (huge header cut to 64 KiB to keep the run short)"
export HUGE_HEADER_BYTES=65536
"$work/mimetic_plain" loop "$loop_n" iterator
"$work/mimetic_plain" loop "$loop_n" stream
"$work/mimetic_plain" loop "$loop_n" load
"$work/gmime_plain" loop "$loop_n"
"$work/mimetic_plain" loop "$loop_n" iterator lf_cr_after_boundary_100k
"$work/gmime_plain" loop "$loop_n" lf_cr_after_boundary_100k
"$work/gmime_plain" loop "$((loop_n * 4))" lf_cr_after_boundary_100k

section "1e. one header line of N bytes (plus N/64 folded lines): parse time, plain -O2"
for n in 1048576 4194304 8388608; do
  t1="$( { /usr/bin/time -f '%e' env HUGE_HEADER_BYTES=$n "$work/mimetic_plain" parse huge_header_line iterator >/dev/null; } 2>&1 | tail -n1)"
  t2="$( { /usr/bin/time -f '%e' env HUGE_HEADER_BYTES=$n "$work/gmime_plain" parse huge_header_line >/dev/null; } 2>&1 | tail -n1)"
  echo "header line of $n bytes: mimetic ${t1} s, gmime ${t2} s"
done

section "1f. libFuzzer + ASan: ${fuzz_seconds} s per seed, seeds: ${fuzz_seeds}; mimetic and GMime run side by side"
echo "    seeds: the corpus above (huge header 2 KiB), minus the two lf_cr_after_boundary samples"
mkdir -p "$work/seeds"
HUGE_HEADER_BYTES=2048 "$work/mimetic_plain" dump "$work/seeds"
rm -f "$work/seeds/lf_cr_after_boundary"*.eml "$work/seeds/nested_50000_unclosed.eml"
fuzz() {  # name binary seed
  local dir="$work/$1-$3" log="$work/$1-$3.log" start end rc=0
  mkdir -p "$dir"
  start=$(date +%s)
  (cd "$work" && "$2" -seed="$3" -max_total_time="$fuzz_seconds" -max_len=8192 -print_final_stats=1 \
      -artifact_prefix="$dir/" "$dir" "$work/seeds" >"$log" 2>&1) || rc=$?
  end=$(date +%s)
  local runs; runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  if [ "$rc" -eq 0 ]; then
    echo "$1 seed $3: nothing found in $((end - start)) s, ${runs:-?} inputs"
  else
    local what; what="$(grep -m1 -oE 'ERROR: (LeakSanitizer: detected memory leaks|AddressSanitizer: [a-z-]+|libFuzzer: [a-z -]+)' "$log" || echo "exit $rc")"
    echo "$1 seed $3: FOUND after $((end - start)) s, ${runs:-?} inputs: $what; $(grep -m1 '^SUMMARY' "$log" || true)"
    local art; art="$(ls "$dir"/leak-* "$dir"/crash-* 2>/dev/null | head -n1 || true)"
    if [ -n "$art" ]; then
      echo "    artifact $(wc -c <"$art") bytes; mimetic ctor on it: $("$work/mimetic_plain" parse-file "$art" iterator 2>&1 | sed 's/^[^:]*: //' | tail -n1)"
    fi
  fi
}
( for seed in $fuzz_seeds; do fuzz fuzz_mimetic "$work/fuzz_mimetic" "$seed"; done ) &
( for seed in $fuzz_seeds; do fuzz fuzz_gmime "$work/fuzz_gmime" "$seed"; done ) &
wait

# ------------------------------------- 2. byte-exact multipart/signed part
section "2. multipart/signed (RFC 3156) with a real gpg detached signature"
mkdir -p "$gnupg_home" && chmod 700 "$gnupg_home"
export GNUPGHOME="$gnupg_home"
gpg --batch --quiet --passphrase '' --quick-gen-key 'Evidence <evidence@example.org>' ed25519 sign never 2>/dev/null
gpg --batch --quiet --check-trustdb >/dev/null 2>&1 || true
echo "gpg $(gpg --version | head -n1 | awk '{print $3}'), test key $(gpg --list-keys --with-colons 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')"

crlf_lines() { local l; for l in "$@"; do printf '%s\r\n' "$l"; done; }
long_value="$(printf 'x%.0s' $(seq 1 300))"
# The signed entity (canonical CRLF): folded headers (tab and spaces), a
# header with trailing whitespace, a 300-character unfolded header, odd
# spacing, trailing whitespace in the body, and a final line ending.
crlf_lines 'Content-Type: text/plain; charset="utf-8";' \
           $'\tformat=flowed' \
           'Content-Transfer-Encoding: quoted-printable' \
           'Content-Disposition: inline;   ' \
           '   filename="notes.txt"' \
           "X-Long-Header: $long_value" \
           'content-description:   two  spaces   inside ' \
           '' \
           '[TLP:AMBER] body line with trailing spaces   ' \
           '=E2=82=AC line' \
           '' \
           'last line' >"$work/part-text.bin"
# Second signed entity: a multipart/mixed (what Thunderbird signs when there
# is an attachment), with a preamble, folded boundary parameter and base64.
crlf_lines 'Content-Type: multipart/mixed;' \
           ' boundary="------------inner  "' \
           '' \
           'preamble text' \
           '--------------inner  ' \
           'Content-Type: text/plain; charset=UTF-8' \
           '' \
           'hello   ' \
           '--------------inner  ' \
           'Content-Type: application/octet-stream;' \
           '    name="ioc.txt"' \
           'Content-Transfer-Encoding: base64' \
           '' \
           'aGVsbG8gd29ybGQK' \
           '--------------inner  --' \
           'epilogue' >"$work/part-mixed.bin"

make_signed() {  # part.bin out.eml
  gpg --batch --quiet --armor --detach-sign --digest-algo SHA256 -o "$1.asc" "$1"
  {
    crlf_lines 'From: Evidence <evidence@example.org>' 'To: list@example.org' \
               'Subject: =?UTF-8?Q?=5BTLP=3AAMBER=5D?= signed' 'MIME-Version: 1.0' \
               'Content-Type: multipart/signed; micalg=pgp-sha256;' \
               ' protocol="application/pgp-signature"; boundary="sig-b-1"' '' \
               'This is an OpenPGP/MIME signed message (RFC 4880 and 3156)' '--sig-b-1'
    cat "$1"
    crlf_lines '' '--sig-b-1' 'Content-Type: application/pgp-signature; name="signature.asc"' \
               'Content-Description: OpenPGP digital signature' ''
    sed 's/$/\r/' "$1.asc"
    crlf_lines '' '--sig-b-1--' ''
  } >"$2"
}
make_signed "$work/part-text.bin" "$work/signed-text-crlf.eml"
make_signed "$work/part-mixed.bin" "$work/signed-mixed-crlf.eml"
tr -d '\r' <"$work/signed-text-crlf.eml" >"$work/signed-text-lf.eml"
tr -d '\r' <"$work/signed-mixed-crlf.eml" >"$work/signed-mixed-lf.eml"
echo "control: gpg over the original part bytes: $(gpg --verify "$work/part-text.bin.asc" "$work/part-text.bin" 2>&1 | grep -oE '(Good|BAD) signature' | head -n1)"

check_part() {  # label extracted.part gold.bin sigfile
  local cmpres verify
  if [ ! -s "$2" ]; then echo "  $1: (no output)"; return; fi
  if cmp -s "$2" "$3"; then cmpres="byte-identical"
  else cmpres="DIFFERS ($(cmp "$2" "$3" 2>&1 | sed 's/.*differ: //'); $(wc -c <"$2") vs $(wc -c <"$3") bytes)"; fi
  verify="$(gpg --verify "$4" "$2" 2>&1 | grep -oE '(Good|BAD) signature' | head -n1 || true)"
  printf '  %-34s %-58s gpg: %s\n' "$1" "$cmpres" "${verify:-error}"
}
for kind in text mixed; do
  for nl in crlf lf; do
    eml="$work/signed-$kind-$nl.eml"; out="$work/out-$kind-$nl"; gold="$work/part-$kind.bin"
    mkdir -p "$out"
    echo "signed-$kind-$nl.eml ($(wc -c <"$eml") bytes):"
    "$work/mimetic_plain" signed "$eml" "$out" | sed 's/^/  /' || true
    "$work/gmime_plain" signed "$eml" "$out" | sed 's/^/  /' || true
    check_part "mimetic operator<<" "$out/mimetic.part" "$gold" "$out/mimetic.sig"
    check_part "gmime write_to_stream(DOS)" "$out/gmime-write-dos.part" "$gold" "$out/gmime.sig"
    check_part "gmime to_string + CRLF" "$out/gmime-to-string.part" "$gold" "$out/gmime.sig"
    check_part "gmime header offsets" "$out/gmime-offsets.part" "$gold" "$out/gmime.sig"
  done
done
echo "how the signed entity ends (multipart/mixed content unless named text/plain), CRLF message:"
printf '  %-26s %-9s %-11s %-11s %-9s %s\n' ending mimetic gmime-dos gmime-str offsets "g_mime_multipart_signed_verify"
mixed_head='Content-Type: multipart/mixed; boundary="in"\r\n\r\n--in\r\nContent-Type: text/plain\r\n\r\nhello\r\n--in--'
ending_case() {  # name printf-format
  local name="$1" dir="$work/end-$1"
  mkdir -p "$dir"
  printf "$2" >"$dir/part.bin"
  make_signed "$dir/part.bin" "$dir/m.eml"
  "$work/mimetic_plain" signed "$dir/m.eml" "$dir" >/dev/null 2>&1 || true
  local v; v="$("$work/gmime_plain" signed "$dir/m.eml" "$dir" 2>/dev/null | sed -n 's/^gmime verify: //p')"
  same() { if [ -s "$1" ] && cmp -s "$1" "$dir/part.bin"; then echo exact; else echo DIFFERS; fi; }
  printf '  %-26s %-9s %-11s %-11s %-9s %s\n' "$name" "$(same "$dir/mimetic.part")" "$(same "$dir/gmime-write-dos.part")" \
    "$(same "$dir/gmime-to-string.part")" "$(same "$dir/gmime-offsets.part")" "$v"
}
ending_case 'mixed, "--in--" (no EOL)' "$mixed_head"
ending_case 'mixed, "--in--" CRLF' "$mixed_head\r\n"
ending_case 'mixed, "--in--" CRLF CRLF' "$mixed_head\r\n\r\n"
ending_case 'mixed, epilogue CRLF' "$mixed_head\r\nepilogue\r\n"
ending_case 'mixed, epilogue (no EOL)' "$mixed_head\r\nepilogue"
ending_case 'text/plain, no EOL' 'Content-Type: text/plain\r\n\r\nhello'
ending_case 'text/plain, CRLF CRLF' 'Content-Type: text/plain\r\n\r\nhello\r\n\r\n'
echo "first lines of mimetic's re-serialised text part vs the original (cat -A):"
diff <(cat -A "$work/part-text.bin") <(cat -A "$work/out-text-crlf/mimetic.part") | head -n 14 | cut -c1-110 || true

# ------------------------------------------------ 3. RFC 2047 / RFC 2231
section "3. RFC 2047 encoded words and RFC 2231 parameters"
hdr_case() {  # name, then header lines
  local name="$1"; shift
  { crlf_lines 'From: a@example.org' "$@" 'MIME-Version: 1.0' '' 'body'; } >"$work/h-$name.eml"
  echo "$name:"
  "$work/mimetic_plain" headers "$work/h-$name.eml" | grep -E '^(subject|filename)' | sed 's/^/  mimetic /'
  "$work/gmime_plain" headers "$work/h-$name.eml" | sed 's/^/  gmime   /'
}
hdr_case q-word 'Subject: =?UTF-8?Q?=5BTLP=3ARED=5D_x?=' \
  'Content-Type: text/plain' 'Content-Disposition: attachment; filename="plain.txt"'
hdr_case folded-words 'Subject: =?UTF-8?Q?=5BTLP=3ARED=5D?=' ' =?UTF-8?B?IFBoaXNoaW5nIHdhdmU=?=' \
  'Content-Type: text/plain' "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"
hdr_case rfc2231-continuations 'Subject: Re: =?iso-8859-1?q?caf=E9?= ok' 'Content-Type: text/plain' \
  "Content-Disposition: attachment; filename*0*=UTF-8''%5BTLP%3ARED%5D%20;" ' filename*1*=r%C3%A9sum%C3%A9.txt'

# ---------------------------------------------------- 4. other libraries
section "4. other library choices"
dpkg-query -W -f='${Package} ${Version}\n' libboost1.81-dev libgpgme-dev libsqlitecpp-dev libspdlog-dev \
  libtomlplusplus-dev libgtest-dev libsystemd-dev 2>/dev/null
echo "Asio in libboost1.81-dev: $(grep -oE 'BOOST_ASIO_VERSION [0-9]+' /usr/include/boost/asio/version.hpp);" \
  "as_tuple.hpp cancellation_signal.hpp experimental/awaitable_operators.hpp:" \
  "$(for f in as_tuple cancellation_signal experimental/awaitable_operators; do [ -f /usr/include/boost/asio/$f.hpp ] && printf 'yes ' || printf 'no '; done)"
if (cd "$work" && apt-get download -q libboost1.74-dev >/dev/null 2>&1); then
  deb="$(ls "$work"/libboost1.74-dev_*.deb)"
  echo "libboost1.74-dev (.deb listed, not installed): $(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/include/boost/asio/version.hpp | grep -oE 'BOOST_ASIO_VERSION [0-9]+');" \
    "those three headers: $(dpkg-deb -c "$deb" | grep -cE 'asio/(as_tuple|cancellation_signal|experimental/awaitable_operators)\.hpp') of 3 present"
else
  echo "libboost1.74-dev: could not download the .deb to list it (offline?)"
fi
echo "apt-get -s install libgpgmepp-dev would install $(apt-get -s install libgpgmepp-dev 2>/dev/null | grep -c '^Inst') packages," \
  "$(apt-get -s install libgpgmepp-dev 2>/dev/null | grep '^Inst' | grep -ci qt) of them Qt ($(apt-cache depends libgpgmepp-dev | grep -E 'Depends: .*q' | sed 's/ *Depends: //' | tr '\n' ' '))"
cat >"$work/t_libs.cpp" <<'EOF'
// Compile-and-run check of the library facts tlpmail relies on.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gpgme.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <toml++/toml.h>

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <iostream>
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
asio::awaitable<int> race(asio::steady_timer& a, asio::steady_timer& b) {
  auto r = co_await (a.async_wait(asio::as_tuple(asio::use_awaitable)) ||
                     b.async_wait(asio::as_tuple(asio::use_awaitable)));
  co_return static_cast<int>(r.index());
}
int main() {
  asio::io_context io;
  asio::steady_timer a(io, std::chrono::milliseconds(10)), b(io, std::chrono::seconds(5));
  asio::cancellation_signal sig;
  asio::co_spawn(io, race(a, b), asio::bind_cancellation_slot(sig.slot(), [](std::exception_ptr, int w) {
    std::cout << "asio: as_tuple + awaitable operator|| + cancellation slot compiled; winner=" << w << " (0 = 10 ms timer)\n";
  }));
  io.run();
  std::cout << "gpgme: C API " << gpgme_check_version(nullptr) << "\n";
  SQLite::Database db(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  std::cout << "SQLiteCpp " << SQLITECPP_VERSION << " on SQLite " << SQLite::VERSION << "\n";
  auto sink = std::make_shared<spdlog::sinks::systemd_sink_mt>("tlpmail-evidence");
  spdlog::logger log("ev", sink);
  log.info("evidence kit test line");
  std::cout << "spdlog " << SPDLOG_VER_MAJOR << "." << SPDLOG_VER_MINOR << " systemd_sink_mt: logged without error\n";
  std::cout << "libsystemd: sd_notify without NOTIFY_SOCKET returns " << sd_notify(0, "READY=1") << "\n";
#if TOML_EXCEPTIONS
  try {
    auto tbl = toml::parse(std::string_view("[server]\nhostname = \"x\"\nlisten = [\"127.0.0.1:1\"]\n"),
                           std::string_view("t.toml"));
    std::cout << "toml++: server.listen is at line " << tbl["server"]["listen"].node()->source().begin.line << "\n";
    (void)toml::parse(std::string_view("a = = 1\n"), std::string_view("bad.toml"));
  } catch (const toml::parse_error& e) {
    std::cout << "toml++: parse_error thrown, bad.toml:" << e.source().begin.line << ": " << e.description() << "\n";
  }
#else
  toml::parse_result r = toml::parse(std::string_view("a = 1\n"), std::string_view("t.toml"));
  std::cout << "toml++ (no exceptions): " << (r ? "ok" : "error") << "\n";
#endif
}
EOF
if g++ -std=c++20 -Wall -Wextra "$work/t_libs.cpp" -o "$work/t_libs" -lspdlog -lfmt -lSQLiteCpp -lsqlite3 \
     -lsystemd -lgpgme $(pkg-config --cflags --libs tomlplusplus) 2>"$work/t_libs.err"; then
  "$work/t_libs"
else
  echo "t_libs did not build:"; head -n 20 "$work/t_libs.err"
fi
if g++ -std=c++20 -DTOML_EXCEPTIONS=0 "$work/t_libs.cpp" -o "$work/t_libs0" -lspdlog -lfmt -lSQLiteCpp -lsqlite3 \
     -lsystemd -lgpgme $(pkg-config --cflags --libs tomlplusplus) 2>"$work/t_libs0.err"; then
  echo "toml++ with TOML_EXCEPTIONS=0: linked (unexpected)"
else
  echo "toml++ with TOML_EXCEPTIONS=0: $(grep -m1 -oE "undefined reference to \`[^(]*" "$work/t_libs0.err" || grep -m1 error "$work/t_libs0.err")"
fi
echo "toml++ in Debian is a compiled library: $(pkg-config --cflags tomlplusplus) $(ls /usr/lib/x86_64-linux-gnu/libtomlplusplus.so.* | head -n1)"
echo "GoogleTest: $(dpkg-query -W -f='${Version}' libgtest-dev), CMake package: $(ls -d /usr/lib/x86_64-linux-gnu/cmake/GTest 2>/dev/null || echo none)"

section "done"
