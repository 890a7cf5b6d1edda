// The audio files a batch command was given: files, folders (searched recursively) and glob
// patterns, expanded in a stable order. An argument that names nothing usable is reported with
// its reason, not thrown, so the other arguments still go on.
import { statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';

/** File name endings a folder or glob search picks up (lower case). The decoders decide what actually reads. */
export const AUDIO_EXTENSIONS = ['.wav', '.wave', '.flac', '.mp3', '.ogg', '.oga', '.opus', '.webm'] as const;

export interface Inputs {
  /** Files in argument order; a folder's or a glob's files in natural path order; no duplicates. */
  files: string[];
  /** Arguments that gave no file: the argument as given and why. */
  errors: { path: string; reason: string }[];
}

const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
const audioGlob = `**/*.{${AUDIO_EXTENSIONS.map((e) => e.slice(1)).join(',')}}`;

/**
 * Expands `args`: an existing file is taken as is (whatever its ending: the decoder reports a
 * wrong format by name); an existing folder gives every audio file under it (hidden files and
 * folders skipped, symbolic links not followed, so a link loop cannot hang the search); anything
 * else with glob characters (* ? [ { ) is a pattern relative to the working directory.
 * Errors: none thrown; a missing path, an empty folder or a pattern that matches nothing is in
 * `errors`.
 */
export function expandInputs(args: readonly string[], cwd = process.cwd()): Inputs {
  const files: string[] = [];
  const errors: Inputs['errors'] = [];
  const seen = new Set<string>();
  // The same file named twice (a.wav and ./a.wav, or by a file and its folder) is predicted once.
  const add = (list: string[]) => {
    for (const f of list) {
      const key = resolve(cwd, f);
      if (!seen.has(key)) {
        seen.add(key);
        files.push(f);
      }
    }
  };
  for (const arg of args) {
    let st;
    try {
      st = statSync(resolve(cwd, arg));
    } catch {
      st = null;
    }
    if (st?.isFile()) add([arg]);
    else if (st?.isDirectory()) {
      const found = globSync(audioGlob, { cwd: resolve(cwd, arg), caseSensitiveMatch: false, followSymbolicLinks: false, expandDirectories: false })
        .sort(natural)
        .map((f) => join(arg, f));
      if (found.length === 0) errors.push({ path: arg, reason: `folder holds no audio files (${AUDIO_EXTENSIONS.join(', ')})` });
      add(found);
    } else if (st) errors.push({ path: arg, reason: 'not a file or folder' });
    else if (isDynamicPattern(arg)) {
      const found = globSync(arg, { cwd, absolute: isAbsolute(arg), followSymbolicLinks: false, expandDirectories: false }).sort(natural);
      if (found.length === 0) errors.push({ path: arg, reason: 'no files match this pattern' });
      add(found);
    } else errors.push({ path: arg, reason: 'no such file or folder' });
  }
  return { files, errors };
}
