// Runs the built uvu suites (dist/test/*.test.js) in one process and ends with the
// plain "N passed, N failed" line CI reads.
import { spawnSync } from 'node:child_process';

const args = ['node_modules/uvu/bin.js', 'dist/test', '\\.test\\.js$', ...process.argv.slice(2)];
const run = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: { ...process.env, EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless', SER_TUNE: process.env.SER_TUNE ?? 'off' } });
process.stdout.write(run.stdout ?? '');
// uvu colours its summary: read the counts from the text without the colour codes.
const plain = (run.stdout ?? '').replace(/\x1b\[[0-9;]*m/g, '');
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
// uvu's Total counts the tests that ran (passed + failed); skipped ones are counted apart.
const failed = run.status === 0 ? Math.max(0, total - passed) : Math.max(1, total - passed);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status === 0 && total > 0 ? 0 : 1);
