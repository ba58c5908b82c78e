#!/usr/bin/env bash
# Installs every Debian 12 package that tlpmail's build, tests and demo need.
# Idempotent and non-interactive; run as root (or through sudo). It prints
# what it is about to install and does nothing when everything is present.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  # libraries (see docs/decisions.md)
  libboost1.81-dev        # Asio 1.26: as_tuple, cancellation, awaitable operators
  libgpgme-dev            # GPGME C API (not gpgme++, which pulls in Qt)
  libgmime-3.0-dev        # MIME parsing with byte-exact signed parts
  libsqlitecpp-dev libsqlite3-dev
  libspdlog-dev libfmt-dev
  libtomlplusplus-dev
  libgtest-dev libgmock-dev
  libsystemd-dev
  libssl-dev
  scdoc                   # man pages (docs/man/*.scd -> roff)
  # fuzzing and static analysis (scripts/fuzz.sh, scripts/static-analysis.sh):
  # clang 16, as clang 14 and 15 cannot compile lib/smtp (P0960)
  clang-16 libclang-rt-16-dev   # libFuzzer, ASan and UBSan runtimes
  clang-tidy-16 cppcheck
  # runtime and test peers
  gnupg gpg-agent
  python3
  python3-prometheus-client   # parses /metrics in tests/e2e/monitoring_test.py
  swaks libnet-ssleay-perl
  sq                      # Sequoia: reads the copies tlpmaild encrypts (tests)
  rnp                     # AEAD messages as Thunderbird's engine makes them (tests)
  postfix                 # smtp-source / smtp-sink for tests and benchmarks
  faketime
  chromium                # renders the comcheck report page headless (tests/e2e/comcheck_test.py)
  openssl
  procps
  # the Debian package (scripts/build-deb.sh, tests/package)
  debhelper dpkg-dev lintian man-db
  # Exim 4 and OpenSMTPD for tests/e2e/mta_*_test.py: both conflict with
  # Postfix (one mail-transport-agent per machine), so the tests run them
  # from their packages unpacked into a scratch folder (dpkg -x, fetched
  # below); only their shared libraries are installed.
  libidn12 libgnutls-dane0 libnsl2 libpcre2-8-0 libdb5.3   # exim4-daemon-light
  libevent-2.1-7 libpam0g                                  # opensmtpd
)

# The MTA packages that cannot be installed beside Postfix: downloaded
# (not installed) into the cache the MTA tests unpack them from.
mta_debs=(exim4-base exim4-config exim4-daemon-light opensmtpd)
deb_cache=${TLPMAIL_DEB_CACHE:-/var/cache/tlpmail-test-debs}
fetch_mta_debs() {
  local want=()
  for p in "${mta_debs[@]}"; do
    compgen -G "$deb_cache/${p}_*.deb" >/dev/null || want+=("$p")
  done
  [ ${#want[@]} -eq 0 ] && return 0
  echo "install-deps: downloading ${want[*]} into $deb_cache (unpacked by the MTA tests, not installed)"
  $SUDO mkdir -p "$deb_cache"
  (cd "$deb_cache" && $SUDO apt-get download "${want[@]}") \
    || echo "install-deps: could not download ${want[*]}: the Exim/OpenSMTPD tests will be skipped" >&2
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  fetch_mta_debs
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks questions on install; answer them so it stays local-only.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fetch_mta_debs
echo "install-deps: done"
