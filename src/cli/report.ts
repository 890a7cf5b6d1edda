// `ser report DIR`: turns a sweep's fold results into report.md and SVG figures.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { CommandSpec, Parsed } from './args.js';
import { UserError } from './errors.js';
import { loadFoldResults, type FoldResult } from '../experiment/results.js';
import { table3, robustnessTable, extraAttacksTable, summarize, fgsmAt } from '../report/table.js';
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
  usage: 'ser report RUN_DIR [--json]',
  flags: { json: { type: 'boolean', help: 'print the summary as JSON instead of Markdown' } },
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

export async function run(p: Parsed): Promise<number> {
  const dir = p.positionals[0];
  if (!dir) throw new UserError("report: give the run folder, e.g. 'ser report runs/sweep'");
  if (!existsSync(dir)) throw new UserError(`report: no such folder: ${dir}`);
  if (!p.flags.json) assertWritableDir(dir);
  let damaged = 0;
  // Names from the files are sanitised once, here, before they reach file names or Markdown.
  const results = loadFoldResults(dir, (path, reason) => {
    damaged++;
    console.error(`skipped ${path}: ${reason}`);
  }).map((r) => ({ ...r, model: safeName(r.model), corpus: safeText(r.corpus), adapter: safeText(r.adapter) }));
  if (results.length === 0) throw new UserError(`report: no fold results in ${join(dir, 'folds')} (run 'ser sweep' first)`);
  if (p.flags.json) {
    console.log(JSON.stringify(results.map((r) => ({ recipe: r.recipe, attackLabels: r.attackLabels, model: r.model, trainEps: r.trainEps, fold: r.fold, clean: r.clean.uar, attacks: r.attacks.map((a) => ({ kind: a.kind, eps: a.eps, snr: a.snr, uar: a.scores.uar })) })), null, 1));
    return damaged ? EXIT.SOME_FAILED : EXIT.OK;
  }
  const corpora = [...new Set(results.map((r) => r.corpus))].join(', ');
  const iters = [...new Set(results.map((r) => r.iterations))].join(', ');
  const md = [
    `# Results: ${corpora}`,
    '',
    `${results.length} fold results; ${iters} training iterations; adapter: ${[...new Set(results.map((r) => r.adapter))].join(', ')}.`,
    `Recipe: ${[...new Set(results.map((r) => r.recipe))].join(', ')}; attacks against ${[...new Set(results.map((r) => r.attackLabels))].map((l) => (l === 'predicted' ? "the model's own predictions" : 'the true labels')).join(' and ')}.`,
    'UAR on held-out speakers, mean ± standard deviation over folds. The paper used IEMOCAP (leave one session out) and 10,000 iterations;',
    'its numbers are beside ours for reference, not as the same experiment unless the corpus is IEMOCAP with the same settings.',
    '',
    "## Table 3 layout: clean / FGSM UAR at the training eps",
    '',
    table3(results),
    '',
    '## Standard-trained models under FGSM (Fig. 3)',
    '',
    robustnessTable(results),
    '',
    extraAttacksTable(results) ? `## PGD and additive noise\n\n${extraAttacksTable(results)}\n` : '',
  ].join('\n');
  writeInside(dir, 'report.md', md);
  const figs = figures(dir, results);
  process.stdout.write(md);
  console.log(`\nwrote ${join(dir, 'report.md')} and ${figs.length} figures`);
  if (damaged) console.error(`report: ${results.length} fold results used, ${damaged} damaged files skipped (named above)`);
  return damaged ? EXIT.SOME_FAILED : EXIT.OK;
}
