// Spectrogram figures with axes, written once and rendered twice: to SVG for `ser attack
// --svg` (figure-svg.ts) and to a canvas in the browser app (src/web/draw.ts). The layout
// is a list of primitives (images, text, lines, rectangles) in pixel coordinates, so both
// renderers only translate primitives and never decide where anything goes.
//
// A heatmap is a frames x bands time-major matrix (the front end's layout): time runs left
// to right in seconds, Mel bands bottom to top, labelled in Hz at their centre frequencies.

export type Anchor = 'start' | 'middle' | 'end';

export type FigureItem =
  /** rgba: cols x rows pixels, rows top to bottom, stretched to w x h without smoothing. */
  | { kind: 'image'; x: number; y: number; w: number; h: number; cols: number; rows: number; rgba: Uint8ClampedArray }
  /** y is the text's baseline; rotate (degrees) turns it about (x, y). */
  | { kind: 'text'; x: number; y: number; text: string; size: number; anchor: Anchor; rotate?: number; bold?: boolean }
  | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; colour: string; width: number }
  | { kind: 'rect'; x: number; y: number; w: number; h: number; stroke?: string; fill?: string };

export interface Figure {
  width: number;
  height: number;
  items: FigureItem[];
}

// Colour maps as a few stops, linearly interpolated: a perceptual sequential map (plasma-like)
// for spectrograms, a blue-white-red diverging map for signed perturbations.
const SEQUENTIAL = [
  [13, 8, 135],
  [126, 3, 168],
  [204, 71, 120],
  [248, 149, 64],
  [240, 249, 33],
];
const DIVERGING = [
  [33, 102, 172],
  [247, 247, 247],
  [178, 24, 43],
];

