#!/usr/bin/env bash
# Installs Debian's PyTorch and NumPy (python3-torch, python3-numpy) for the PyTorch round
# trips in test/interop.test.ts (they skip themselves without it) and bench/peers.ts.
# Heavy: about 150 MB of packages, 650 MB on disk (173 packages on Debian 12).
# Needs root and apt-get; safe to run again.
set -euo pipefail
if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-pytorch: no PyTorch for /usr/bin/python3; install python3-torch python3-numpy as root (the PyTorch round trips are skipped meanwhile)" >&2
  exit 0
fi
echo "install-pytorch: installing python3-torch python3-numpy (PyTorch round-trip tests)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends python3-torch python3-numpy >/dev/null
