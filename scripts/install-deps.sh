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
  # runtime and test peers
  gnupg gpg-agent
  python3
  swaks libnet-ssleay-perl
  rnp                     # AEAD messages as Thunderbird's engine makes them (tests)
  postfix                 # smtp-source / smtp-sink for tests and benchmarks
  faketime
  openssl
  procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks questions on install; answer them so it stays local-only.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
