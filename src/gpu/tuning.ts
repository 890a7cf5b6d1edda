// The autotuner's memory: which variant of a kernel family was measured fastest for a shape
// class on this adapter. The kernels' choosers (kernels/choose.ts) read it, the tuner
// (kernels/tune.ts) fills it, and a store keeps it between runs (a JSON file per adapter in
// Node, src/gpu/tune-store.ts; memory in the browser). Nothing here measures or knows kernels.
import { SettingError } from './errors.js';

/**
 * SER_TUNE: 'off' uses the choosers' rules only (no cache read or written); 'cache' (the
 * default) uses cached choices and measures a shape class the first time it is met;
 * 'force' measures every shape class met again, once per process, and overwrites the cache.
 */
export type TuneMode = 'off' | 'cache' | 'force';
export const TUNE_MODES: readonly TuneMode[] = ['off', 'cache', 'force'];

/** The mode a SER_TUNE value names ('cache' when unset or empty). Errors: SettingError for any other value. */
export function tuneModeOf(value: string | undefined): TuneMode {
  if (value === undefined || value === '') return 'cache';
  if ((TUNE_MODES as readonly string[]).includes(value)) return value as TuneMode;
  throw new SettingError(`SER_TUNE='${value}' is not a tuning mode: use off, cache (the default) or force`);
}

/** One measured choice: a kernel family's fastest variant for one shape class. */
export interface TunedChoice {
  /** Kernel family, e.g. 'conv2d.forward'. */
  family: string;
  /** Shape class (kernels/choose.ts: the family's key of a shape). */
  key: string;
  /** The family's version stamp when measured (a hash of its variants and shader sources). */
  stamp: string;
  variant: string;
  /** Median milliseconds per candidate variant; null for a candidate that failed. */
  times: Record<string, number | null>;
  timing: 'gpu-timestamps' | 'wall-clock';
  /** ISO 8601 time of the measurement. */
  measured: string;
}

/** Where choices are kept between runs. */
export interface TuneStore {
  /** A path, or a word such as 'memory', for `ser adapter --tuned`. */
  readonly where: string;
  /** The stored choices; an unreadable or corrupt store gives none (and may warn once). */
  load(): TunedChoice[];
  /** Replaces the stored choices. Errors: the store's own (an unwritable cache file: OutputError). */
  save(choices: TunedChoice[]): void;
}

/** A store that forgets at the end of the process (the browser; tests). */
export function memoryStore(): TuneStore {
  let kept: TunedChoice[] = [];
  return {
    where: 'memory',
    load: () => kept.map((c) => ({ ...c })),
    save: (choices) => {
      kept = choices.map((c) => ({ ...c }));
    },
  };
}

const id = (family: string, key: string) => `${family}|${key}`;

/** The choices known to one engine, by the mode SER_TUNE asked for. */
export class Tuning {
  private choices = new Map<string, TunedChoice>();
  /** Shape classes measured by this process (in 'force' mode the only ones looked up). */
  private fresh = new Set<string>();
  private loaded = false;

  constructor(
    readonly mode: TuneMode,
    readonly store: TuneStore | null = null,
  ) {}

  /** Rules only, nothing measured or stored. */
  static off(): Tuning {
    return new Tuning('off');
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    if (this.mode === 'off' || !this.store) return;
    for (const c of this.store.load()) this.choices.set(id(c.family, c.key), c);
  }

  /**
   * The cached choice for a family's shape class, if one was measured with this `stamp`
   * (a choice measured on other kernel sources counts as none). Always none when off.
   */
  lookup(family: string, key: string, stamp: string): TunedChoice | undefined {
    if (this.mode === 'off') return undefined;
    this.load();
    const c = this.choices.get(id(family, key));
    if (!c || c.stamp !== stamp) return undefined;
    if (this.mode === 'force' && !this.fresh.has(id(family, key))) return undefined;
    return c;
  }

  /** Keeps a measured choice (replacing any for its family and key); `save` writes the store. */
  record(choice: TunedChoice): void {
    this.load();
    this.choices.set(id(choice.family, choice.key), choice);
    this.fresh.add(id(choice.family, choice.key));
  }

  /**
   * Writes the store: what it holds now (another process may have added choices) with this
   * process's measurements over it. Errors: the store's (OutputError for an unwritable file).
   */
  save(): void {
    if (this.mode === 'off' || !this.store) return;
    const merged = new Map(this.store.load().map((c) => [id(c.family, c.key), c] as const));
    for (const k of this.fresh) merged.set(k, this.choices.get(k)!);
    this.store.save([...merged.values()]);
  }

  /** Every choice known (cached or measured), sorted by family and key. */
  entries(): TunedChoice[] {
    this.load();
    return [...this.choices.values()].sort((a, b) => id(a.family, a.key).localeCompare(id(b.family, b.key)));
  }
}
