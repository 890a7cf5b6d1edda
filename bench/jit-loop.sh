#!/usr/bin/env bash
# What one convolution pass's JIT-compiled loop does on llvmpipe: runs the pass over and over
# (dist/bench/conv2d.js), samples the process with `perf record` (cpu-clock: no hardware
# counters needed), disassembles the hottest code from the live process with gdb, finds the
# loop that holds the multiplies, and prints its size and instruction mix with the samples on
# each kind. This is how the README's loop-body figures (3,340 instructions for the 4x8x8
# forward block) were read. Needs perf (Debian linux-perf), gdb, python3, and a build.
# KEEP=1 keeps the samples and the disassembly (the folder is named on stderr).
#
#   bash bench/jit-loop.sh [--layer cnn5-4] [--pass forward|input|weight] [--variant rows] [--seconds 3]
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bash bench/jit-loop.sh [--layer ID] [--pass forward|input|weight] [--variant NAME] [--seconds S]"
say() { echo "jit-loop: $*" >&2; }
layer=cnn5-4 pass=forward variant=rows seconds=3
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) echo "$usage"; echo "  defaults: --layer cnn5-4 --pass forward --variant rows --seconds 3 (layers: node dist/bench/conv2d.js --help)"; exit 0 ;;
    --layer | --pass | --variant | --seconds)
      [ $# -ge 2 ] || { say "$1 needs a value ($usage)"; exit 2; }
      case "$1" in --layer) layer=$2 ;; --pass) pass=$2 ;; --variant) variant=$2 ;; --seconds) seconds=$2 ;; esac
      shift 2 ;;
    *) say "unknown option '$1' ($usage)"; exit 2 ;;
  esac
done
case "$pass" in forward | input | weight) ;; *) say "--pass '$pass' is not forward, input or weight"; exit 2 ;; esac
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] || { say "--seconds '$seconds' is not a whole number of seconds from 1"; exit 2; }
for tool in perf gdb python3; do command -v "$tool" >/dev/null || { say "$tool is not installed (apt-get install linux-perf gdb python3)"; exit 2; }; done
[ -f dist/bench/conv2d.js ] || { say "dist/bench/conv2d.js is missing: run 'npm run build' first"; exit 2; }

work=$(mktemp -d)
[ -z "${KEEP:-}" ] || say "keeping the samples and the disassembly in $work"
trap 'kill "$bench" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
# Long enough to sample: the pass repeated until killed.
EGL_PLATFORM=${EGL_PLATFORM:-surfaceless} SER_TUNE=off node dist/bench/conv2d.js --layers "$layer" --variants "$variant" --passes "$pass" \
  --runs 100000 --out "$work/conv2d.json" >"$work/bench.log" 2>&1 &
bench=$!
# Past the pipeline compile and the warm-up call.
sleep 6
kill -0 "$bench" 2>/dev/null || { say "the benchmark stopped early: $(tail -n 3 "$work/bench.log")"; exit 2; }
perf record -q -e cpu-clock -F 2000 -p "$bench" -o "$work/perf.data" -- sleep "$seconds" >/dev/null 2>&1
perf script -i "$work/perf.data" -F ip 2>/dev/null | sort | uniq -c >"$work/hist.txt"
# The hottest run of 4 KiB pages is the kernel's code; disassemble it from the live process.
range=$(python3 - "$work/hist.txt" <<'PY'
import sys, collections
h = {int(a, 16): int(c) for c, a in (l.split() for l in open(sys.argv[1]))}
pages = collections.Counter()
for a, c in h.items(): pages[a >> 12] += c
hot = max(h, key=h.get) >> 12
lo = hi = hot
while pages.get(lo - 1, 0) + pages.get(lo - 2, 0) > 0: lo -= 1
while pages.get(hi + 1, 0) + pages.get(hi + 2, 0) > 0: hi += 1
print(f"{lo << 12:#x} {((hi + 1) << 12) - (lo << 12)}")
PY
)
read -r start bytes <<<"$range"
gdb -p "$bench" -batch -ex "x/$((bytes / 2))i $start" 2>/dev/null | grep -E '^ *0x' >"$work/dis.txt" || true
kill "$bench" 2>/dev/null || true
python3 - "$work/hist.txt" "$work/dis.txt" "$layer" "$pass" "$variant" <<'PY'
import re, sys, collections
hist, dis, layer, pas, variant = sys.argv[1:]
h = {int(a, 16): int(c) for c, a in (l.split() for l in open(hist))}
rows = []
for line in open(dis):
    parts = line.strip().split('\t')
    addr = int(parts[0].split()[0].rstrip(':'), 16)
    rows.append((addr, h.get(addr, 0), parts[1] if len(parts) > 1 else ''))
where = {a: i for i, (a, _, _) in enumerate(rows)}
muls = [i for i, (_, _, ins) in enumerate(rows) if ins.startswith('vmulps')]
if not muls:
    sys.exit(f"jit-loop: no multiplies in the hottest code ({len(rows)} instructions); try more --seconds")
# The innermost loop around all the multiplies: the back edge jumping to the latest start before them.
loop = None
for i, (_, _, ins) in enumerate(rows):
    m = re.match(r'j\w+\s+0x([0-9a-f]+)', ins)
    if m and i > muls[-1] and where.get(int(m.group(1), 16), len(rows)) < muls[0]:
        t = where[int(m.group(1), 16)]
        if loop is None or t > loop[0]: loop = (t, i)
if loop is None:
    sys.exit("jit-loop: no loop around the multiplies in the sampled code (the disassembly may have started inside an instruction); run it again")
kinds, samples = collections.Counter(), collections.Counter()
for _, c, ins in rows[loop[0]:loop[1] + 1]:
    op = ins.split()[0] if ins else '?'
    if op in ('vmovaps', 'vmovups'):
        src, dst = ins.split(None, 1)[1].rsplit(',', 1)
        op += ' (store)' if '(' in dst else ' (load)' if '(' in src else ' (register)'
    kinds[op] += 1
    samples[op] += c
total = sum(h.values())
inloop = sum(samples.values())
print(f"{variant} {pas} pass of {layer}: the loop around the multiplies is {loop[1] - loop[0] + 1} instructions "
      f"({sum(1 for _, _, ins in rows if ins.startswith('vmulps'))} vmulps, {sum(1 for _, _, ins in rows if ins.startswith('vaddps'))} vaddps in the code); "
      f"{inloop} of {total} samples ({100 * inloop / max(1, total):.0f}%) fall in it\n")
print("| instruction | in the loop | samples | share of the loop's samples |")
print("|---|---|---|---|")
for op, n in kinds.most_common(16):
    print(f"| {op} | {n} | {samples[op]} | {100 * samples[op] / max(1, inloop):.1f}% |")
PY
