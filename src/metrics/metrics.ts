// Classification metrics for emotion recognition: confusion matrix, UAR (the paper's metric),
// weighted accuracy, per-class recall, mean +- std over folds, and text formatting.

/** counts[t][p]: utterances of true class t predicted as p (rows = truth, columns = prediction). */
export type Confusion = number[][];

export function confusionMatrix(truth: ArrayLike<number>, pred: ArrayLike<number>, numClasses: number): Confusion {
  if (truth.length !== pred.length) throw new Error(`confusion matrix: ${truth.length} labels but ${pred.length} predictions`);
  const cm = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = pred[i];
    if (!(Number.isInteger(t) && t >= 0 && t < numClasses)) throw new Error(`confusion matrix: label ${t} at ${i} is not a class id 0..${numClasses - 1}`);
    if (!(Number.isInteger(p) && p >= 0 && p < numClasses)) throw new Error(`confusion matrix: prediction ${p} at ${i} is not a class id 0..${numClasses - 1}`);
    cm[t][p]++;
  }
  return cm;
}

/** Element-wise sum of confusion matrices (e.g. pooled over folds). */
export function addConfusions(a: Confusion, b: Confusion): Confusion {
  if (a.length !== b.length) throw new Error(`cannot add ${a.length}-class and ${b.length}-class confusion matrices`);
  return a.map((row, i) => row.map((v, j) => v + b[i][j]));
}

/** Recall of each class, TP / (TP + FN); NaN for a class absent from the truth. */
export function perClassRecall(cm: Confusion): number[] {
  return cm.map((row, i) => {
    const total = row.reduce((s, v) => s + v, 0);
    return total === 0 ? NaN : row[i] / total;
  });
}

/** Unweighted average recall: mean recall over the classes present in the truth (NaN if none). */
export function uar(cm: Confusion): number {
  const r = perClassRecall(cm).filter((v) => !Number.isNaN(v));
  return r.length === 0 ? NaN : r.reduce((s, v) => s + v, 0) / r.length;
}

/** Weighted accuracy = overall accuracy: correct / total (NaN if empty). */
export function weightedAccuracy(cm: Confusion): number {
  let correct = 0;
  let total = 0;
  cm.forEach((row, i) => {
    correct += row[i];
    for (const v of row) total += v;
  });
  return total === 0 ? NaN : correct / total;
}

export interface Scores {
  confusion: Confusion;
  uar: number;
  wa: number;
  recall: number[];
}

/** All metrics of one set of predictions. */
export function score(truth: ArrayLike<number>, pred: ArrayLike<number>, numClasses: number): Scores {
  const confusion = confusionMatrix(truth, pred, numClasses);
  return { confusion, uar: uar(confusion), wa: weightedAccuracy(confusion), recall: perClassRecall(confusion) };
}

/** Mean and population standard deviation (numpy's default, ddof = 0); NaN for an empty list. */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

/** '0.582 +- 0.013' */
export function formatMeanStd(values: readonly number[], digits = 3): string {
  const { mean, std } = meanStd(values);
  return `${mean.toFixed(digits)} +- ${std.toFixed(digits)}`;
}

/**
 * The confusion matrix as a text table: a row per true class with its counts per predicted
 * class and its recall, then UAR and WA. `normalise` prints row fractions instead of counts.
 */
export function formatConfusion(cm: Confusion, classes: readonly string[], opts: { normalise?: boolean; digits?: number } = {}): string {
  if (classes.length !== cm.length) throw new Error(`formatConfusion: ${classes.length} class names for a ${cm.length}-class matrix`);
  const digits = opts.digits ?? 3;
  const recall = perClassRecall(cm);
  const cell = (row: number[], j: number) => {
    if (!opts.normalise) return String(row[j]);
    const total = row.reduce((s, v) => s + v, 0);
    return total === 0 ? '-' : (row[j] / total).toFixed(digits);
  };
  const fmt = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(digits));
  const head = ['true \\ pred', ...classes, 'recall'];
  const rows = cm.map((row, i) => [classes[i], ...row.map((_, j) => cell(row, j)), fmt(recall[i])]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [line(head), ...rows.map(line), `UAR ${fmt(uar(cm))}  WA ${fmt(weightedAccuracy(cm))}`].join('\n');
}
