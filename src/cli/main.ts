// `ser`: the command-line entry. Each command lives in its own module under src/cli/
// and exports `spec` (flags and help) and `run(parsed)` returning an exit code.
import { UserError, userMessage } from './errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { parseCommand, helpText, type CommandSpec, type Parsed } from './args.js';

export interface Command {
  spec: CommandSpec;
  run(p: Parsed): Promise<number>;
}

// Loaded lazily so `ser --help` starts instantly and a command only pays for its imports.
const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: () => import('./demo.js'),
  train: () => import('./train.js'),
  eval: () => import('./eval.js'),
  attack: () => import('./attack.js'),
  predict: () => import('./predict.js'),
  sweep: () => import('./sweep.js'),
  report: () => import('./report.js'),
  features: () => import('./features.js'),
  export: () => import('./export.js'),
  data: () => import('./data.js'),
  serve: () => import('./serve.js'),
  adapter: () => import('./adapter.js'),
};

async function usage(): Promise<string> {
  const rows = await Promise.all(Object.entries(COMMANDS).map(async ([name, load]) => `  ${name.padEnd(10)} ${(await load()).spec.summary.split('\n')[0]}`));
  return `ser — robust speech emotion recognition on WebGPU

Usage: ser <command> [options]   (ser <command> --help for its options; ser --version)

Commands:
${rows.join('\n')}

Environment: SER_ADAPTER=auto|gpu|llvmpipe|swiftshader picks the WebGPU adapter;
SER_TUNE=off|cache|force the kernel autotuner (see 'ser adapter --help');
SER_CACHE the feature cache folder; SER_DATA the shared corpora folder; SER_DEBUG=1 shows stacks.
`;
}

/** The package's name and version, from its package.json. */
function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(version());
    return 0;
  }
  if (!name) {
    process.stderr.write(await usage()); // no command at all is a usage error
    return 2;
  }
  // `ser help COMMAND` is `ser COMMAND --help`.
  if ((name === 'help' && rest.length === 0) || name === '--help' || name === '-h') {
    process.stdout.write(await usage());
    return 0;
  }
  const command = name === 'help' ? rest[0] : name;
  const load = COMMANDS[command];
  if (!load) throw new UserError(`unknown command '${command}' (see 'ser --help')`);
  const cmd = await load();
  if (name === 'help') {
    process.stdout.write(helpText(cmd.spec));
    return 0;
  }
  const parsed = parseCommand(cmd.spec, rest);
  if (parsed.help) {
    process.stdout.write(helpText(cmd.spec));
    return 0;
  }
  return cmd.run(parsed);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const msg = userMessage(e);
    if (msg !== null) {
      process.stderr.write(`ser: ${msg.replace(/\s*\n\s*/g, ' ')}\n`);
      process.exit(2);
    }
    if (process.env.SER_DEBUG) throw e;
    process.stderr.write(`ser: internal error: ${(e as Error)?.message ?? String(e)} (set SER_DEBUG=1 for the stack)\n`);
    process.exit(70);
  },
);
