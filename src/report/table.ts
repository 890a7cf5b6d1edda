// The Markdown report: a table laid out like the paper's Table 3 (rows = training and eps,
// columns = models, cells = clean / FGSM UAR as mean ± std over folds) with the paper's
// numbers beside ours, then the robustness of standard-trained models against eps.
import type { FoldResult } from '../experiment/results.js';
import { paperCell } from './paper.js';

export interface Summary {
  mean: number;
  std: number;
  n: number;
}

export function summarize(values: number[]): Summary {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

const fmt = (s: Summary) => (s.n === 0 ? '–' : s.n > 1 ? `${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}` : s.mean.toFixed(3));

export function fgsmAt(r: FoldResult, eps: number): number | undefined {
  return r.attacks.find((a) => a.kind === 'fgsm' && Math.abs((a.eps ?? -1) - eps) < 1e-9)?.scores.uar;
}

export function table3(results: FoldResult[]): string {
  const models = [...new Set(results.map((r) => r.model))].sort();
  const epsList = [...new Set(results.map((r) => r.trainEps))].sort((a, b) => a - b);
  const lines = [
    `| training | eps | ${models.map((m) => `${m} ours (clean / FGSM) | ${m} paper`).join(' | ')} |`,
    `|---|---|${models.map(() => '---|---').join('|')}|`,
  ];
  for (const eps of epsList) {
    const cells = models.map((m) => {
      const rs = results.filter((r) => r.model === m && r.trainEps === eps);
      const clean = summarize(rs.map((r) => r.clean.uar));
      const adv = summarize(rs.map((r) => fgsmAt(r, eps)).filter((v): v is number => v !== undefined));
      const p = paperCell(m, eps);
      const paper = p ? `${p.clean.toFixed(3)} / ${p.fgsm === null ? '–' : p.fgsm.toFixed(3)}` : '–';
      const folds = rs.length ? ` (${rs.length} fold${rs.length > 1 ? 's' : ''})` : '';
      return `${fmt(clean)} / ${eps > 0 ? fmt(adv) : '–'}${folds} | ${paper}`;
    });
    lines.push(`| ${eps === 0 ? 'standard' : 'adversarial'} | ${eps.toFixed(2)} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Standard-trained models under FGSM at every eps evaluated (the paper's Fig. 3). */
export function robustnessTable(results: FoldResult[]): string {
  const std = results.filter((r) => r.trainEps === 0);
  const models = [...new Set(std.map((r) => r.model))].sort();
  const epsList = [...new Set(std.flatMap((r) => r.attacks.filter((a) => a.kind === 'fgsm').map((a) => a.eps!)))].sort((a, b) => a - b);
  const lines = [`| eps | ${models.join(' | ')} |`, `|---|${models.map(() => '---').join('|')}|`];
  lines.push(`| 0.00 (clean) | ${models.map((m) => fmt(summarize(std.filter((r) => r.model === m).map((r) => r.clean.uar)))).join(' | ')} |`);
  for (const eps of epsList) {
    lines.push(
      `| ${eps.toFixed(2)} | ${models
        .map((m) => fmt(summarize(std.filter((r) => r.model === m).map((r) => fgsmAt(r, eps)).filter((v): v is number => v !== undefined))))
        .join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** PGD and noise rows, for every (model, training eps). */
export function extraAttacksTable(results: FoldResult[]): string {
  const kinds = [...new Set(results.flatMap((r) => r.attacks.filter((a) => a.kind !== 'fgsm').map((a) => (a.kind === 'noise' ? `noise ${a.snr} dB` : `PGD eps ${a.eps}`))))];
  if (kinds.length === 0) return '';
  const groups = [...new Set(results.map((r) => `${r.model}|${r.trainEps}`))].sort();
  const lines = [`| model | training eps | ${kinds.join(' | ')} |`, `|---|---|${kinds.map(() => '---').join('|')}|`];
  for (const g of groups) {
    const [m, e] = g.split('|');
    const rs = results.filter((r) => r.model === m && r.trainEps === Number(e));
    const cells = kinds.map((k) =>
      fmt(
        summarize(
          rs
            .map((r) => r.attacks.find((a) => (a.kind === 'noise' ? `noise ${a.snr} dB` : `PGD eps ${a.eps}`) === k && a.kind !== 'fgsm')?.scores.uar)
            .filter((v): v is number => v !== undefined),
        ),
      ),
    );
    lines.push(`| ${m} | ${Number(e).toFixed(2)} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * FGSM UAR of every trained model (rows: model and training eps) at every test eps evaluated
 * (columns), mean ± std over folds: how adversarial training at one eps carries to the others.
 */
export function fgsmGridTable(results: FoldResult[]): string {
  const epsList = [...new Set(results.flatMap((r) => r.attacks.filter((a) => a.kind === 'fgsm').map((a) => a.eps!)))].sort((a, b) => a - b);
  if (epsList.length === 0) return '';
  const groups = [...new Set(results.map((r) => `${r.model}|${r.trainEps}`))].sort();
  const lines = [`| model | training eps | clean | ${epsList.map((e) => `FGSM ${e}`).join(' | ')} |`, `|---|---|---|${epsList.map(() => '---').join('|')}|`];
  for (const g of groups) {
    const [m, e] = g.split('|');
    const rs = results.filter((r) => r.model === m && r.trainEps === Number(e));
    const cells = epsList.map((eps) => fmt(summarize(rs.map((r) => fgsmAt(r, eps)).filter((v): v is number => v !== undefined))));
    lines.push(`| ${m} | ${Number(e).toFixed(2)} | ${fmt(summarize(rs.map((r) => r.clean.uar)))} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
