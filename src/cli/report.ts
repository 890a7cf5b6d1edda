// `ser report DIR`: turns a sweep's cell results into report.md and SVG figures. It reads
// any mix of finished cells (from any number of processes or machines), says which cells of
// the grids asked for are missing or still claimed and by whom, and never mixes results of
// different settings: those are grouped by the key of their grid-wide settings. A damaged
// result or grid file is named and skipped (exit 1); names read from files are sanitised.
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { JsonFileError, readJsonFile } from '../io/json.js';
import type { CommandSpec, Parsed } from './args.js';
import { UserError } from './errors.js';
import { loadFoldResults, type FoldResult, type KeyedResult } from '../experiment/results.js';
import { runSettingsOf, settingsKey, differingSettings, canonicalJson, withLegacyDefaults } from '../experiment/cells.js';
import { listClaims, describeClaim } from '../experiment/claims.js';
import { table3, robustnessTable, extraAttacksTable, fgsmGridTable, summarize, fgsmAt } from '../report/table.js';
import { lineChart, confusionSvg, type Series } from '../report/svg.js';
import { assertWritableDir, writeFileAtomic } from '../io/atomic.js';
import { EXIT } from './errors.js';
import { CLASSES } from '../data/corpus.js';
import { safeName, safeText } from '../report/names.js';

/** Writes one report file, refusing any path that would leave the run folder. */
function writeInside(dir: string, name: string, data: string | Uint8Array): string {
  const f = join(dir, name);
  const rel = relative(resolve(dir), resolve(f));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.includes(sep)) throw new Error(`report: file name '${name}' would leave ${dir}`);
  writeFileAtomic(f, data);
  return f;
}

export const spec: CommandSpec = {
  name: 'report',
  summary: "Write report.md (the paper's Table 3 with our numbers beside it) and SVG figures from a sweep's results.",
  usage: 'ser report RUN_DIR [--settings KEY] [--json]',
  flags: {
    json: { type: 'boolean', help: 'print the summary as JSON instead of Markdown' },
    settings: { type: 'string', value: 'KEY', help: 'report the results of these settings (a key, or its first digits) when the folder holds several' },
  },
};

function figures(dir: string, results: FoldResult[]): string[] {
  const written: string[] = [];
  const std = results.filter((r) => r.trainEps === 0);
  const models = [...new Set(results.map((r) => r.model))].sort();
  // Fig. 3: UAR of standard-trained models against the FGSM eps.
  const series: Series[] = models
    .map((m) => {
      const rs = std.filter((r) => r.model === m);
      const eps = [...new Set(rs.flatMap((r) => r.attacks.filter((a) => a.kind === 'fgsm').map((a) => a.eps!)))].sort((a, b) => a - b);
      const pts = [0, ...eps].map((e) => summarize(rs.map((r) => (e === 0 ? r.clean.uar : fgsmAt(r, e))).filter((v): v is number => v !== undefined)));
      return { label: m, points: [0, ...eps].map((e, i) => [e, pts[i].mean] as [number, number]), errors: pts.map((p) => p.std) };
    })
    .filter((s) => s.points.length > 1);
  if (series.length > 0) {
    const f = writeInside(dir, 'fig3-uar-vs-eps.svg', lineChart({ title: 'Standard training under FGSM', xLabel: 'eps', yLabel: 'UAR', series, yMin: 0, yMax: 1 }));
    written.push(f);
  }
  // Training curves: mean loss over folds for each (model, eps).
  const groups = [...new Set(results.map((r) => `${r.model}|${r.trainEps}`))].sort();
  const curves: Series[] = groups.map((g) => {
    const [m, e] = g.split('|');
    const rs = results.filter((r) => r.model === m && r.trainEps === Number(e));
    const its = [...new Set(rs.flatMap((r) => r.losses.map((l) => l.iteration)))].sort((a, b) => a - b);
    return {
      label: `${m} eps ${Number(e).toFixed(2)}`,
      points: its.map((it) => [it, summarize(rs.map((r) => r.losses.find((l) => l.iteration === it)?.loss).filter((v): v is number => v !== undefined)).mean] as [number, number]),
      dashed: Number(e) > 0,
    };
  });
  if (curves.some((c) => c.points.length > 1)) {
    const f = writeInside(dir, 'training-curves.svg', lineChart({ title: 'Training loss (mean over folds)', xLabel: 'iteration', yLabel: 'loss', series: curves, yMin: 0 }));
    written.push(f);
  }
  // Confusion matrices summed over folds.
  for (const g of groups) {
    const [m, e] = g.split('|');
    const rs = results.filter((r) => r.model === m && r.trainEps === Number(e));
    const sum = CLASSES.map((_, i) => CLASSES.map((__, j) => rs.reduce((a, r) => a + (r.clean.confusion[i]?.[j] ?? 0), 0)));
    const f = writeInside(dir, `confusion-${safeName(m)}-eps${Number(e).toFixed(2)}.svg`, confusionSvg(`${m}, training eps ${Number(e).toFixed(2)}, clean test (all folds)`, CLASSES, sum));
    written.push(f);
  }
  return written;
}

