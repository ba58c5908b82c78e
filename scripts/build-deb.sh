#!/usr/bin/env bash
# Builds tlpmail's Debian package (debian/, debhelper) with
# `dpkg-buildpackage -us -uc -b` in a copy of the source tree, so the work
# tree stays clean, and leaves tlpmail_VERSION_ARCH.deb (plus the .changes,
# .buildinfo and the -dbgsym package) in OUT (default build-deb/). Then runs
# lintian on the package and fails on any error. It installs nothing: the
# build dependencies come from scripts/install-deps.sh.
# Usage: scripts/build-deb.sh [--prebuilt BUILD_DIR] [--out DIR] [--no-lintian]
#   --prebuilt BUILD_DIR  package the programs of an existing, built CMake
#                         folder instead of compiling (the package test uses
#                         build/; a release is built without it)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)

prebuilt=""
out="$src/build-deb"
lintian=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prebuilt) prebuilt=$(cd "$2" && pwd); shift 2 ;;
    --out) mkdir -p "$2"; out=$(cd "$2" && pwd); shift 2 ;;
    --no-lintian) lintian=0; shift ;;
    *) echo "usage: scripts/build-deb.sh [--prebuilt BUILD_DIR] [--out DIR] [--no-lintian]" >&2; exit 2 ;;
  esac
done

for tool in dpkg-buildpackage dh cmake; do
  command -v "$tool" >/dev/null || { echo "build-deb: $tool is missing: run scripts/install-deps.sh" >&2; exit 1; }
done

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
upstream=${version%-*}
work="$out/src"
tree="$work/tlpmail-$upstream"
rm -rf "$work"
mkdir -p "$tree"
# The source as it is in the work tree (committed or not), without build
# folders, git's data or leftovers of an earlier package build.
tar -C "$src" --exclude='./.git' --exclude='./build*' --exclude='./out' \
    --exclude='__pycache__' --exclude='./debian/tlpmail' --exclude='./debian/.debhelper' \
    --exclude='./debian/tmp' --exclude='./obj-*' -cf - . | tar -C "$tree" -xf -

echo "build-deb: dpkg-buildpackage -us -uc -b in $tree${prebuilt:+ (programs from $prebuilt)}"
(
  cd "$tree"
  if [ -n "$prebuilt" ]; then export TLPMAIL_PREBUILT="$prebuilt"; fi
  dpkg-buildpackage -us -uc -b
)

rm -f "$out"/tlpmail*_"$version"_*.deb "$out"/tlpmail_"$version"_*.changes "$out"/tlpmail_"$version"_*.buildinfo
mv "$work"/tlpmail*_"$version"_*.deb "$work"/tlpmail_"$version"_*.changes \
   "$work"/tlpmail_"$version"_*.buildinfo "$out"/
rm -rf "$work"
deb=$(ls "$out"/tlpmail_"$version"_*.deb)
echo "build-deb: $deb"

if [ "$lintian" = 1 ]; then
  if command -v lintian >/dev/null; then
    # Errors fail the build; warnings and notes are shown.
    lintian --fail-on error "$deb" \
      || { echo "build-deb: lintian found errors" >&2; exit 1; }
    echo "build-deb: lintian: no errors"
  else
    echo "build-deb: lintian is not installed, not run (scripts/install-deps.sh installs it)" >&2
  fi
fi
