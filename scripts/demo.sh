#!/usr/bin/env bash
# The demo: installs what is missing, builds tlpmail, shows the example
# configuration in config/ through tlpmailctl (its keys are test-only), then
# runs tlpmaild on it and sends a signed TLP message through its SMTP intake.
# Usage: scripts/demo.sh [--no-install]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--no-install" ]; then bash scripts/install-deps.sh; fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target tlpmailctl tlpmaild

ctl() {
  echo
  echo "\$ tlpmailctl --config config/tlpmail.toml $*"
  build/daemon/tlpmailctl --config config/tlpmail.toml "$@"
}

ctl check-config
ctl lists
ctl members csirt-ops@lists.example.org
ctl keys

echo
python3 scripts/demo_intake.py build
