// A progress bar with rate and ETA for long runs. Draws in place on a terminal,
// prints a line every few seconds otherwise (CI logs), and nothing with --json/quiet.
import type { ProgressSink } from '../util/progress.js';

export class Progress implements ProgressSink {
  private start = Date.now();
  private lastDraw = 0;
  private done = 0;
  private readonly tty: boolean;

  constructor(
    private label: string,
    private total: number,
    private opts: { quiet?: boolean; unit?: string; stream?: NodeJS.WriteStream } = {},
  ) {
    this.tty = !!(opts.stream ?? process.stderr).isTTY;
  }

  /** Advances by `n` and shows `note` (e.g. the current loss). */
  tick(n = 1, note = ''): void {
    this.done = Math.min(this.total, this.done + n);
    const now = Date.now();
    const interval = this.tty ? 100 : 5000;
    if (now - this.lastDraw >= interval || this.done === this.total) {
      this.lastDraw = now;
      this.draw(note);
    }
  }

  finish(note = ''): void {
    this.done = this.total;
    this.draw(note);
    if (this.tty && !this.opts.quiet) (this.opts.stream ?? process.stderr).write('\n');
  }

  private draw(note: string): void {
    if (this.opts.quiet) return;
    const stream = this.opts.stream ?? process.stderr;
    const elapsed = (Date.now() - this.start) / 1000;
    const frac = this.total > 0 ? this.done / this.total : 1;
    // A rate from the first few milliseconds means nothing (it read 0.000/s with an ETA of 0s).
    const measured = elapsed >= 0.5 && this.done > 0;
    const eta = this.done === this.total ? 0 : measured ? (elapsed / this.done) * (this.total - this.done) : NaN;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const rate = this.done / elapsed;
    const line =
      `${this.label} [${bar}] ${this.done}/${this.total} ` +
      `${!measured ? '?' : rate >= 1 ? rate.toFixed(1) : rate.toFixed(3)} ${this.opts.unit ?? 'it'}/s ` +
      `elapsed ${formatSeconds(elapsed)} eta ${Number.isFinite(eta) ? formatSeconds(eta) : '?'}${note ? ` ${note}` : ''}`;
    if (this.tty) stream.write(`\r\x1b[K${line}`);
    else stream.write(`${line}\n`);
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
