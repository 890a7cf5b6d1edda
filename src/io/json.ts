// Reading the JSON files the project writes (run configs, fold results): a missing, empty,
// truncated or foreign file is a JsonFileError naming the file and what is wrong, so the CLI
// reports it as the user's problem in one line (exit 2) rather than as an internal error.
import { readFileSync } from 'node:fs';

export class JsonFileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/**
 * Parses the JSON file at `path`; `check` (optional) returns why a parsed value is not what
 * the caller expects, or null. Errors: JsonFileError for an unreadable, empty, truncated or
 * malformed file, or one `check` refuses.
 */
export function readJsonFile<T>(path: string, check?: (v: unknown) => string | null): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new JsonFileError(path, `cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (code ?? (e as Error).message)})`);
  }
  if (text.trim() === '') throw new JsonFileError(path, 'empty file (an interrupted write? delete it to recompute)');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new JsonFileError(path, `not valid JSON, truncated or damaged (${(e as Error).message.replace(/\s*\n\s*/g, ' ')})`);
  }
  const why = check?.(value) ?? null;
  if (why !== null) throw new JsonFileError(path, why);
  return value as T;
}
