// `ser predict INPUT... --checkpoint MODEL`: class probabilities for audio files, folders
// (recursively) and glob patterns, as a table, CSV or JSON Lines. Files go through the GPU
// front end and the model in batches; a file that fails is reported by name and the rest go on.
import type { CommandSpec, Parsed } from './args.js';
import { choiceFlag, numberFlag } from './args.js';
import { EXIT, UserError } from './errors.js';
import { createNodeEngine } from '../gpu/node.js';
import { defaultCheckpoint, openCheckpoint, MODEL_FLAG } from './model-file.js';
import { FrontEnd } from '../audio/frontend.js';
import { predict } from '../train/evaluate.js';
import { CLASSES } from '../data/corpus.js';
import { expandInputs } from './inputs.js';
import { fileFeatures } from '../experiment/file-features.js';
import { Progress } from './progress.js';

const FORMATS = ['table', 'csv', 'jsonl', 'json'] as const;
type Format = (typeof FORMATS)[number];
/** Files decoded, run through the front end and the model per GPU pass: bounds memory on any folder size. */
const BATCH = 32;
/** A progress bar is shown from this many files on. */
const PROGRESS_FROM = 50;

export const spec: CommandSpec = {
  name: 'predict',
  summary: 'Print the emotion class probabilities of audio files, folders (recursively) or glob patterns under a trained checkpoint.',
  usage: "ser predict FILE|FOLDER|'GLOB' ... [--checkpoint MODEL.safetensors (default: the bundled model)] [--format table|csv|jsonl|json] [--top-k K]",
  flags: {
    checkpoint: { type: 'string', value: 'FILE', help: "a checkpoint written by 'ser train' (safetensors) (default: the bundled model, models/default.safetensors, or $SER_DEFAULT_MODEL)" },
    format: { type: 'string', value: 'FORMAT', default: 'table', help: "table | csv | jsonl (one JSON object per line) | json (one array); a clip near silence, under 1 s, or longer than the model hears gets a caution on stderr and in its row ('caution' in JSON, the last CSV column)" },
    'top-k': { type: 'string', value: 'K', help: `report only the K most probable classes, most probable first (default: all ${CLASSES.length}, in class order)` },
    json: { type: 'boolean', help: 'same as --format json' },
    quiet: { type: 'boolean', help: 'no progress bar, no summary line' },
    ...MODEL_FLAG,
  },
};

/**
 * One file's result: label and probabilities (class -> p, in reporting order) with the clip's
 * caution (near silence, very short: src/audio/caution.ts) or null, or the error.
 */
export type PredictRow = { path: string; label: string; probabilities: [string, number][]; caution: string | null } | { path: string; error: string };

/** A clip's caution (src/audio/caution.ts) as one stderr line naming it. */
function sayCaution(path: string, caution: string): void {
  process.stderr.write(`ser: ${path}: caution: ${caution}\n`);
}

/**
 * The features of each file for a command that needs all of them (attack), with each clip's
 * caution (near silence, very short; null when none), which is also said on stderr: one
 * UserError naming the first file that fails. `load` as fileFeatures's (a caller that has
 * decoded the clip already passes it back, rather than decoding it twice).
 */
export async function loadFeatures(front: FrontEnd, files: string[], load?: (path: string) => Float32Array | Promise<Float32Array>): Promise<{ features: Float32Array; caution: string | null }[]> {
  const out: { features: Float32Array; caution: string | null }[] = [];
  for (const g of await fileFeatures(front, files, load)) {
    if (g.features === undefined) throw new UserError(`${g.path}: ${g.reason}`);
    if (g.caution !== null) sayCaution(g.path, g.caution);
    out.push({ features: g.features, caution: g.caution });
  }
  return out;
}

const csvCell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Writes rows as they come in one of the formats; `header` once before the first. */
class RowWriter {
  private first = true;
  constructor(
    private format: Format,
    private topK: number | null,
    private write: (s: string) => void = (s) => process.stdout.write(s),
  ) {}

  private header(): string {
    const cls = this.topK === null ? [...CLASSES] : Array.from({ length: this.topK }, (_, k) => [`class_${k + 1}`, `p_${k + 1}`]).flat();
    if (this.format === 'csv') return `${['path', 'label', ...cls, 'error', 'caution'].join(',')}\n`;
    if (this.format === 'table') return this.topK === null ? `${['label', ...CLASSES].map((c) => c.padEnd(8)).join(' ')} file\n` : `${'label'.padEnd(8)} ${'top classes'.padEnd(this.topK * 15)} file\n`;
    return this.format === 'json' ? '[\n' : '';
  }

