// The GPU benchmark's parts that run without a GPU (bench/gpu/README.md): the one table from a
// fixture of invented figures (pairing ours with PyTorch, fractions of the peaks, the fastest
// variant, parts cut short), the part runner's timeouts and failures (a part that fails or
// hangs is reported and the rest go on; a timed-out part's whole process group is killed),
// the shell scripts' bad-input exits, and, where bench/gpu/pack.sh has run, that the pack holds
// what the device needs within the 64 MiB that travel. The whole dry run (bench/gpu/dry-run.sh,
// about a minute here) is not repeated here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gpuBenchTable, rate, ms, type GpuBenchRaw } from '../bench/gpu/table.js';
import { runParts, type PartSpec } from '../bench/gpu/run.js';

const fixture = JSON.parse(readFileSync('test/fixtures/gpu-bench.json', 'utf8')) as GpuBenchRaw;
const dir = mkdtempSync(join(tmpdir(), 'ser-gpu-bench-test-'));

/** The table's row whose first two cells are `part` and `kase`, as cells. */
function row(table: string, part: string, kase: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`| ${part} | ${kase} |`));
  if (!line) assert.unreachable(`no row '${part} | ${kase}' in:\n${table}`);
  return line!.split('|').slice(1, -1).map((c) => c.trim());
}
// Columns: part, case, ours ms, ours rate, of FMA peak, of datasheet, PyTorch ms, PyTorch rate, ours / PyTorch, note.

test('gpu table: rates, fractions of the measured and datasheet peaks, ours / PyTorch', () => {
  const t = gpuBenchTable(fixture);
  assert.match(t, /datasheet 67\.0 TFLOP\/s float32, 4\.80 TB\/s/);
  assert.match(t, /our register-FMA kernel 40\.0 TFLOP\/s/);
  assert.equal(row(t, 'kernel: peak', 'register fma (arithmetic peak)').slice(2, 6), ['1.00', '40.0 TFLOP/s', '100%', '60%']);
  // 2^31 FLOP in 0.4 ms = 5.37 TFLOP/s: 13% of 40, 8.0% of 67; PyTorch 0.1 ms: ours takes 4x as long.
  assert.equal(row(t, 'kernel: peak', 'matmul 1024x1024x1024').slice(2, 9), ['0.400', '5.37 TFLOP/s', '13%', '8.0%', '0.100', '21.5 TFLOP/s', '4.00x']);
  // A bandwidth row: 2 TB/s is half our copy rate and 42% of the datasheet's 4.8 TB/s; no PyTorch.
  assert.equal(row(t, 'kernel: relu', 'forward [32,64,186,32]').slice(2, 9), ['0.100', '2.00 TB/s', '50%', '42%', '-', '-', '-']);
});

test('gpu table: our fastest variant per pass, the others noted; unlike shapes are not compared', () => {
  const t = gpuBenchTable(fixture);
  const fwd = row(t, 'conv layer', 'CNN-5 conv2 32->64 forward [32,32,186,32]');
  assert.equal([fwd[2], fwd[6], fwd[8], fwd[9]], ['1.00', '0.500', '2.00x', 'rows; tiles 2.00 ms']);
  const dgrad = row(t, 'conv layer', 'CNN-5 conv2 32->64 input grad [32,32,186,32]');
  assert.equal([dgrad[2], dgrad[8], dgrad[9]], ['3.00', '3.00x', 'tiles; rows 4.00 ms']);
  const vgg = row(t, 'conv layer', 'VGG-16 conv2 64->64 forward [32,64,373,64]');
  assert.equal(vgg[6], '-');
  assert.match(vgg[9], /PyTorch shapes differ/);
});

