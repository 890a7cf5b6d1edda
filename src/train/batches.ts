// Mini-batch order: shuffled epochs (every example once per epoch), or class-balanced
// sampling (each example drawn with probability inversely proportional to its class size).
import type { Random } from '../util/random.js';

export class BatchSampler {
  private order: number[] = [];
  private at = 0;
  private byClass: number[][] = [];

  constructor(
    private labels: readonly number[],
    private batchSize: number,
    private rng: Random,
    private balanced = false,
  ) {
    if (labels.length === 0) throw new Error('no training examples');
    for (let i = 0; i < labels.length; i++) (this.byClass[labels[i]] ??= []).push(i);
    this.byClass = this.byClass.filter((c) => c && c.length > 0);
  }

  next(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.batchSize; k++) {
      if (this.balanced) {
        const cls = this.byClass[this.rng.int(this.byClass.length)];
        out.push(cls[this.rng.int(cls.length)]);
      } else {
        if (this.at >= this.order.length) {
          this.order = this.rng.shuffle([...this.labels.keys()]);
          this.at = 0;
        }
        out.push(this.order[this.at++]);
      }
    }
    return out;
  }
}