/** The colour of t in [0, 1] (clamped; NaN maps to the lowest colour). */
export function colourOf(t: number, diverging = false): [number, number, number] {
  const stops = diverging ? DIVERGING : SEQUENTIAL;
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

export interface HeatmapSpec {
  title: string;
  /** frames x bands, time-major, in display units (see src/report/feature-units.ts). */
  values: ArrayLike<number>;
  bands: number;
  /** The time the frames span, seconds (the x axis runs from 0 to this). */
  seconds: number;
  /** Centre frequency of each band in Hz, ascending (the y axis labels). */
  bandHz: ArrayLike<number>;
  /** Values mapped to the ends of the colour map; outside values take the end colours. */
  lo: number;
  hi: number;
  /** The colour bar's label with its unit, e.g. "dB re utterance maximum". */
  unit: string;
  /** A signed quantity on a symmetric scale (lo = -hi): the diverging map. */
  diverging?: boolean;
}

/** Round tick values covering [lo, hi]: about `count` of them at 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return Number.isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  // Multiples of the step, rounded to its precision (no 0.30000000000000004).
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(+(k * step).toFixed(digits) || 0);
  return out;
}

/** A tick label: few digits, no trailing zeros, k for thousands of Hz. */
export function tickLabel(v: number, hz = false): string {
  if (hz && Math.abs(v) >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return String(+v.toFixed(2));
  if (a >= 0.001) return String(+v.toPrecision(2));
  return v.toExponential(1);
}

/** Fractional band index of a frequency, interpolating between band centres; NaN outside them. */
function bandPosition(f: number, bandHz: ArrayLike<number>): number {
  for (let b = 0; b + 1 < bandHz.length; b++) {
    if (f >= bandHz[b] && f <= bandHz[b + 1]) return b + (f - bandHz[b]) / (bandHz[b + 1] - bandHz[b]);
  }
  return NaN;
}

const HZ_TICKS = [63, 125, 250, 500, 1000, 2000, 4000, 8000];
const FONT = 11;

/**
 * One heatmap with a title, a time axis in seconds, a Mel-band axis labelled in Hz at band
 * centres, and a colour bar with its unit, laid out in a width x height box at (x0, y0).
 */
export function heatmapItems(s: HeatmapSpec, x0: number, y0: number, width: number, height: number): FigureItem[] {
  const frames = Math.floor(s.values.length / s.bands);
  const m = { l: 52, r: 92, t: 22, b: 34 };
  const px = x0 + m.l;
  const py = y0 + m.t;
  const pw = Math.max(10, width - m.l - m.r);
  const ph = Math.max(10, height - m.t - m.b);
  const items: FigureItem[] = [{ kind: 'text', x: x0 + m.l, y: y0 + 15, text: s.title, size: FONT + 2, anchor: 'start', bold: true }];

  const rgba = new Uint8ClampedArray(frames * s.bands * 4);
  const span = s.hi - s.lo || 1;
  for (let t = 0; t < frames; t++) {
    for (let b = 0; b < s.bands; b++) {
      const [r, g, bl] = colourOf((s.values[t * s.bands + b] - s.lo) / span, s.diverging);
      const p = ((s.bands - 1 - b) * frames + t) * 4;
      rgba[p] = r;
      rgba[p + 1] = g;
      rgba[p + 2] = bl;
      rgba[p + 3] = 255;
    }
  }
  items.push({ kind: 'image', x: px, y: py, w: pw, h: ph, cols: frames, rows: s.bands, rgba });
  items.push({ kind: 'rect', x: px, y: py, w: pw, h: ph, stroke: '#333' });

  // Time axis: seconds from the first frame to the end of the span.
  for (const t of niceTicks(0, s.seconds, Math.max(2, Math.round(pw / 70)))) {
    const x = px + (t / (s.seconds || 1)) * pw;
    items.push({ kind: 'line', x1: x, y1: py + ph, x2: x, y2: py + ph + 4, colour: '#333', width: 1 });
    items.push({ kind: 'text', x, y: py + ph + 15, text: tickLabel(t), size: FONT, anchor: 'middle' });
  }
  items.push({ kind: 'text', x: px + pw / 2, y: py + ph + 29, text: 'time (s)', size: FONT, anchor: 'middle' });

  // Mel axis: ticks at round frequencies, placed by the band centres around them.
  const bandY = (pos: number) => py + ph - ((pos + 0.5) / s.bands) * ph;
  let lastY = Infinity;
  for (const f of HZ_TICKS) {
    const pos = bandPosition(f, s.bandHz);
    if (!Number.isFinite(pos)) continue;
    const y = bandY(pos);
    // Low frequencies crowd on the Mel scale: keep a tick only where its label has room.
    if (lastY - y < FONT + 3) continue;
    lastY = y;
    items.push({ kind: 'line', x1: px - 4, y1: y, x2: px, y2: y, colour: '#333', width: 1 });
    items.push({ kind: 'text', x: px - 6, y: y + 4, text: tickLabel(f, true), size: FONT, anchor: 'end' });
  }
  items.push({ kind: 'text', x: x0 + 12, y: py + ph / 2, text: 'Mel band (Hz)', size: FONT, anchor: 'middle', rotate: -90 });

  // Colour bar: the map from lo (bottom) to hi (top), ticked in the display unit.
  const bx = px + pw + 12;
  const bw = 12;
  const steps = 64;
  const bar = new Uint8ClampedArray(steps * 4);
  for (let k = 0; k < steps; k++) {
    const [r, g, b] = colourOf(1 - k / (steps - 1), s.diverging);
    bar.set([r, g, b, 255], k * 4);
  }
  items.push({ kind: 'image', x: bx, y: py, w: bw, h: ph, cols: 1, rows: steps, rgba: bar });
  items.push({ kind: 'rect', x: bx, y: py, w: bw, h: ph, stroke: '#333' });
  const ticks = s.diverging ? [s.lo, 0, s.hi] : niceTicks(s.lo, s.hi, 4);
  for (const v of ticks) {
    const y = py + ph - ((v - s.lo) / span) * ph;
    items.push({ kind: 'line', x1: bx + bw, y1: y, x2: bx + bw + 3, y2: y, colour: '#333', width: 1 });
    items.push({ kind: 'text', x: bx + bw + 5, y: y + 4, text: (s.diverging && v > 0 ? '+' : '') + tickLabel(v), size: FONT, anchor: 'start' });
  }
  items.push({ kind: 'text', x: x0 + width - 8, y: py + ph / 2, text: s.unit, size: FONT - 1, anchor: 'middle', rotate: -90 });
  return items;
}

/** One heatmap as a whole figure. */
export function heatmapFigure(s: HeatmapSpec, width = 640, height = 240): Figure {
  return { width, height, items: [{ kind: 'rect', x: 0, y: 0, w: width, h: height, fill: 'white' }, ...heatmapItems(s, 0, 0, width, height)] };
}

/** Heatmaps stacked top to bottom (clean, adversarial, perturbation for `ser attack`). */
export function stackedFigure(specs: HeatmapSpec[], width = 640, each = 240): Figure {
  const height = specs.length * each;
  const items: FigureItem[] = [{ kind: 'rect', x: 0, y: 0, w: width, h: height, fill: 'white' }];
  specs.forEach((s, k) => items.push(...heatmapItems(s, 0, k * each, width, each)));
  return { width, height, items };
}
