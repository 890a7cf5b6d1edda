// Downloads a public corpus (EmoDB, RAVDESS speech) for users who are online: streams the
// archive to a temporary file, extracts it into DEST.partial, checks the expected files are
// all there, and only then renames DEST.partial to DEST, so DEST is either complete or absent.
import { createWriteStream, existsSync, readdirSync, renameSync, rmdirSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { ZipArchive } from '../io/zip.js';
import { parseEmodbName } from './emodb.js';
import { parseRavdessName } from './ravdess.js';
import { makeFolders } from '../io/atomic.js';

export const FETCHABLE = ['emodb', 'ravdess'] as const;
export type FetchableCorpus = (typeof FETCHABLE)[number];

export interface CorpusSource {
  title: string;
  /** The official archive. */
  url: string;
  homepage: string;
  licence: string;
  citation: string;
  /** Number of WAV files a complete copy has. */
  expectedFiles: number;
  /** The expected layout, in words, for error messages. */
  layout: string;
}

export const CORPUS_SOURCES: Record<FetchableCorpus, CorpusSource> = {
  emodb: {
    title: 'EmoDB (Berlin Database of Emotional Speech)',
    url: 'http://emodb.bilderbar.info/download/download.zip',
    homepage: 'http://emodb.bilderbar.info/',
    licence: 'CC0-1.0 (public domain dedication)',
    citation:
      'F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier, B. Weiss: "A database of German emotional speech", ' +
      'Proc. Interspeech 2005, pp. 1517-1520.',
    expectedFiles: 535,
    layout: 'wav/SSTTTEV.wav',
  },
  ravdess: {
    title: 'RAVDESS speech (Ryerson Audio-Visual Database of Emotional Speech and Song)',
    url: 'https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip?download=1',
    homepage: 'https://zenodo.org/records/1188976',
    licence: 'CC BY-NC-SA 4.0 (attribution, non-commercial, share-alike)',
    citation:
      'S. R. Livingstone, F. A. Russo: "The Ryerson Audio-Visual Database of Emotional Speech and Song (RAVDESS): ' +
      'A dynamic, multimodal set of facial and vocal expressions in North American English", PLoS ONE 13(5): e0196391, 2018. ' +
      'https://doi.org/10.1371/journal.pone.0196391',
    expectedFiles: 1440,
    layout: 'Actor_01..Actor_24/03-01-*.wav',
  },
};

/** A failure the user can act on (network, server, broken archive, wrong contents); one line. */
export class FetchError extends Error {}

export interface FetchProgress {
  phase: 'download' | 'extract';
  done: number;
  /** Bytes (download; null when the server sends no length) or entries (extract). */
  total: number | null;
}

export interface FetchOptions {
  /** Download from here instead of the official address (mirrors, tests). */
  url?: string;
  onProgress?: (p: FetchProgress) => void;
  /** Overrides the expected number of WAV files (small test fixtures). */
  expectedFiles?: number;
}

export interface FetchResult {
  dest: string;
  files: number;
  bytes: number;
  source: CorpusSource;
}

export async function fetchCorpus(name: FetchableCorpus, dest: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const source = CORPUS_SOURCES[name];
  if (!source) throw new FetchError(`unknown corpus '${name}' (can fetch: ${FETCHABLE.join(', ')})`);
  const url = opts.url ?? source.url;
  dest = resolve(dest);
  if (existsSync(dest) && !(statSync(dest).isDirectory() && readdirSync(dest).length === 0)) {
    throw new FetchError(`${dest} already exists; remove it or choose another destination`);
  }
  const madeParent = makeFolders(dirname(dest));
  const partial = `${dest}.partial`;
  const download = `${dest}.download.zip`;
  rmSync(partial, { recursive: true, force: true });
  rmSync(download, { force: true });
  const byHand = `download it by hand from ${url}, unpack it, and pass --corpus ${name}:DIR`;
  let done = false;
  try {
    const bytes = await downloadTo(url, download, byHand, opts.onProgress);

    let archive: ZipArchive;
    try {
      archive = await ZipArchive.open(download);
    } catch (e) {
      throw new FetchError(`the file downloaded from ${url} is not a usable ZIP archive: ${(e as Error).message}`);
    }
    try {
      await archive.extractAll(partial, (done, total) => opts.onProgress?.({ phase: 'extract', done, total }));
    } catch (e) {
      throw new FetchError(`cannot extract the archive downloaded from ${url}: ${(e as Error).message}`);
    } finally {
      archive.close();
    }

    const root = corpusRoot(name, partial);
    const expected = opts.expectedFiles ?? source.expectedFiles;
    const found = countCorpusFiles(name, root);
    if (found.files !== expected) {
      throw new FetchError(
        `the archive from ${url} does not look like ${source.title}: expected ${expected} files ${source.layout}, found ${found.files}${found.note}`,
      );
    }
    if (existsSync(dest)) rmSync(dest, { recursive: true }); // an empty folder, checked above
    renameSync(root, dest);
    done = true;
    return { dest, files: found.files, bytes, source };
  } finally {
    rmSync(partial, { recursive: true, force: true });
    rmSync(download, { force: true });
    if (!done && madeParent) removeEmptyFolders(dirname(dest), madeParent);
  }
}

/** After a failure, removes the (now empty) folders this run created, from `dir` up to `top`. */
function removeEmptyFolders(dir: string, top: string): void {
  for (let d = dir; d.length >= top.length; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty (someone else's files) or already gone
    }
  }
}

/** Streams `url` into `file`, reporting bytes; network trouble becomes one FetchError line. */
async function downloadTo(url: string, file: string, byHand: string, onProgress?: (p: FetchProgress) => void): Promise<number> {
  const host = hostOf(url);
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new FetchError(`cannot reach ${host}: ${networkReason(e)}; ${byHand}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw new FetchError(`${host} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} for ${url}; ${byHand}`);
  }
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  const out = createWriteStream(file);
  let done = 0;
  onProgress?.({ phase: 'download', done, total });
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      await write(out, chunk);
      done += chunk.length;
      onProgress?.({ phase: 'download', done, total });
    }
  } catch (e) {
    throw new FetchError(`download from ${host} broke off after ${done} bytes: ${networkReason(e)}; ${byHand}`);
  } finally {
    await new Promise<void>((res) => out.end(res));
  }
  if (total !== null && done !== total) {
    throw new FetchError(`download from ${host} ended after ${done} of ${total} bytes; ${byHand}`);
  }
  return done;
}

function write(out: WriteStream, chunk: Uint8Array): Promise<void> {
  return new Promise((res, rej) => out.write(chunk, (err) => (err ? rej(err) : res())));
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The most specific reason undici gives: its `cause` (ECONNREFUSED, ENOTFOUND...) when there is one. */
function networkReason(e: unknown): string {
  const cause = (e as { cause?: { message?: string; code?: string } }).cause;
  const text = cause?.message || cause?.code || (e as Error)?.message || String(e);
  return text.replace(/\s+/g, ' ').trim();
}

/** Where the corpus starts inside the extracted tree: the top, or a single wrapping folder. */
function corpusRoot(name: FetchableCorpus, extracted: string): string {
  if (hasLayout(name, extracted)) return extracted;
  const entries = readdirSync(extracted).filter((e) => !e.startsWith('.') && e !== '__MACOSX');
  if (entries.length === 1 && statSync(join(extracted, entries[0])).isDirectory() && hasLayout(name, join(extracted, entries[0]))) {
    return join(extracted, entries[0]);
  }
  return extracted;
}

function hasLayout(name: FetchableCorpus, dir: string): boolean {
  const entries = readdirSync(dir);
  return name === 'emodb' ? entries.includes('wav') : entries.some((e) => /^Actor_\d\d$/.test(e));
}

/** Counts the corpus's WAV files where its layout puts them; `note` explains a shortfall. */
export function countCorpusFiles(name: FetchableCorpus, root: string): { files: number; note: string } {
  if (name === 'emodb') {
    const wav = join(root, 'wav');
    if (!existsSync(wav) || !statSync(wav).isDirectory()) return { files: 0, note: ` (no wav/ folder at the top of the archive)` };
    const files = readdirSync(wav).filter((f) => parseEmodbName(f) !== null).length;
    return { files, note: '' };
  }
  const actors = readdirSync(root).filter((d) => /^Actor_\d\d$/.test(d) && statSync(join(root, d)).isDirectory());
  let files = 0;
  for (const a of actors) {
    files += readdirSync(join(root, a)).filter((f) => {
      const n = parseRavdessName(f);
      return n !== null && n.modality === '03' && n.channel === '01';
    }).length;
  }
  return { files, note: ` in ${actors.length} Actor_NN folder${actors.length === 1 ? '' : 's'}` };
}

/** The corpus spec to pass to --corpus for a fetched folder, relative to `cwd` when inside it. */
export function corpusSpec(name: FetchableCorpus, dest: string, cwd = process.cwd()): string {
  const abs = resolve(dest);
  const rel = relative(resolve(cwd), abs);
  return `${name}:${rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs}`;
}
