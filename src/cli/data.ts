// `ser data fetch emodb|ravdess`: downloads a public corpus, checks it, and says how to use it.
import type { CommandSpec, Parsed } from './args.js';
import { UserError } from './errors.js';
import { Progress } from './progress.js';
import { CORPUS_SOURCES, FETCHABLE, FetchError, corpusSpec, fetchCorpus, type FetchableCorpus, type FetchProgress } from '../data/fetch.js';
import { makeEmodbSubset, bundledEmodbDir } from '../data/emodb-subset.js';
import { sharedDataDir } from '../data/open.js';
import { join, relative } from 'node:path';

export const spec: CommandSpec = {
  name: 'data',
  summary:
    'Download a public corpus and check it (needs internet access), or make the shipped EmoDB subset (emodb-subset).\n\n' +
    `Corpora: ${FETCHABLE.map((n) => `${n} (${CORPUS_SOURCES[n].title}, ${CORPUS_SOURCES[n].licence})`).join('; ')}.\n` +
    'Without internet access, download the archive by hand, unpack it, and pass --corpus emodb:DIR or ravdess:DIR.\n\n' +
    "'ser data emodb-subset' makes the project's data/emodb4-16k from an EmoDB folder (--from, default $SER_DATA/emodb):\n" +
    'the 4-class subset (W, F, N, T) resampled to 16 kHz mono PCM16, with its licence and provenance note.',
  usage: 'ser data fetch emodb|ravdess [--dest DIR] [--url URL]\n       ser data emodb-subset [--from DIR] [--dest DIR]',
  flags: {
    dest: { type: 'string', value: 'DIR', help: 'where the corpus goes (default: data/<name> in the working directory; emodb-subset: the package\'s data/emodb4-16k); must not exist yet' },
    from: { type: 'string', value: 'DIR', help: 'emodb-subset: the EmoDB folder to read (default $SER_DATA/emodb or ../shared/data/emodb)' },
    url: { type: 'string', value: 'URL', help: 'download from this address instead of the official one (or set SER_FETCH_URL)' },
    quiet: { type: 'boolean', help: 'no progress bar' },
  },
};

export async function run(p: Parsed): Promise<number> {
  const [action, name, ...extra] = p.positionals;
  if (action === 'emodb-subset') return emodbSubset(p);
  if (action !== 'fetch') {
    throw new UserError(action ? `data: unknown action '${action}' (fetch or emodb-subset; see 'ser data --help')` : `data: say what to do: ser data fetch ${FETCHABLE.join('|')}`);
  }
  if (!name) throw new UserError(`data fetch: which corpus? (${FETCHABLE.join(' or ')})`);
  if (!(FETCHABLE as readonly string[]).includes(name)) throw new UserError(`data fetch: unknown corpus '${name}' (can fetch: ${FETCHABLE.join(', ')})`);
  if (extra.length > 0) throw new UserError(`data fetch: unexpected argument '${extra[0]}'`);
  const corpus = name as FetchableCorpus;
  const source = CORPUS_SOURCES[corpus];

  const url = typeof p.flags.url === 'string' ? p.flags.url : process.env.SER_FETCH_URL || undefined;
  if (url !== undefined) {
    let proto = '';
    try {
      proto = new URL(url).protocol;
    } catch {
      throw new UserError(`--url: '${url}' is not a valid URL`);
    }
    if (proto !== 'http:' && proto !== 'https:') throw new UserError(`--url: '${url}' is not an http(s) address`);
  }
  const dest = typeof p.flags.dest === 'string' && p.flags.dest !== '' ? p.flags.dest : `data/${corpus}`;

  const quiet = p.flags.quiet === true;
  console.log(`${source.title}\n  from:    ${url ?? source.url}\n  licence: ${source.licence}`);
  let bar: Progress | null = null;
  let barPhase = '';
  let shown = 0;
  const onProgress = (e: FetchProgress) => {
    // Progress counts whole units: KiB while downloading, entries while extracting.
    const scale = e.phase === 'download' ? 1024 : 1;
    const done = Math.floor(e.done / scale);
    if (barPhase !== e.phase) {
      bar?.finish();
      barPhase = e.phase;
      shown = 0;
      bar = e.total === null ? null : new Progress(e.phase === 'download' ? 'download' : 'extract', Math.ceil(e.total / scale), { quiet, unit: e.phase === 'download' ? 'KiB' : 'files' });
      if (!bar && !quiet) console.error(`${e.phase}: size unknown, downloading...`);
    }
    if (bar && done > shown) {
      bar.tick(done - shown);
      shown = done;
    }
  };

  let result;
  try {
    result = await fetchCorpus(corpus, dest, { url, onProgress });
  } catch (e) {
    // End a bar drawn in place so the error gets a line of its own.
    if (bar && !quiet && process.stderr.isTTY) process.stderr.write('\n');
    if (e instanceof FetchError) throw new UserError(e.message);
    throw e;
  }
  (bar as Progress | null)?.finish();
  console.log(
    `Checked: ${result.files} files (${(result.bytes / 2 ** 20).toFixed(1)} MiB downloaded) in ${result.dest}\n` +
      `Licence: ${source.licence}\nCite: ${source.citation}\n` +
      `Use it with: --corpus ${corpusSpec(corpus, result.dest)}`,
  );
  return 0;
}

function emodbSubset(p: Parsed): number {
  if (p.positionals.length > 1) throw new UserError(`data emodb-subset: unexpected argument '${p.positionals[1]}'`);
  const from = typeof p.flags.from === 'string' ? p.flags.from : join(sharedDataDir(), 'emodb');
  const dest = typeof p.flags.dest === 'string' && p.flags.dest !== '' ? p.flags.dest : bundledEmodbDir();
  const bar = new Progress('emodb-subset', 339, { quiet: p.flags.quiet === true, unit: 'files' });
  let r;
  try {
    r = makeEmodbSubset(from, dest, { onFile: () => bar.tick(1) });
  } catch (e) {
    throw new UserError(`data emodb-subset: ${(e as Error).message}`);
  }
  bar.finish();
  console.log(`${relative(process.cwd(), dest) || dest}: ${r.files} files, ${r.speakers} speakers (W ${r.counts.W}, F ${r.counts.F}, N ${r.counts.N}, T ${r.counts.T}), ${(r.bytes / 1e6).toFixed(1)} MB, from ${r.sourceRate} Hz`);
  return 0;
}
