// SVG rendering of a figure.ts layout (for `ser attack --svg`); heatmap images are embedded
// as PNG data URIs, scaled without smoothing.
import { encodePng } from './png.js';
import type { Figure } from './figure.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (v: number) => +v.toFixed(2);

function pngDataUri(cols: number, rows: number, rgba: Uint8ClampedArray): string {
  const rgb = new Uint8Array(cols * rows * 3);
  for (let i = 0; i < cols * rows; i++) rgb.set(rgba.subarray(i * 4, i * 4 + 3), i * 3);
  return `data:image/png;base64,${Buffer.from(encodePng(cols, rows, rgb)).toString('base64')}`;
}

/** The figure as a standalone SVG document. */
export function figureToSvg(fig: Figure): string {
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${fig.width}" height="${fig.height}" font-family="sans-serif">`];
  for (const it of fig.items) {
    switch (it.kind) {
      case 'image':
        out.push(`<image x="${n(it.x)}" y="${n(it.y)}" width="${n(it.w)}" height="${n(it.h)}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${pngDataUri(it.cols, it.rows, it.rgba)}"/>`);
        break;
      case 'text': {
        const rot = it.rotate ? ` transform="rotate(${it.rotate} ${n(it.x)} ${n(it.y)})"` : '';
        out.push(`<text x="${n(it.x)}" y="${n(it.y)}" font-size="${it.size}" text-anchor="${it.anchor}"${it.bold ? ' font-weight="bold"' : ''}${rot}>${esc(it.text)}</text>`);
        break;
      }
      case 'line':
        out.push(`<line x1="${n(it.x1)}" y1="${n(it.y1)}" x2="${n(it.x2)}" y2="${n(it.y2)}" stroke="${it.colour}" stroke-width="${it.width}"/>`);
        break;
      case 'rect':
        out.push(`<rect x="${n(it.x)}" y="${n(it.y)}" width="${n(it.w)}" height="${n(it.h)}" fill="${it.fill ?? 'none'}"${it.stroke ? ` stroke="${it.stroke}"` : ''}/>`);
        break;
    }
  }
  out.push('</svg>');
  return out.join('\n');
}
