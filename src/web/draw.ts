// Canvas drawing for the page: waveform, figure.ts layouts (spectrograms), training curves.
import type { Figure } from '../report/figure.js';

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

/**
 * Draws a figure.ts layout (the same one `ser attack --svg` writes) on a canvas, at the
 * canvas's on-screen width: `layout(width)` builds the figure for that width.
 */
export function drawFigure(canvas: HTMLCanvasElement, layout: (width: number) => Figure): void {
  const ratio = window.devicePixelRatio || 1;
  const fig = layout(Math.max(320, Math.round(canvas.clientWidth || 640)));
  canvas.style.height = `${fig.height}px`;
  canvas.width = Math.round(fig.width * ratio);
  canvas.height = Math.round(fig.height * ratio);
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, fig.width, fig.height);
  for (const it of fig.items) {
    switch (it.kind) {
      case 'image': {
        const tmp = document.createElement('canvas');
        tmp.width = it.cols;
        tmp.height = it.rows;
        tmp.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(it.rgba), it.cols, it.rows), 0, 0);
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(tmp, it.x, it.y, it.w, it.h);
        break;
      }
      case 'text':
        ctx.save();
        ctx.font = `${it.bold ? 'bold ' : ''}${it.size}px system-ui, sans-serif`;
        ctx.fillStyle = '#222';
        ctx.textAlign = it.anchor === 'start' ? 'left' : it.anchor === 'end' ? 'right' : 'center';
        ctx.translate(it.x, it.y);
        if (it.rotate) ctx.rotate((it.rotate * Math.PI) / 180);
        ctx.fillText(it.text, 0, 0);
        ctx.restore();
        break;
      case 'line':
        ctx.strokeStyle = it.colour;
        ctx.lineWidth = it.width;
        ctx.beginPath();
        ctx.moveTo(it.x1, it.y1);
        ctx.lineTo(it.x2, it.y2);
        ctx.stroke();
        break;
      case 'rect':
        if (it.fill) {
          ctx.fillStyle = it.fill;
          ctx.fillRect(it.x, it.y, it.w, it.h);
        }
        if (it.stroke) {
          ctx.strokeStyle = it.stroke;
          ctx.lineWidth = 1;
          ctx.strokeRect(it.x + 0.5, it.y + 0.5, it.w - 1, it.h - 1);
        }
        break;
    }
  }
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
