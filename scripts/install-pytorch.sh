#!/usr/bin/env bash
# Installs Debian's PyTorch and NumPy (python3-torch, python3-numpy) for the PyTorch round
# trips in test/interop.test.ts (they skip themselves without it) and bench/peers.ts.
# Heavy: about 150 MB of packages, 650 MB on disk (173 packages on Debian 12).
# Needs root and apt-get; safe to run again.
set -euo pipefail
if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
  exit 0
fi
bash "$(dirname "$0")/apt-install.sh" install-pytorch "the PyTorch round trips and twin parity tests; they skip without it unless SER_REQUIRE_TORCH is set" python3-torch python3-numpy
