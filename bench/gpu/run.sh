#!/usr/bin/env bash
# The GPU benchmark in one command, on a machine that has a GPU, Python with PyTorch, and
# neither Node nor internet (bench/gpu/README.md). Unpacks bench/gpu/pack/ser-gpu.tar.xz
# (made by bench/gpu/pack.sh) into bench/gpu/.run/, puts the packed Node and, where the
# system lacks them, the packed Vulkan/EGL loaders on the paths, points the loaders at the
# NVIDIA driver's manifests, and runs the parts (dist/bench/gpu/run.js) within a time budget.
# Writes gpu-bench.md (the table), gpu-bench.json and gpu-bench.log to $OUT (or --out DIR).
#
#   bash bench/gpu/run.sh [--dry-run] [--out DIR] [--budget S] [--adapter NAME]
# SER_GPU_TOTAL (seconds, default 465): the whole run, unpacking included, ends within it.
set -euo pipefail
cd "$(dirname "$0")/../.."
t0=$(date +%s)
TOTAL=${SER_GPU_TOTAL:-465}
PACK=bench/gpu/pack/ser-gpu.tar.xz
HOME_DIR=bench/gpu/.run
say() { echo "run.sh: $*" >&2; }
usage="usage: bash bench/gpu/run.sh [--dry-run] [--out DIR] [--budget S] [--adapter NAME]"

# The flags first, so a typo costs nothing (run.js checks the values again, e.g. the adapter).
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    -h | --help)
      echo "$usage"
      echo "  --dry-run      small sizes on whatever adapter there is: checks the pipeline, not speed"
      echo "  --out DIR      where gpu-bench.md, .json and .log go (default \$OUT, else bench/results/gpu)"
      echo "  --budget S     seconds for the parts together (default: what SER_GPU_TOTAL leaves after unpacking)"
      echo "  --adapter NAME our adapter (default gpu; see 'ser adapter --help')"
      echo "SER_GPU_TOTAL: seconds for the whole run, unpacking included (default 465). bench/gpu/README.md."
      exit 0 ;;
    --dry-run | --out=?* | --adapter=?*) ;;
    --budget=*) [[ "${args[i]#--budget=}" =~ ^[0-9]+$ ]] || { say "--budget '${args[i]#--budget=}' is not a whole number of seconds"; exit 2; } ;;
    --out | --budget | --adapter)
      [ $((i + 1)) -lt ${#args[@]} ] || { say "${args[i]} needs a value ($usage)"; exit 2; }
      i=$((i + 1))
      if [ "${args[i - 1]}" = --budget ] && ! [[ "${args[i]}" =~ ^[0-9]+$ ]]; then say "--budget '${args[i]}' is not a whole number of seconds"; exit 2; fi ;;
    *) say "unknown option '${args[i]}' ($usage)"; exit 2 ;;
  esac
done

[ -f "$PACK" ] || { say "$PACK is missing: run 'bash bench/gpu/pack.sh' where there is a network, and carry bench/gpu/pack"; exit 2; }

# Unpack once per archive (a warm machine keeps the folder between calls).
stamp=$(stat -c '%s-%Y' "$PACK")
if [ "$(cat "$HOME_DIR/.stamp" 2>/dev/null || true)" != "$stamp" ]; then
  rm -rf "$HOME_DIR"
  mkdir -p "$HOME_DIR"
  if command -v xz >/dev/null; then
    tar -xJf "$PACK" -C "$HOME_DIR"
  else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$PACK" "$HOME_DIR"
  fi
  # The loaders into a private prefix (never into /): dpkg-deb where there is one, else Python
  # reads the .deb (an ar archive holding data.tar.*).
  for deb in "$HOME_DIR"/ser-gpu/debs/*.deb; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$deb" "$HOME_DIR/sysroot"
    else
      python3 - "$deb" "$HOME_DIR/sysroot" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'!<arch>\n', 'not a .deb'
pos = 8
while pos < len(data):
    name, size = data[pos:pos + 16].decode().strip().rstrip('/'), int(data[pos + 48:pos + 58])
    body = data[pos + 60:pos + 60 + size]
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
    pos += 60 + size + (size & 1)
PY
    fi
  done
  echo "$stamp" >"$HOME_DIR/.stamp"
fi
R=$HOME_DIR/ser-gpu
export PATH="$PWD/$R/node/bin:$PATH"
say "node $(node --version) from $R/node/bin; unpacked in $(($(date +%s) - t0)) s"

# Loaders: the system's where it has them (they match its driver), else ours.
libdir=$PWD/$HOME_DIR/sysroot/usr/lib/x86_64-linux-gnu
have() { ldconfig -p 2>/dev/null | grep -q "$1"; }
if have libvulkan.so.1 && have libEGL.so.1; then
  say "loaders: the system's (libvulkan.so.1, libEGL.so.1)"
else
  export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  say "loaders: packed ones in $libdir"
fi
# Driver manifests: the standard folders are searched by the loaders themselves; NVIDIA's
# container runtime may put them under /usr/local/nvidia instead (see /work/.library/device).
for d in /usr/local/nvidia/share/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
  f=$(ls "$d"/nvidia_icd*.json 2>/dev/null | head -n 1 || true)
  if [ -n "$f" ] && [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$f VK_ICD_FILENAMES=$f
    say "Vulkan driver manifest: $f"
  fi
done
for f in /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json; do
  if [ -f "$f" ] && [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ ! -f /usr/share/glvnd/egl_vendor.d/10_nvidia.json ]; then
    export __EGL_VENDOR_LIBRARY_FILENAMES=$f
    say "EGL vendor manifest: $f"
  fi
done
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && case ":${LD_LIBRARY_PATH:-}:" in *":$d:"*) ;; *) export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d" ;; esac
done
export EGL_PLATFORM=${EGL_PLATFORM:-surfaceless}

left=$((TOTAL - ($(date +%s) - t0) - 15))
budget=()
case " $* " in *" --budget "*) ;; *) budget=(--budget "$left") ;; esac
exec node "$R/dist/bench/gpu/run.js" "${budget[@]}" "$@"