test('gpu table: steps paired by model and case; PyTorch-only rows; parts not measured are listed', () => {
  const t = gpuBenchTable(fixture);
  const std = row(t, 'train step', 'cnn5 standard batch 32');
  assert.equal([std[2], std[3], std[6], std[8]], ['20.0', '5.00 TFLOP/s', '10.0', '2.00x']);
  assert.equal(row(t, 'train step', 'cnn5 adversarial batch 32')[8], '3.00x');
  assert.equal(row(t, 'train step', 'vgg16 standard batch 32 (ours: no result)')[6], '70.0');
  assert.match(t, /convolution layers \(bench\/conv2d\.ts\): timed out \(killed after the part's 100 s\) after 100 s; the rows it finished are in the table/);
  assert.match(t, /vgg16 training steps and inference \(bench\/train-step\.ts\): failed \(exit 70: Error: invented device lost\)/);
  assert.match(t, /PyTorch resnet50 standard: RuntimeError: invented failure/);
  // A dry run says its figures mean nothing; no datasheet for an unknown card.
  const dry = gpuBenchTable({ ...fixture, dryRun: true, gpuName: undefined, adapter: { adapter: 'llvmpipe', backend: 'opengl', kind: 'cpu' } });
  assert.match(dry, /dry run: small sizes, figures not meaningful/);
  assert.match(dry, /datasheet: none known for this card/);
  assert.equal(row(dry, 'kernel: peak', 'register fma (arithmetic peak)')[5], '-');
});

test('gpu table: units and milliseconds', () => {
  assert.is(rate(2e12, 1, 'FLOP'), '2.00 TFLOP/s');
  assert.is(rate(5e8, 1, 'FLOP'), '0.500 GFLOP/s');
  assert.is(rate(3e11, 1, 'B'), '300 GB/s');
  assert.is(rate(undefined, 1, 'B'), '-');
  assert.is(ms(0.12345), '123');
  assert.is(ms(0.0012345), '1.23');
  assert.is(ms(undefined), '-');
});

const node = process.execPath;
const js = (code: string): string[] => ['-e', code];

test('gpu parts: a failing, a hanging and a missing command are reported and the rest go on; a hang is killed with its children', async () => {
  const log = join(dir, 'parts.log');
  writeFileSync(log, '');
  const pidFile = join(dir, 'grandchild.pid');
  const specs: PartSpec[] = [
    { id: 'a', title: 'fails', cmd: node, args: js('console.error("boom"); process.exit(3)'), cap: 10 },
    // A child that starts a grandchild and hangs: both must be gone after the timeout.
    { id: 'b', title: 'hangs', cmd: node, args: js(`const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setInterval(() => {}, 1000)`), cap: 1 },
    { id: 'c', title: 'missing', cmd: join(dir, 'no-such-command'), args: [], cap: 10 },
    { id: 'd', title: 'stdout json', cmd: node, args: js('console.log(JSON.stringify({ x: 1 }))'), cap: 10, json: 'stdout' },
    { id: 'e', title: 'file json', cmd: node, args: js(`require('fs').writeFileSync(${JSON.stringify(join(dir, 'e.json'))}, '{"y": 2}')`), cap: 10, json: join(dir, 'e.json') },
    { id: 'f', title: 'no json', cmd: node, args: js('console.log("not json")'), cap: 10, json: 'stdout' },
    { id: 'g', title: 'optional', cmd: join(dir, 'no-such-tool'), args: [], cap: 10, optional: true },
  ];
  const t0 = performance.now();
  const r = await runParts(specs, 60, log);
  assert.ok((performance.now() - t0) / 1000 < 20, 'the hanging part was not cut off');
  assert.equal(r.map((p) => p.status), ['failed', 'timed out', 'failed', 'ok', 'ok', 'failed', 'skipped']);
  assert.match(r[6].reason!, /^no .*no-such-tool on this machine$/);
  assert.is(r[0].reason, 'exit 3: boom');
  assert.match(r[0].tail!, /boom/);
  assert.match(r[1].reason!, /killed after the part's 1 s/);
  assert.match(r[2].reason!, /cannot start/);
  assert.equal(r[3].json, { x: 1 });
  assert.equal(r[4].json, { y: 2 });
  assert.match(r[5].reason!, /no JSON result/);
  assert.match(readFileSync(log, 'utf8'), /== hangs: timed out/);
  // The grandchild went with its group (SIGKILL follows SIGTERM within 3 s).
  const grandchild = Number(readFileSync(pidFile, 'utf8'));
  let alive = true;
  for (let i = 0; i < 50 && alive; i++) {
    try {
      process.kill(grandchild, 0);
      await new Promise((ok) => setTimeout(ok, 100));
    } catch {
      alive = false;
    }
  }
  assert.not.ok(alive, `grandchild ${grandchild} of the timed-out part still runs`);
});

test('gpu parts: parts past the time budget are skipped, saying so', async () => {
  const log = join(dir, 'budget.log');
  const r = await runParts([{ id: 'late', title: 'late', cmd: node, args: js(''), cap: 10 }], 5, log, performance.now(), 15);
  assert.is(r[0].status, 'skipped');
  assert.match(r[0].reason!, /left of the 5 s budget/);
});

test('gpu scripts: bad options and a missing pack end with one line and exit 2', () => {
  const bad = spawnSync('bash', ['bench/gpu/pack.sh', '--frobnicate'], { encoding: 'utf8' });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /unknown option '--frobnicate'/);
  // run.sh in a tree without the pack (a copy, so a real pack here does not count).
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'bench/gpu'), { recursive: true });
  cpSync('bench/gpu/run.sh', join(tree, 'bench/gpu/run.sh'));
  const run = spawnSync('bash', [join(tree, 'bench/gpu/run.sh'), '--dry-run'], { encoding: 'utf8' });
  assert.is(run.status, 2);
  assert.match(run.stderr, /bench\/gpu\/pack\/ser-gpu\.tar\.xz is missing/);
  // A bad flag is refused before anything is unpacked (here: before the missing pack is even noticed).
  for (const [args, why] of [
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['--budget'], /--budget needs a value/],
    [['--budget', 'soon'], /--budget 'soon' is not a whole number of seconds/],
    [['--out'], /--out needs a value/],
  ] as const) {
    const r = spawnSync('bash', [join(tree, 'bench/gpu/run.sh'), ...args], { encoding: 'utf8' });
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, why);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const help = spawnSync('bash', [join(tree, 'bench/gpu/run.sh'), '--help'], { encoding: 'utf8' });
  assert.is(help.status, 0, help.stderr);
  assert.match(help.stdout, /bash bench\/gpu\/run\.sh \[--dry-run\]/);
});

