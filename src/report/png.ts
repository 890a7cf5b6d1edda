// A minimal PNG encoder (8-bit RGB, no filtering) for spectrogram images in reports.
import { deflateSync } from 'node:zlib';
import { crc32 } from '../io/crc32.js';

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** rgb: width * height * 3 bytes, rows top to bottom. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array())];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A perceptual-ish colour map (dark blue -> teal -> yellow) for values in [0, 1]. */
export function colormap(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const stops: [number, number, number][] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const f = x * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(f));
  const u = f - i;
  return stops[i].map((c, k) => Math.round(c + u * (stops[i + 1][k] - c))) as [number, number, number];
}

/** RGB rows of a frames x bands feature map: time left to right, low bands at the bottom. */
export function spectrogramRgb(values: Float32Array, frames: number, bands: number, lo = 0, hi = 1, scale = 2): Uint8Array {
  const h = bands * scale;
  const rgb = new Uint8Array(frames * h * 3);
  for (let y = 0; y < h; y++) {
    const band = bands - 1 - Math.floor(y / scale);
    for (let x = 0; x < frames; x++) rgb.set(colormap((values[x * bands + band] - lo) / (hi - lo || 1)), (y * frames + x) * 3);
  }
  return rgb;
}

/** Feature maps stacked top to bottom in one PNG, with a white gap between them. */
export function spectrogramsPng(maps: Float32Array[], frames: number, bands: number, scale = 2, gap = 6): Uint8Array {
  const h = bands * scale;
  const H = maps.length * h + (maps.length - 1) * gap;
  const rgb = new Uint8Array(frames * H * 3).fill(255);
  maps.forEach((m, k) => rgb.set(spectrogramRgb(m, frames, bands, 0, 1, scale), k * (h + gap) * frames * 3));
  return encodePng(frames, H, rgb);
}
