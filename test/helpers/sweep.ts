// Running `ser sweep` processes from tests and reading what they did: which cells each
// process started and finished (from its stderr lines), and the result files of a run folder.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** A tiny grid: the small CNN on the synthetic corpus, a few iterations, tiny batches. */
export const TINY = ['--models', 'small', '--iterations', '4', '--batch', '4', '--quiet'];

export function serSync(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export interface Running {
  child: ChildProcess;
  err: () => string;
  done: Promise<number | null>;
}

export function serAsync(env: NodeJS.ProcessEnv, ...args: string[]): Running {
  const child = spawn(process.execPath, ['bin/ser.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, err: () => err, done };
}

/** Cell indices a process's stderr says it started / finished. */
export function cellEvents(stderr: string): { started: number[]; finished: number[] } {
  const started = [...stderr.matchAll(/^cell (\d+) \S+: start /gm)].map((m) => Number(m[1]));
  const finished = [...stderr.matchAll(/^cell (\d+) \S+: done, /gm)].map((m) => Number(m[1]));
  return { started, finished };
}

/** The result files of a run folder, parsed. */
export function results(dir: string): { file: string; key: string; fold: number; trainEps: number; worker?: { host: string; pid: number } }[] {
  const folder = join(dir, 'folds');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: f, ...JSON.parse(readFileSync(join(folder, f), 'utf8')) }));
}

/** The grid's cells as `ser sweep ... --list-cells --json` gives them. */
export function listCells(env: NodeJS.ProcessEnv, args: string[]): { index: number; cell: string; key: string }[] {
  const r = serSync(env, 'sweep', ...args, '--list-cells', '--json');
  if (r.code !== 0) throw new Error(`--list-cells failed: ${r.err}`);
  return JSON.parse(r.out);
}