test('gpu pack: holds Node, Dawn, the build and the loaders, within the 64 MiB that travel', () => {
  const archive = 'bench/gpu/pack/ser-gpu.tar.xz';
  const manifest = 'bench/gpu/pack/MANIFEST.txt';
  if (!existsSync(archive) || !existsSync(manifest)) {
    console.log("  SKIPPED: no pack here (bench/gpu/pack.sh needs the npm registry and a Debian mirror; run 'bash bench/gpu/pack.sh')");
    return;
  }
  const files = new Map<string, number>();
  for (const line of readFileSync(manifest, 'utf8').split('\n')) {
    const m = /^(\d+) (\S.*)$/.exec(line);
    if (m) files.set(m[2], Number(m[1]));
  }
  for (const f of ['node/bin/node', 'node_modules/webgpu/dist/linux-x64/dawn.node', 'node_modules/webgpu/index.js', 'dist/bench/gpu/run.js', 'dist/bench/kernels.js', 'dist/bench/conv2d.js', 'dist/bench/train-step.js', 'dist/src/cli/main.js']) {
    assert.ok(files.has(f), `${f} is not in the pack`);
  }
  for (const d of ['libvulkan1', 'libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2']) {
    assert.ok([...files.keys()].some((f) => f.startsWith(`debs/${d}_`) && f.endsWith('_amd64.deb')), `${d} .deb is not in the pack`);
  }
  assert.not.ok([...files.keys()].some((f) => /webgpu\/dist\/(?!linux-x64)/.test(f)), 'Dawn binaries for other platforms were packed');
  // What travels: the archive, its manifest, and the tracked and untracked-not-ignored files.
  const listed = spawnSync('bash', ['-c', '{ git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r stat -c %s 2>/dev/null'], { encoding: 'utf8' });
  const tree = listed.stdout.split('\n').filter(Boolean).reduce((s, n) => s + Number(n), 0);
  const total = statSync(archive).size + statSync(manifest).size + tree;
  assert.ok(tree > 0, 'git listed no files');
  assert.ok(total <= 64 * 2 ** 20, `pack ${statSync(archive).size} + tree ${tree} bytes is over 64 MiB`);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