  row(r: PredictRow): void {
    // A table shows errors on stderr only: an error row writes nothing, not even the header.
    if (this.format === 'table' && 'error' in r) return;
    let s = this.first ? this.header() : '';
    if (this.format === 'json' && !this.first) s += ',\n';
    this.first = false;
    if ('error' in r) {
      if (this.format === 'csv') s += `${[csvCell(r.path), '', ...new Array(this.topK === null ? CLASSES.length : 2 * this.topK).fill(''), csvCell(r.error), ''].join(',')}\n`;
      else if (this.format === 'jsonl') s += `${JSON.stringify({ path: r.path, error: r.error })}\n`;
      else if (this.format === 'json') s += ` ${JSON.stringify({ path: r.path, error: r.error })}`;
      this.write(s);
      return;
    }
    const probs = Object.fromEntries(r.probabilities.map(([c, p]) => [c, +p.toFixed(6)]));
    // JSON rows carry the caution only where there is one.
    const json = { path: r.path, label: r.label, probabilities: probs, ...(r.caution === null ? {} : { caution: r.caution }) };
    if (this.format === 'csv') {
      const cells = this.topK === null ? r.probabilities.map(([, p]) => p.toFixed(6)) : r.probabilities.flatMap(([c, p]) => [c, p.toFixed(6)]);
      s += `${[csvCell(r.path), r.label, ...cells, '', csvCell(r.caution ?? '')].join(',')}\n`;
    } else if (this.format === 'jsonl') s += `${JSON.stringify(json)}\n`;
    else if (this.format === 'json') s += ` ${JSON.stringify(json)}`;
    else if (this.topK === null) s += `${[r.label, ...r.probabilities.map(([, p]) => p.toFixed(3))].map((c) => c.padEnd(8)).join(' ')} ${r.path}\n`;
    else s += `${r.label.padEnd(8)} ${r.probabilities.map(([c, p]) => `${c} ${p.toFixed(3)}`.padEnd(14)).join(' ').padEnd(this.topK * 15)} ${r.path}\n`;
    this.write(s);
  }

  end(): void {
    if (this.format === 'json') this.write(this.first ? '[]\n' : '\n]\n');
    else if (this.first && this.format === 'csv') this.write(this.header());
  }
}

/** The probabilities of one file in reporting order: class order, or the top K most probable first. */
export function ranked(probs: ArrayLike<number>, topK: number | null): [string, number][] {
  const all = CLASSES.map((c, k) => [c, probs[k]] as [string, number]);
  return topK === null ? all : [...all].sort((a, b) => b[1] - a[1]).slice(0, topK);
}

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length === 0) throw new UserError("predict: give at least one audio file, folder or quoted glob pattern (see 'ser predict --help')");
  const format: Format = p.flags.json ? 'json' : choiceFlag(p, 'format', FORMATS);
  const topK = p.flags['top-k'] === undefined ? null : numberFlag(p, 'top-k', { min: 1, max: CLASSES.length, integer: true, why: `there are ${CLASSES.length} classes` });
  const checkpoint = typeof p.flags.checkpoint === 'string' ? p.flags.checkpoint : defaultCheckpoint();
  const quiet = p.flags.quiet === true;
  const { files, errors: inputErrors } = expandInputs(p.positionals);
  const engine = await createNodeEngine();
  // The checkpoint's recipe and fit make the features; its standardisation (paper) runs inside the model.
  const { model, frontEnd, meta, recipe } = openCheckpoint(engine, checkpoint, { model: typeof p.flags.model === 'string' ? p.flags.model : undefined });
  if (!quiet) console.error(`model: ${checkpoint} (${meta.model ?? p.flags.model}, recipe ${recipe.name}${typeof p.flags.checkpoint === 'string' ? '' : '; the bundled model, see models/README.md'})`);
  const front = new FrontEnd(engine, frontEnd);
  const out = new RowWriter(format, topK);
  let failed = 0;
  const fail = (path: string, reason: string) => {
    failed++;
    process.stderr.write(`ser: ${path}: ${reason}\n`);
    out.row({ path, error: reason });
  };
  for (const e of inputErrors) fail(e.path, e.reason);
  const bar = new Progress('predict', files.length, { quiet: quiet || files.length < PROGRESS_FROM, unit: 'files' });
  let predicted = 0;
  let cautioned = 0;
  for (let start = 0; start < files.length; start += BATCH) {
    const got = await fileFeatures(front, files.slice(start, start + BATCH));
    const good = got.filter((g) => g.features !== undefined);
    const result = good.length ? await predict(engine, model, { features: good.map((g) => g.features!), labels: good.map(() => 0), shape: [1, 373, 64] }, { kind: 'none' }, BATCH) : null;
    let k = 0;
    for (const g of got) {
      if (g.features === undefined) {
        fail(g.path, g.reason);
        continue;
      }
      const probs = result!.probabilities[k];
      if (g.caution !== null) {
        cautioned++;
        sayCaution(g.path, g.caution);
      }
      out.row({ path: g.path, label: CLASSES[result!.predicted[k]], probabilities: ranked(probs, topK), caution: g.caution });
      k++;
      predicted++;
    }
    bar.tick(got.length);
  }
  if (files.length >= PROGRESS_FROM) bar.finish();
  out.end();
  front.dispose();
  const withCaution = cautioned ? ` (${cautioned} with a caution)` : '';
  if (!quiet) process.stderr.write(`predict: ${predicted} file${predicted === 1 ? '' : 's'} predicted${withCaution}, ${failed} failed${failed ? ' (named above)' : ''}\n`);
  return failed > 0 ? EXIT.SOME_FAILED : EXIT.OK;
}
