// Small DOM helpers: element lookup, probability bars, messages, file download.
import { CLASSES } from '../data/corpus.js';

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
}

/** One row per class: name, bar, percentage; the most likely class stands out. */
export function renderProbabilities(el: HTMLElement, probs: ArrayLike<number> | null, caption = ''): void {
  el.replaceChildren();
  if (!probs) return;
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
  if (caption) {
    const c = document.createElement('div');
    c.style.gridColumn = '1 / -1';
    c.className = 'muted';
    c.textContent = caption;
    el.append(c);
  }
  CLASSES.forEach((name, i) => {
    const p = probs[i];
    const label = document.createElement('div');
    label.textContent = name;
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    bar.append(fill);
    const num = document.createElement('div');
    num.className = 'num';
    num.textContent = `${(100 * p).toFixed(1)}%`;
    for (const cell of [label, bar, num]) {
      if (i === best) cell.classList.add('top');
      el.append(cell);
    }
  });
}

/** The page-wide message line under the title: errors in red, notes in blue; null hides it. */
export function banner(text: string | null, kind: 'error' | 'info' = 'error', action?: { label: string; run: () => void }): void {
  const el = $('banner');
  el.hidden = text === null;
  el.className = kind === 'info' ? 'banner info' : 'banner';
  el.replaceChildren(text ?? '');
  if (action && text !== null) {
    const b = document.createElement('button');
    b.textContent = action.label;
    b.style.marginLeft = '10px';
    b.onclick = action.run;
    el.append(b);
  }
}

export function downloadBytes(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function fileBytes(f: Blob): Promise<Uint8Array> {
  return new Uint8Array(await f.arrayBuffer());
}
