// Which cells of a sweep's grid this process runs: --cell K, --shard K/N, or the index a
// scheduler's job array gives each task (Slurm, Kubernetes Indexed Jobs).
import { UserError } from './errors.js';

/** Which cells this process runs. */
export type Selection = { kind: 'all' } | { kind: 'cell'; index: number } | { kind: 'shard'; index: number; count: number };

function wholeNumber(raw: string, what: string): number {
  if (!/^\s*\d+\s*$/.test(raw)) throw new UserError(`${what}: '${raw}' is not a whole number >= 0`);
  return Number(raw);
}

/**
 * The selection from --cell K, --shard K/N, or the scheduler's array index: Slurm's
 * SLURM_ARRAY_TASK_ID (share count SLURM_ARRAY_TASK_COUNT, indices offset by
 * SLURM_ARRAY_TASK_MIN) or Kubernetes' JOB_COMPLETION_INDEX (share count from SER_ARRAY_SIZE,
 * which the manifest sets to its completions). An array as large as the grid runs one cell
 * per task; a smaller one runs share K of N (cells K, K+N, K+2N...).
 */
export function selectionOf(flags: { cell?: string; shard?: string }, env: NodeJS.ProcessEnv, cells: number): Selection {
  if (flags.cell !== undefined && flags.shard !== undefined) throw new UserError('sweep: give --cell or --shard, not both');
  if (flags.cell !== undefined) {
    const k = wholeNumber(flags.cell, '--cell');
    if (k >= cells) throw new UserError(`--cell: cell ${k} does not exist (the grid has cells 0..${cells - 1}; see --list-cells)`);
    return { kind: 'cell', index: k };
  }
  if (flags.shard !== undefined) {
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(flags.shard);
    if (!m) throw new UserError(`--shard: '${flags.shard}' is not K/N (share K of N, 0 <= K < N), e.g. 0/4`);
    const [k, n] = [Number(m[1]), Number(m[2])];
    if (n < 1) throw new UserError(`--shard: N must be at least 1, got ${n}`);
    if (k >= n) throw new UserError(`--shard: K must be below N (0..${n - 1}), got ${k}/${n}`);
    return { kind: 'shard', index: k, count: n };
  }
  const slurm = env.SLURM_ARRAY_TASK_ID;
  const k8s = env.JOB_COMPLETION_INDEX;
  if (slurm === undefined && k8s === undefined) return { kind: 'all' };
  const what = slurm !== undefined ? 'SLURM_ARRAY_TASK_ID' : 'JOB_COMPLETION_INDEX';
  const offset = slurm !== undefined && env.SLURM_ARRAY_TASK_MIN ? wholeNumber(env.SLURM_ARRAY_TASK_MIN, 'SLURM_ARRAY_TASK_MIN') : 0;
  const index = wholeNumber((slurm ?? k8s)!, what) - offset;
  const countRaw = slurm !== undefined ? env.SLURM_ARRAY_TASK_COUNT : env.SER_ARRAY_SIZE;
  const count = countRaw ? wholeNumber(countRaw, slurm !== undefined ? 'SLURM_ARRAY_TASK_COUNT' : 'SER_ARRAY_SIZE') : undefined;
  if (index < 0) throw new UserError(`${what}: index ${index + offset} is below the array's first index ${offset}`);
  if (count !== undefined && count < cells) return { kind: 'shard', index, count };
  if (index >= cells) throw new UserError(`${what}=${index + offset}: cell ${index} does not exist (the grid has cells 0..${cells - 1}; size the array from 'ser sweep ... --list-cells')`);
  return { kind: 'cell', index };
}

/** The cells a selection picks. */
export function selectCells<T extends { index: number }>(cells: T[], sel: Selection): T[] {
  if (sel.kind === 'all') return cells;
  if (sel.kind === 'cell') return cells.filter((c) => c.index === sel.index);
  return cells.filter((c) => c.index % sel.count === sel.index);
}