/** The key of a result's grid-wide settings (everything but model, training eps and fold). */
function groupKey(r: KeyedResult): string {
  return settingsKey(runSettingsOf(r.config));
}

/** Picks one settings group: the only one, or the one --settings names; refuses a mix. */
function chooseGroup(dir: string, all: KeyedResult[], pick: string | undefined): { key: string; results: KeyedResult[] } {
  const groups = new Map<string, KeyedResult[]>();
  for (const r of all) groups.set(groupKey(r), [...(groups.get(groupKey(r)) ?? []), r]);
  if (pick !== undefined) {
    const keys = [...groups.keys()].filter((k) => k.startsWith(pick));
    if (keys.length !== 1) throw new UserError(`report: --settings '${pick}' matches ${keys.length} of the settings in ${dir} (${[...groups.keys()].join(', ')})`);
    return { key: keys[0], results: groups.get(keys[0])! };
  }
  if (groups.size === 1) return { key: [...groups.keys()][0], results: all };
  const list = [...groups.entries()].map(([k, rs]) => `${k} (${rs.length} results)`).join(', ');
  const first = [...groups.values()].map((rs) => runSettingsOf(rs[0].config));
  const diff = [...new Set(first.slice(1).flatMap((s) => differingSettings(first[0], s)))];
  const shown = diff.map((k) => `${k}: ${first.map((s) => canonicalJson(withLegacyDefaults(s)[k] ?? null)).join(' / ')}`).join('; ');
  throw new UserError(`report: ${dir} holds results of ${groups.size} different settings, not reported together: ${list}; they differ in ${shown}; pick one with --settings KEY`);
}

/** Why a parsed value is not a grid file written by `ser sweep`, or null. */
function gridProblem(v: unknown): string | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a grid file (not a JSON object)';
  const cells = (v as { cells?: unknown }).cells;
  if (!Array.isArray(cells)) return "not a grid file ('cells' is not a list)";
  for (const c of cells) {
    if (!c || typeof c !== 'object' || typeof c.key !== 'string' || typeof c.cell !== 'string' || !Number.isInteger(c.index)) return 'not a grid file (a cell without index, cell and key)';
  }
  return null;
}

/**
 * Cells of the grids asked for with these settings that have no result, with their claims;
 * undefined when no grid with these settings is recorded (a folder from before grids were).
 */
function missingCells(dir: string, group: string, results: KeyedResult[], onBad: (path: string, reason: string) => void): { cell: string; index: number; claim?: string }[] | undefined {
  const folder = join(dir, 'grids');
  if (!existsSync(folder)) return undefined;
  let recorded = false;
  const have = new Set(results.map((r) => r.key));
  const claims = listClaims(dir);
  const missing = new Map<string, { cell: string; index: number; claim?: string }>();
  for (const f of readdirSync(folder).filter((n) => n.endsWith('.json')).sort()) {
    let grid: { settingsKey?: string; cells: { index: number; cell: string; key: string }[] };
    try {
      grid = readJsonFile(join(folder, f), gridProblem);
    } catch (e) {
      if (!(e instanceof JsonFileError)) throw e;
      onBad(e.path, e.reason);
      continue;
    }
    if (grid.settingsKey !== group) continue;
    recorded = true;
    for (const c of grid.cells) {
      if (have.has(c.key) || missing.has(c.key)) continue;
      const claim = claims.get(c.key);
      // Text from files (cell names, claim holders) goes into Markdown and the terminal: sanitised.
      missing.set(c.key, { cell: safeText(c.cell), index: c.index, claim: claim ? safeText(describeClaim(claim)) : undefined });
    }
  }
  return recorded ? [...missing.values()] : undefined;
}

