// Canvas drawing for the page: waveform, spectrogram images, perturbation, training curves.

/** Sizes the canvas's backing store to its on-screen size (sharp on high-DPI screens). */
function context(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const h = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

export function drawWaveform(canvas: HTMLCanvasElement, samples: Float32Array): void {
  const { ctx, w, h } = context(canvas);
  ctx.fillStyle = '#f4f6f8';
  ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = '#2b6cb0';
  const per = samples.length / w;
  // One vertical bar per pixel column, from the column's minimum to its maximum.
  for (let x = 0; x < w; x++) {
    let lo = 0;
    let hi = 0;
    const end = Math.min(samples.length, Math.floor((x + 1) * per));
    for (let i = Math.floor(x * per); i < end; i++) {
      lo = Math.min(lo, samples[i]);
      hi = Math.max(hi, samples[i]);
    }
    const y0 = ((1 - Math.min(1, hi)) / 2) * h;
    const y1 = ((1 - Math.max(-1, lo)) / 2) * h;
    ctx.fillRect(x, y0, 1, Math.max(1, y1 - y0));
  }
}

// Colour maps as a few stops, interpolated: a perceptual sequential map for spectrograms and
// a blue-white-red diverging map for signed perturbations.
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

function colour(stops: number[][], t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/**
 * A frames x bands time-major matrix as an image: time left to right, low bands at the bottom.
 * `map` turns a value into [0, 1] for the colour map.
 */
export function drawMatrix(canvas: HTMLCanvasElement, values: Float32Array, bands: number, map: (v: number) => number, diverging = false): void {
  const frames = values.length / bands;
  const image = new ImageData(frames, bands);
  const stops = diverging ? DIVERGING : SEQUENTIAL;
  for (let t = 0; t < frames; t++) {
    for (let b = 0; b < bands; b++) {
      const [r, g, bl] = colour(stops, map(values[t * bands + b]));
      const p = ((bands - 1 - b) * frames + t) * 4;
      image.data[p] = r;
      image.data[p + 1] = g;
      image.data[p + 2] = bl;
      image.data[p + 3] = 255;
    }
  }
  const { ctx, w, h } = context(canvas);
  const tmp = document.createElement('canvas');
  tmp.width = frames;
  tmp.height = bands;
  tmp.getContext('2d')!.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, w, h);
}

/** Log-Mel features: the db recipe's [0, 1] scale as it is; other values (ln-Mel, standardised) scaled to their own range. */
export function drawSpectrogram(canvas: HTMLCanvasElement, features: Float32Array, bands: number): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of features) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (lo >= 0 && hi <= 1) [lo, hi] = [0, 1];
  drawMatrix(canvas, features, bands, (v) => (v - lo) / (hi - lo || 1));
}

/** adversarial - clean, with +-eps at the ends of the colour map. */
export function drawPerturbation(canvas: HTMLCanvasElement, clean: Float32Array, adversarial: Float32Array, bands: number, eps: number): void {
  const diff = adversarial.map((v, i) => v - clean[i]);
  const scale = Math.max(eps, 1e-6);
  drawMatrix(canvas, diff, bands, (v) => 0.5 + v / (2 * scale), true);
}

export interface CurveOptions {
  title: string;
  colour: string;
  /** Fixed y range; by default the data's range. */
  yMin?: number;
  yMax?: number;
  xMax?: number;
}

/** A line chart of (x, y) points with its axes' ends labelled. */
export function drawCurve(canvas: HTMLCanvasElement, points: readonly [number, number][], o: CurveOptions): void {
  const { ctx, w, h } = context(canvas);
  const ratio = window.devicePixelRatio || 1;
  const pad = { l: 44 * ratio, r: 10 * ratio, t: 22 * ratio, b: 22 * ratio };
  ctx.font = `${11 * ratio}px system-ui, sans-serif`;
  ctx.fillStyle = '#333';
  ctx.fillText(o.title, pad.l, 15 * ratio);
  const ys = points.map((p) => p[1]);
  let yMin = o.yMin ?? (ys.length ? Math.min(...ys) : 0);
  let yMax = o.yMax ?? (ys.length ? Math.max(...ys) : 1);
  if (yMax - yMin < 1e-9) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const xMax = Math.max(1, o.xMax ?? (points.length ? points[points.length - 1][0] : 1));
  const X = (x: number) => pad.l + (x / xMax) * (w - pad.l - pad.r);
  const Y = (y: number) => h - pad.b - ((y - yMin) / (yMax - yMin)) * (h - pad.t - pad.b);
  ctx.strokeStyle = '#bbb';
  ctx.lineWidth = ratio;
  ctx.strokeRect(pad.l, pad.t, w - pad.l - pad.r, h - pad.t - pad.b);
  ctx.fillStyle = '#555';
  ctx.textAlign = 'right';
  ctx.fillText(yMax.toFixed(2), pad.l - 4 * ratio, pad.t + 8 * ratio);
  ctx.fillText(yMin.toFixed(2), pad.l - 4 * ratio, h - pad.b);
  ctx.fillText(String(xMax), w - pad.r, h - 6 * ratio);
  ctx.textAlign = 'left';
  ctx.fillText('0', pad.l, h - 6 * ratio);
  if (points.length === 0) return;
  ctx.strokeStyle = o.colour;
  ctx.fillStyle = o.colour;
  ctx.lineWidth = 2 * ratio;
  ctx.beginPath();
  points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(X(x), Y(y)) : ctx.lineTo(X(x), Y(y))));
  ctx.stroke();
  if (points.length < 30) for (const [x, y] of points) ctx.fillRect(X(x) - 2 * ratio, Y(y) - 2 * ratio, 4 * ratio, 4 * ratio);
}
