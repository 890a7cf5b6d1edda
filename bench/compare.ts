// Before/after: the Markdown tables two builds' benchmark runs printed, side by side. Give the
// printed output of alternating runs of the same command, `--a` files from one build and `--b`
// files from the other; each table row (keyed by its first two cells) gets the median of each
// timing column over A's runs and over B's, and B / A. Used for "the bench figures are
// unchanged" checks (kernel-layer refactors) and A/B speed claims on a noisy machine.
//   node dist/bench/compare.js --a 'k-base-*.txt' --b 'k-main-*.txt' [--columns ms]
import { readFileSync } from 'node:fs';
import { globSync } from 'tinyglobby';
import { benchArgs } from './lib.js';

type Table = Map<string, Map<string, number>>;

/** The rows of every Markdown table in `text`: key (first two cells, joined by ' | ') -> column header -> number. */
export function tablesOf(text: string): Table {
  const out: Table = new Map();
  let header: string[] | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      header = null;
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    if (header === null) {
      header = cells;
      continue;
    }
    const key = cells.slice(0, 2).join(' | ');
    const row = out.get(key) ?? new Map<string, number>();
    cells.forEach((c, i) => {
      const v = Number(c);
      if (i >= 2 && c !== '' && Number.isFinite(v) && header![i]) row.set(header![i], v);
    });
    out.set(key, row);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Per row and column matching `column`: the medians over A's and B's runs and B / A. */
export function compare(a: Table[], b: Table[], column: RegExp): { key: string; column: string; a: number; b: number; ratio: number }[] {
  const rows: { key: string; column: string; a: number; b: number; ratio: number }[] = [];
  const keys = [...new Set(a.flatMap((t) => [...t.keys()]))];
  for (const key of keys) {
    const columns = [...new Set(a.flatMap((t) => [...(t.get(key)?.keys() ?? [])]))].filter((c) => column.test(c));
    for (const c of columns) {
      const va = a.map((t) => t.get(key)?.get(c)).filter((v): v is number => v !== undefined);
      const vb = b.map((t) => t.get(key)?.get(c)).filter((v): v is number => v !== undefined);
      if (va.length === 0 || vb.length === 0) continue;
      const [ma, mb] = [median(va), median(vb)];
      rows.push({ key, column: c, a: ma, b: mb, ratio: mb / ma });
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const args = benchArgs('compare', "Two builds' benchmark outputs side by side: per table row, the median of each timing column over each side's runs, and B / A.", {
    a: { value: 'GLOB', help: "printed outputs of build A's runs (quote the pattern)" },
    b: { value: 'GLOB', help: "printed outputs of build B's runs" },
    columns: { default: 'ms|median|s/step', value: 'REGEX', help: 'columns to compare (a regular expression on the header)' },
  });
  const files = (side: 'a' | 'b') => {
    const pattern = args.given(side) ? args.str(side) : '';
    const found = pattern ? globSync(pattern, { absolute: true }).sort() : [];
    if (found.length === 0) throw new Error(`compare: --${side} '${pattern}' matches no file`);
    return found.map((f) => tablesOf(readFileSync(f, 'utf8')));
  };
  const [a, b] = [files('a'), files('b')];
  const rows = compare(a, b, new RegExp(args.str('columns')));
  const runs = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
  console.log(`A: ${runs(a.length)}, B: ${runs(b.length)} (medians)\n`);
  console.log('| row | case | column | A | B | B / A |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.key} | ${r.column} | ${+r.a.toPrecision(4)} | ${+r.b.toPrecision(4)} | ${r.ratio.toFixed(3)} |`);
  const ratios = rows.map((r) => r.ratio);
  if (ratios.length) console.log(`\n${rows.length} figures; B / A median ${median(ratios).toFixed(3)}, range ${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}`);
}

if (process.argv[1]?.endsWith('compare.js')) {
  main().catch((e) => {
    console.error((e as Error).message);
    process.exit(2);
  });
}