function completeness(n: number, missing: ReturnType<typeof missingCells>): string {
  if (!missing) return `${n} cells finished. No grid with these settings is recorded in the folder (it was written before grids were), so which cells are missing is not known.`;
  if (missing.length === 0) return `All ${n} cells of the grid are finished.`;
  const running = missing.filter((m) => m.claim);
  const rows = missing.map((m) => `| ${m.index} | ${m.cell} | ${m.claim ? `claimed by ${m.claim}` : 'not started (no claim)'} |`);
  return [
    `${n} of ${n + missing.length} cells finished; ${missing.length} missing (${running.length} claimed, ${missing.length - running.length} not started). The tables below hold the finished cells only.`,
    '',
    '| cell | settings | state |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
}

export async function run(p: Parsed): Promise<number> {
  const dir = p.positionals[0];
  if (!dir) throw new UserError("report: give the run folder, e.g. 'ser report runs/sweep'");
  if (!existsSync(dir)) throw new UserError(`report: no such folder: ${dir}`);
  if (!p.flags.json) assertWritableDir(dir);
  let damaged = 0;
  const skip = (path: string, reason: string) => {
    damaged++;
    console.error(`skipped ${path}: ${reason}`);
  };
  let all: KeyedResult[];
  try {
    // Names from the files are sanitised once, here, before they reach file names or Markdown.
    all = loadFoldResults(dir, skip).map((r) => ({ ...r, model: safeName(r.model), corpus: safeText(r.corpus), adapter: safeText(r.adapter) }));
  } catch (e) {
    if (e instanceof JsonFileError) throw new UserError(`report: ${e.message}`);
    throw e;
  }
  if (all.length === 0) throw new UserError(`report: no fold results in ${join(dir, 'folds')} (run 'ser sweep' first)`);
  const { key: group, results } = chooseGroup(dir, all, p.flags.settings as string | undefined);
  const missing = missingCells(dir, group, results, skip);
  for (const m of missing ?? []) console.error(`missing: cell ${m.index} ${m.cell}${m.claim ? ` (claimed by ${m.claim})` : ' (not started)'}`);
  if (p.flags.json) {
    console.log(JSON.stringify({ settings: group, missing: missing ?? null, results: results.map((r) => ({ recipe: r.recipe, attackLabels: r.attackLabels, model: r.model, trainEps: r.trainEps, fold: r.fold, key: r.key, worker: r.worker, clean: r.clean.uar, attacks: r.attacks.map((a) => ({ kind: a.kind, eps: a.eps, snr: a.snr, uar: a.scores.uar })) })) }, null, 1));
    return damaged ? EXIT.SOME_FAILED : EXIT.OK;
  }
  const corpora = [...new Set(results.map((r) => r.corpus))].join(', ');
  const iters = [...new Set(results.map((r) => r.iterations))].join(', ');
  const md = [
    `# Results: ${corpora}`,
    '',
    `${results.length} fold results; ${iters} training iterations; adapter: ${[...new Set(results.map((r) => r.adapter))].join(', ')}; settings ${group}.`,
    `Recipe: ${[...new Set(results.map((r) => r.recipe))].join(', ')}; attacks against ${[...new Set(results.map((r) => r.attackLabels))].map((l) => (l === 'predicted' ? "the model's own predictions" : 'the true labels')).join(' and ')}.`,
    'UAR on held-out speakers, mean ± standard deviation over folds. The paper used IEMOCAP (leave one session out) and 10,000 iterations;',
    'its numbers are beside ours for reference, not as the same experiment unless the corpus is IEMOCAP with the same settings.',
    '',
    '## Cells',
    '',
    completeness(results.length, missing),
    '',
    "## Table 3 layout: clean / FGSM UAR at the training eps",
    '',
    table3(results),
    '',
    '## Standard-trained models under FGSM (Fig. 3)',
    '',
    robustnessTable(results),
    '',
    fgsmGridTable(results) ? `## Every model at every FGSM eps\n\n${fgsmGridTable(results)}\n` : '',
    extraAttacksTable(results) ? `## PGD and additive noise\n\n${extraAttacksTable(results)}\n` : '',
  ].join('\n');
  writeInside(dir, 'report.md', md);
  const figs = figures(dir, results);
  process.stdout.write(md);
  console.log(`\nwrote ${join(dir, 'report.md')} and ${figs.length} figures`);
  if (damaged) console.error(`report: ${results.length} fold results used, ${damaged} damaged files skipped (named above)`);
  return damaged ? EXIT.SOME_FAILED : EXIT.OK;
}
