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
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { flags: values as Parsed['flags'], positionals, help: values.help === true };
  } catch (e) {
    // node:util spreads some messages over lines: keep them to one.
    const msg = (e as Error).message.replace(/\. To specify a positional.*$/s, '').replace(/\s*\n\s*/g, ' ');
    throw new UserError(`${spec.name}: ${msg} (see '${spec.helpCommand ?? `ser ${spec.name} --help`}')`);
  }
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

/** A number flag within [min, max]; integer when `integer`. */
export function numberFlag(p: Parsed, name: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const raw = p.flags[name];
  if (typeof raw !== 'string') throw new UserError(`--${name} is required`);
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new UserError(`--${name}: '${raw}' is not a number`);
  if (opts.integer && !Number.isInteger(v)) throw new UserError(`--${name}: '${raw}' is not a whole number`);
  if (opts.min !== undefined && v < opts.min) throw new UserError(`--${name}: ${v} is below ${opts.min}`);
  if (opts.max !== undefined && v > opts.max) throw new UserError(`--${name}: ${v} is above ${opts.max}`);
  return v;
}

/** A comma-separated list of numbers, e.g. --eps 0,0.02,0.04. */
export function numberListFlag(p: Parsed, name: string): number[] {
  const raw = p.flags[name];
  if (typeof raw !== 'string') throw new UserError(`--${name} is required`);
  return raw.split(',').map((s) => {
    const v = Number(s);
    if (s.trim() === '' || !Number.isFinite(v)) throw new UserError(`--${name}: '${s}' is not a number`);
    return v;
  });
}

/** A flag restricted to a fixed set of words. */
export function choiceFlag<T extends string>(p: Parsed, name: string, choices: readonly T[]): T {
  const raw = p.flags[name];
  if (typeof raw !== 'string' || !choices.includes(raw as T)) {
    throw new UserError(`--${name}: '${raw}' is not one of ${choices.join(', ')}`);
  }
  return raw as T;
}
