// Small SVG charts for reports: line charts (UAR against eps, training curves) and a
// confusion-matrix heatmap. Plain strings, no dependencies.
import { niceTicks, tickLabel } from './figure.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export interface Series {
  label: string;
  points: [number, number][];
  /** Optional half-widths of error bars, one per point. */
  errors?: number[];
  dashed?: boolean;
}

export function lineChart(opts: { title: string; xLabel: string; yLabel: string; series: Series[]; yMin?: number; yMax?: number; width?: number; height?: number }): string {
  const W = opts.width ?? 560;
  const H = opts.height ?? 360;
  const m = { l: 60, r: 150, t: 36, b: 48 };
  const xs = opts.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = opts.series.flatMap((s) => s.points.map((p, i) => [p[1] - (s.errors?.[i] ?? 0), p[1] + (s.errors?.[i] ?? 0)]).flat());
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs) === x0 ? x0 + 1 : Math.max(...xs);
  const y0 = opts.yMin ?? Math.min(...ys);
  const y1 = opts.yMax ?? (Math.max(...ys) === y0 ? y0 + 1 : Math.max(...ys));
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.r / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`,
  ];
  // Ticks at round values (1, 2 or 5 times a power of ten) inside the plotted range.
  for (const yv of niceTicks(y0, y1, 5)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(yv)}" y2="${py(yv)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${py(yv) + 4}" text-anchor="end">${tickLabel(yv)}</text>`);
  }
  for (const xv of niceTicks(x0, x1, 5)) parts.push(`<text x="${px(xv)}" y="${H - m.b + 16}" text-anchor="middle">${tickLabel(xv)}</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  parts.push(`<text x="16" y="${(m.t + H - m.b) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(m.t + H - m.b) / 2})">${esc(opts.yLabel)}</text>`);
  opts.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const d = s.points.map((p, k) => `${k ? 'L' : 'M'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    s.points.forEach((p, k) => {
      parts.push(`<circle cx="${px(p[0])}" cy="${py(p[1])}" r="3" fill="${c}"/>`);
      const e = s.errors?.[k];
      if (e) parts.push(`<line x1="${px(p[0])}" x2="${px(p[0])}" y1="${py(p[1] - e)}" y2="${py(p[1] + e)}" stroke="${c}"/>`);
    });
    const ly = m.t + 14 + i * 18;
    parts.push(`<line x1="${W - m.r + 10}" x2="${W - m.r + 34}" y1="${ly - 4}" y2="${ly - 4}" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${W - m.r + 40}" y="${ly}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function confusionSvg(title: string, classes: readonly string[], matrix: number[][]): string {
  const cell = 64;
  const m = { l: 90, t: 60 };
  const n = classes.length;
  const W = m.l + n * cell + 20;
  const H = m.t + n * cell + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<text x="${m.l + (n * cell) / 2}" y="${m.t - 24}" text-anchor="middle">predicted</text>`,
  ];
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    parts.push(`<text x="${m.l - 8}" y="${m.t + i * cell + cell / 2 + 4}" text-anchor="end">${esc(classes[i])}</text>`);
    row.forEach((v, j) => {
      const frac = v / total;
      const shade = Math.round(255 - frac * 200);
      parts.push(`<rect x="${m.l + j * cell}" y="${m.t + i * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#fff"/>`);
      parts.push(`<text x="${m.l + j * cell + cell / 2}" y="${m.t + i * cell + cell / 2 + 4}" text-anchor="middle">${v}</text>`);
    });
  });
  classes.forEach((c, j) => parts.push(`<text x="${m.l + j * cell + cell / 2}" y="${m.t - 8}" text-anchor="middle">${esc(c)}</text>`));
  parts.push(`<text x="14" y="${m.t + (n * cell) / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.t + (n * cell) / 2})">true</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
