// Flag parsing for every `ser` command: node:util's strict parser, with unknown flags,
// missing values and bad numbers turned into one-line UserErrors, and --help text.
import { parseArgs } from 'node:util';
import { UserError } from './errors.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
  /** One line for --help. */
  help: string;
  /** Placeholder shown in --help, e.g. 'N' or 'PATH'. */
  value?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  /** How an error message says to get help; default `ser <name> --help`. */
  helpCommand?: string;
}

export interface Parsed {
  flags: Record<string, string | boolean | undefined>;
  positionals: string[];
  help: boolean;
}

export function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, f] of Object.entries(spec.flags)) {
    options[name] = { type: f.type };
    if (f.short) options[name].short = f.short;
    if (f.default !== undefined) options[name].default = f.default;
  }
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(spec, argv), options, allowPositionals: true, strict: true });
    return { flags: values as Parsed['flags'], positionals, help: values.help === true };
  } catch (e) {
    // node:util spreads some messages over lines: keep them to one.
    const msg = (e as Error).message.replace(/\. To specify a positional.*$/s, '').replace(/\s*\n\s*/g, ' ');
    throw new UserError(`${spec.name}: ${msg} (see '${spec.helpCommand ?? `ser ${spec.name} --help`}')`);
  }
}

/** A value that starts with '-' but is a number, e.g. -0.1, -5, -.5, -1e3, -Infinity. */
const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$|NaN$)/;

/**
 * `--eps -0.1` as `--eps=-0.1`: node:util refuses a value that starts with '-' ("argument is
 * ambiguous"); a string flag followed by a negative number takes it as its value, so the range
 * check says what is wrong with it. Stops at '--' (everything after it is positional).
 */
function joinNegativeValues(spec: CommandSpec, argv: string[]): string[] {
  const shorts = new Map(Object.entries(spec.flags).flatMap(([name, f]) => (f.short ? [[f.short, name] as const] : [])));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith('--') ? a.slice(2) : /^-[^-]$/.test(a) ? shorts.get(a[1]) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && spec.flags[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.flags).map(([name, f]) => {
    const left = `  ${f.short ? `-${f.short}, ` : '    '}--${name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`;
    const def = f.default !== undefined && f.default !== false ? ` (default: ${f.default})` : '';
    return `${left.padEnd(34)} ${f.help}${def}`;
  });
  rows.push(`${'  -h, --help'.padEnd(34)} show this help`);
  return `${spec.summary}\n\nUsage: ${spec.usage}\n\nOptions:\n${rows.join('\n')}\n`;
}

/**
 * The accepted range of a number flag. Every number flag has both ends, so a typo such as
 * `--iterations 1e12` is refused at once rather than after hours; `why` (e.g. 'a paper run is
 * 10,000') is shown with a value out of range.
 */
export interface NumberRange {
  min: number;
  max: number;
  integer?: boolean;
  why?: string;
}

function checkNumber(name: string, raw: string, r: NumberRange): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new UserError(`--${name}: '${raw}' is not a number`);
  if (r.integer && !Number.isInteger(v)) throw new UserError(`--${name}: '${raw}' is not a whole number`);
  if (v < r.min || v > r.max) {
    const side = v < r.min ? `below the minimum ${r.min.toLocaleString('en')}` : `above the maximum ${r.max.toLocaleString('en')}`;
    throw new UserError(`--${name}: ${raw} is ${side} (allowed ${r.min.toLocaleString('en')} to ${r.max.toLocaleString('en')}${r.why ? `; ${r.why}` : ''})`);
  }
  return v;
}

/** A number flag within [min, max]; integer when `integer`. Throws a one-line UserError otherwise. */
export function numberFlag(p: Parsed, name: string, range: NumberRange): number {
  const raw = p.flags[name];
  if (typeof raw !== 'string') throw new UserError(`--${name} is required`);
  return checkNumber(name, raw, range);
}

/** A comma-separated list of numbers, e.g. --eps 0,0.02,0.04, each within `range`. */
export function numberListFlag(p: Parsed, name: string, range: NumberRange): number[] {
  const raw = p.flags[name];
  if (typeof raw !== 'string') throw new UserError(`--${name} is required`);
  return raw.split(',').map((s) => checkNumber(name, s, range));
}

/** A flag restricted to a fixed set of words. */
export function choiceFlag<T extends string>(p: Parsed, name: string, choices: readonly T[]): T {
  const raw = p.flags[name];
  if (typeof raw !== 'string' || !choices.includes(raw as T)) {
    throw new UserError(`--${name}: '${raw}' is not one of ${choices.join(', ')}`);
  }
  return raw as T;
}
