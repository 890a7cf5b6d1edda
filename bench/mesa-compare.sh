#!/usr/bin/env bash
# The same benchmarks on this machine's Mesa llvmpipe and on another Mesa release from
# Debian's archive, side by side: the other release's packages are downloaded into a temporary
# folder and unpacked there (the system's packages and apt configuration are not touched), and
# each benchmark runs once with it (LD_LIBRARY_PATH, LIBGL_DRIVERS_PATH) and once without.
# Prints, per benchmark, both outputs. The system's runs come first, so a bad option (an
# unknown --layers id) stops the script before anything is downloaded; a benchmark that fails
# stops it with the benchmark's exit status and last line. Needs apt-get, dpkg-deb, Debian's
# archive reachable, and a build (npm run build). KEEP=1 keeps the unpacked Mesa (the folder
# is named on stderr).
#
#   bash bench/mesa-compare.sh [--suite bookworm-backports] [--layers cnn5-2,cnn5-4]
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bash bench/mesa-compare.sh [--suite SUITE] [--layers IDS]"
say() { echo "mesa-compare: $*" >&2; }
suite=bookworm-backports layers=cnn5-2,cnn5-4
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      echo "$usage"
      echo "  --suite   the Debian suite to take Mesa from (default: bookworm-backports)"
      echo "  --layers  convolution layers for dist/bench/conv2d.js (default: cnn5-2,cnn5-4)"
      exit 0 ;;
    --suite | --layers)
      [ $# -ge 2 ] || { say "$1 needs a value ($usage)"; exit 2; }
      case "$1" in --suite) suite=$2 ;; --layers) layers=$2 ;; esac
      shift 2 ;;
    *) say "unknown option '$1' ($usage)"; exit 2 ;;
  esac
done
[[ "$suite" =~ ^[a-z0-9-]+$ ]] || { say "--suite '$suite' is not a Debian suite name"; exit 2; }
[[ "$layers" =~ ^[a-z0-9,-]+$ ]] || { say "--layers '$layers' is not a comma-separated list of layer ids"; exit 2; }
for tool in apt-get dpkg-deb; do command -v "$tool" >/dev/null || { say "$tool is not installed (a Debian machine is needed)"; exit 2; }; done
[ -f dist/bench/conv2d.js ] && [ -f dist/bench/load-cost.js ] || { say "the benchmarks are not built: run 'npm run build' first"; exit 2; }

export EGL_PLATFORM=${EGL_PLATFORM:-surfaceless} SER_TUNE=off
work=$(mktemp -d)
[ -z "${KEEP:-}" ] || say "keeping the unpacked Mesa in $work"
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

titles=("Load cost per invocation (node dist/bench/load-cost.js)"
  "Convolution passes, rows kernels (node dist/bench/conv2d.js --variants rows --layers $layers)")
bench() {
  case "$1" in
    0) node dist/bench/load-cost.js ;;
    1) node dist/bench/conv2d.js --variants rows --layers "$layers" --out "$work/conv2d-$2.json" ;;
  esac
}
# Runs benchmark $1 on side $2 (system or other) into $work/$2-$1.out; stops the script with
# the benchmark's status and last line when it fails.
run_one() {
  local status=0
  if [ "$2" = system ]; then bench "$1" "$2" >"$work/$2-$1.out" 2>&1 || status=$?
  else LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" LIBGL_DRIVERS_PATH="$lib/dri" bench "$1" "$2" >"$work/$2-$1.out" 2>&1 || status=$?
  fi
  if [ "$status" -ne 0 ]; then
    say "${titles[$1]%% (*} failed on the $2 Mesa (exit $status): $(grep -v '^Warning: maxDynamic' "$work/$2-$1.out" | tail -n 1)"
    exit "$status"
  fi
}
for i in "${!titles[@]}"; do run_one "$i" system; done

mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts" "$work/debs" "$work/root"
# A private apt state: the suite alone, lists and downloads in $work.
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" >"$work/sources.list"
apt_private=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/parts"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
say "reading the package lists of $suite"
apt-get "${apt_private[@]}" -qq update >"$work/update.log" 2>&1 || { say "apt-get update of $suite failed: $(tail -n 2 "$work/update.log")"; exit 2; }
# llvmpipe through EGL, and the libdrm it links against (newer than the system's on bookworm).
packages=(libgl1-mesa-dri libegl-mesa0 mesa-libgallium libgbm1 libdrm2 libdrm-amdgpu1 libdrm-intel1)
(cd "$work/debs" && apt-get "${apt_private[@]}" -qq download "${packages[@]}" >"$work/download.log" 2>&1) ||
  { say "downloading Mesa from $suite failed: $(tail -n 2 "$work/download.log")"; exit 2; }
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
lib="$work/root/usr/lib/x86_64-linux-gnu"
[ -d "$lib/dri" ] || { say "the packages from $suite hold no DRI drivers (not an x86-64 Mesa?)"; exit 2; }

for i in "${!titles[@]}"; do
  run_one "$i" other
  for side in system other; do
    echo "### ${titles[$i]}: Mesa from $([ "$side" = system ] && echo the system || echo "$suite")"
    echo
    grep -E '^(adapter|\||$)' "$work/$side-$i.out" || true
    echo
  done
done
