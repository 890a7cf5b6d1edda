#!/usr/bin/env bash
# Installs what ser-webgpu needs on a fresh Debian machine: the npm packages and, when
# no GPU driver is present, Mesa's software OpenGL (llvmpipe) that Dawn runs WebGPU on.
# Safe to run again: it only installs what is missing.
#   ./scripts/setup.sh                 what the CLI needs
#   ./scripts/setup.sh --with-browser  also Debian's Chromium, for the browser end-to-end test, the
#                                      audio encoders the decoding tests use, Debian's PyTorch,
#                                      for the PyTorch round trips, and Slurm (slurm-wlm, the
#                                      job-array test): what CI runs
#   ./scripts/setup.sh --with-pytorch  only PyTorch (python3-torch, about 650 MB on disk)
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  case "$arg" in
    --with-browser) bash scripts/install-browser.sh && bash scripts/install-audio-tools.sh && bash scripts/install-pytorch.sh && bash scripts/install-slurm.sh ;;
    --with-pytorch) bash scripts/install-pytorch.sh ;;
    *) echo "setup: unknown option '$arg' (use --with-browser, --with-pytorch or nothing)" >&2; exit 2 ;;
  esac
done

need=()
for pkg in libegl1 libegl-mesa0 libgl1-mesa-dri; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  bash scripts/apt-install.sh setup "the software GPU driver, Mesa llvmpipe, that WebGPU runs on without a GPU" "${need[@]}"
fi

if [ ! -d node_modules/webgpu ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  # onnxruntime-node (a devDependency, for the ONNX test) ships its CPU runtime in the package;
  # skip its postinstall's download of the CUDA providers from NuGet (where npm runs it).
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi
node scripts/build.mjs
