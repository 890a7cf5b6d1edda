// Atomic file writes: write a temporary file beside the target, then rename over it, so
// an interrupted run never leaves a half-written checkpoint or result. A failed write removes
// its temporary file; one left by a killed process is swept by the next write to that target
// (sweepTempFiles), and a write that fails for a reason the user can fix (no such folder, a
// read-only or full disk, a folder where a file should be) is an OutputError naming the path.
import { writeFileSync, renameSync, mkdirSync, rmSync, readdirSync, statSync, existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * A file or folder the user asked for cannot be written; the message is one line naming the
 * path and the cause. The CLI reports it like a UserError (exit 2). Lives here, below the CLI,
 * because the writers that detect it are here.
 */
export class OutputError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
  ) {
    super(`${path}: cannot write (${describeCode(code)})`);
  }
}

const CAUSES: Record<string, string> = {
  ENOENT: 'no such folder',
  ENOTDIR: 'a path component is a file, not a folder',
  EISDIR: 'is a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  ENAMETOOLONG: 'name too long',
  EEXIST: 'a file is in the way of a folder',
  EINVAL: 'invalid path for this file system',
  // Not an errno: a write refused here because the target is a device or other special file.
  ENOTREG: 'not a regular file but a device or other special file',
};

function describeCode(code: string): string {
  if (code === 'ENOTREG') return CAUSES[code];
  return CAUSES[code] ? `${CAUSES[code]}, ${code}` : code;
}

/** The file-system error codes a user can fix (the rest are bugs). */
export function isUserIoCode(code: string | undefined): boolean {
  return code !== undefined && code in CAUSES;
}

/** Rethrows `e` as an OutputError naming `path` when its code is one the user can fix. */
export function asOutputError(e: unknown, path: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  return isUserIoCode(code) ? new OutputError(path, code!) : e;
}

/** The temporary name a write to `path` uses: `<path>.tmp-<pid>-<random>`. */
export function tempPath(path: string): string {
  return `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

const TEMP = /\.tmp-(\d+)-[0-9a-z]+$/;
/** A temporary file whose writer may still be alive (another process on this machine) is left this long. */
const LIVE_GRACE_MS = 60 * 60 * 1000;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes leftover temporary files in `dir` (of the target `name` when given): those whose
 * writing process is gone from this machine, and any older than an hour (a writer on another
 * machine sharing the folder). Returns how many were removed; never throws.
 */
export function sweepTempFiles(dir: string, name?: string): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const f of entries) {
    const m = TEMP.exec(f);
    if (!m || (name !== undefined && !f.startsWith(`${name}.tmp-`))) continue;
    const full = join(dir, f);
    try {
      const age = Date.now() - statSync(full).mtimeMs;
      if (!processAlive(Number(m[1])) || age > LIVE_GRACE_MS) {
        rmSync(full, { force: true });
        removed++;
      }
    } catch {
      // gone already, or unreadable: leave it
    }
  }
  return removed;
}

/** A rename over a device or folder would replace it (or fail obscurely): refuse anything but a regular file. */
function refuseSpecial(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  if (st.isDirectory()) throw new OutputError(path, 'EISDIR');
  if (!st.isFile()) throw new OutputError(path, 'ENOTREG');
}

/**
 * Creates `dir` and any missing parents, one level at a time (mkdir -p). Not
 * `mkdirSync(dir, { recursive: true })`: on Node 20 that never returns for a path under
 * /proc (each level answers ENOENT and it retries forever). Returns the first folder it
 * created (undefined if none), as mkdirSync's recursive form does. Errors: the file system's,
 * with its code (callers wrap them as OutputError).
 */
export function makeFolders(dir: string): string | undefined {
  const missing: string[] = [];
  let d = resolve(dir);
  while (!existsSync(d)) {
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir}: not a folder`), { code: 'EEXIST' });
  return missing[0];
}

/**
 * Writes `data` to `path` atomically (temporary file + rename), creating its folder. Leftover
 * temporary files of the same target are swept first. Errors: OutputError (path and cause) for
 * a user-fixable file-system error; the temporary file is removed on any failure.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  refuseSpecial(path);
  try {
    makeFolders(dirname(path));
  } catch (e) {
    throw asOutputError(e, dirname(path));
  }
  sweepTempFiles(dirname(path), basename(path));
  const tmp = tempPath(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw asOutputError(e, path);
  }
}

/**
 * Checks before long work that `path` can be written as a file: its folder exists or can be
 * made, it is not a folder itself, and a small temporary file can be created and removed
 * beside it (so a read-only, full or missing location fails now, not after training).
 * Errors: OutputError naming the path and the cause.
 */
export function assertWritableFile(path: string): void {
  try {
    refuseSpecial(path);
  } catch (e) {
    throw asOutputError(e, path);
  }
  try {
    makeFolders(dirname(path));
  } catch (e) {
    throw asOutputError(e, dirname(path));
  }
  const probe = tempPath(path);
  try {
    writeFileSync(probe, 'x');
  } catch (e) {
    throw asOutputError(e, path);
  } finally {
    rmSync(probe, { force: true });
  }
}

/** Like assertWritableFile for a folder that will receive files (created when missing). */
export function assertWritableDir(dir: string): void {
  try {
    makeFolders(dir);
  } catch (e) {
    throw asOutputError(e, dir);
  }
  assertWritableFile(join(dir, '.ser-write-check'));
}
