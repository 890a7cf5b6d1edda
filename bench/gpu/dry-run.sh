#!/usr/bin/env bash
# The GPU benchmark's dry run, here, as the GPU machine would run it: copies what the device
# tool would send (tracked and untracked-not-ignored files, plus the carried bench/gpu/pack)
# into a fresh folder, hides every system Node (a `node` first on the PATH that fails), and
# runs `bash bench/gpu/run.sh --dry-run` there under `env -i` on this machine's adapter
# (llvmpipe) and PyTorch (CPU without CUDA). Checks that the table came out.
#   bash bench/gpu/pack.sh && bash bench/gpu/dry-run.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f bench/gpu/pack/ser-gpu.tar.xz ] || { echo "dry-run.sh: run 'bash bench/gpu/pack.sh' first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${1:-$work/out}
mkdir -p "$work/repo" "$work/shim" "$out"
{ git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r ls -d 2>/dev/null | tar -cf - -T - | tar -xf - -C "$work/repo"
mkdir -p "$work/repo/bench/gpu/pack"
cp bench/gpu/pack/* "$work/repo/bench/gpu/pack/"
printf '#!/bin/sh\necho "dry-run: a system node was called ($0 $*); run.sh must use the packed one" >&2\nexit 97\n' >"$work/shim/node"
chmod +x "$work/shim/node"
echo "dry-run: running in $work/repo with PATH=$work/shim:/usr/bin:/bin" >&2
t0=$(date +%s)
(cd "$work/repo" && env -i PATH="$work/shim:/usr/bin:/bin" HOME="$work" OUT="$out" bash bench/gpu/run.sh --dry-run)
echo "dry-run: finished in $(($(date +%s) - t0)) s" >&2
grep -q '^| part | case |' "$out/gpu-bench.md" || { echo "dry-run: no table in $out/gpu-bench.md" >&2; exit 1; }
ls -la "$out" >&2
