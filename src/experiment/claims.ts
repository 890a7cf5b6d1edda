// Claims: how processes sharing one run folder (workers, array tasks, concurrent sweeps, on
// one host or many over a shared file system) split the cells so each is computed once.
//
// A claim is the file claims/KEY.claim, created with an exclusive create ('wx', O_EXCL), so
// of two processes only one gets it. It records host, pid, start time and a random token,
// and its mtime is renewed (heartbeat) while the cell runs. A claim not renewed for longer
// than the timeout belongs to a dead process: it is taken over by renaming it to a name
// made from its token (of two processes only one rename succeeds) and claiming afresh. The
// heartbeat runs on a thread of its own, so only a dead (or frozen) process lets a claim go stale.
// Order of finishing: the result is written first, then the claim removed, so whoever
// claims after that sees the result (claim, then re-check the result before computing).
import { openSync, writeSync, closeSync, readFileSync, statSync, utimesSync, renameSync, rmSync, linkSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { makeFolders } from '../io/atomic.js';

export interface ClaimInfo {
  host: string;
  pid: number;
  /** ISO time the claim was made. */
  started: string;
  token: string;
  /** Readable cell, e.g. 'cnn5-eps0.02-fold3'. */
  cell: string;
}

/** A claim as found in a run folder, with its age (seconds since its last heartbeat). */
export interface FoundClaim extends ClaimInfo {
  key: string;
  ageSeconds: number;
}

export const DEFAULT_CLAIM_TIMEOUT_S = 600;

/** Heartbeat interval for a claim timeout: 30 s, or a third of the timeout when that is shorter. */
export function heartbeatSeconds(timeoutS: number): number {
  return Math.min(30, timeoutS / 3);
}

export function claimsDir(runDir: string): string {
  return join(runDir, 'claims');
}

function claimPath(runDir: string, key: string): string {
  return join(claimsDir(runDir), `${key}.claim`);
}

function readClaim(path: string): (ClaimInfo & { mtimeMs: number }) | null {
  try {
    const mtimeMs = statSync(path).mtimeMs;
    const info = JSON.parse(readFileSync(path, 'utf8')) as ClaimInfo;
    return { ...info, mtimeMs };
  } catch {
    // Gone, or caught between create and write: treat as fresh (its creator is alive).
    return null;
  }
}

function createExclusive(path: string, info: ClaimInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(info));
  } finally {
    closeSync(fd);
  }
  return true;
}

// The heartbeat runs on its own thread, so a main thread busy for a while (a shader compile
// under load blocks it for seconds) does not let the claim go stale: the claim tracks whether
// the process is alive. It stops when the claim is no longer ours and says so.
const HEARTBEAT = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const beat = () => {
  try {
    if (JSON.parse(fs.readFileSync(workerData.path, 'utf8')).token !== workerData.token) throw new Error('not ours');
    const t = new Date();
    fs.utimesSync(workerData.path, t, t);
  } catch {
    parentPort.postMessage('lost');
    clearInterval(timer);
  }
};
const timer = setInterval(beat, workerData.ms);
`;

/** A claim this process holds: renewed from a heartbeat thread until released. */
export class Claim {
  private thread: Worker;
  /** Set when another process took the claim over (we stalled past the timeout). */
  lost = false;

  constructor(
    readonly path: string,
    readonly info: ClaimInfo,
    heartbeatS: number,
  ) {
    this.thread = new Worker(HEARTBEAT, { eval: true, workerData: { path, token: info.token, ms: Math.max(50, heartbeatS * 1000) } });
    this.thread.on('message', () => (this.lost = true));
    this.thread.unref();
  }

  /** Renews the heartbeat (mtime) now, unless the claim is no longer ours. */
  renew(): void {
    const now = readClaim(this.path);
    if (!now || now.token !== this.info.token) {
      this.lost = true;
      return;
    }
    const t = new Date();
    try {
      utimesSync(this.path, t, t);
    } catch {
      this.lost = true;
    }
  }

  /** Stops the heartbeat and removes the claim if it is still ours. */
  release(): void {
    void this.thread.terminate();
    const now = readClaim(this.path);
    if (now && now.token === this.info.token) rmSync(this.path, { force: true });
  }
}

export type ClaimOutcome = { claim: Claim; tookOver?: FoundClaim } | { heldBy: FoundClaim };

/**
 * Tries to claim cell `key` in `runDir`. Returns the claim, or who holds it (a live claim:
 * renewed within `timeoutS`). A stale claim is taken over atomically.
 */
export function tryClaim(runDir: string, key: string, cell: string, timeoutS: number): ClaimOutcome {
  makeFolders(claimsDir(runDir));
  const path = claimPath(runDir, key);
  const info: ClaimInfo = { host: hostname(), pid: process.pid, started: new Date().toISOString(), token: randomBytes(8).toString('hex'), cell };
  const hb = heartbeatSeconds(timeoutS);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(path, info)) return { claim: new Claim(path, info, hb) };
    const held = readClaim(path);
    if (!held) continue; // released meanwhile, or being written: look again
    const ageSeconds = (Date.now() - held.mtimeMs) / 1000;
    const found: FoundClaim = { host: held.host, pid: held.pid, started: held.started, token: held.token, cell: held.cell, key, ageSeconds };
    if (ageSeconds <= timeoutS) return { heldBy: found };
    // Stale: move it aside under a name only this stale claim gives; one process wins.
    const aside = `${path}.stale-${held.token}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // someone else took it over first
    }
    const moved = readClaim(aside);
    if (moved && moved.token !== held.token) {
      // We moved a fresh claim made after our look: put it back (link fails if one exists).
      try {
        linkSync(aside, path);
      } catch {
        /* a newer claim is in place already */
      }
      rmSync(aside, { force: true });
      continue;
    }
    rmSync(aside, { force: true });
    if (createExclusive(path, info)) return { claim: new Claim(path, info, hb), tookOver: found };
  }
  const held = readClaim(path);
  return { heldBy: held ? { ...held, key, ageSeconds: (Date.now() - held.mtimeMs) / 1000 } : { host: '?', pid: 0, started: '', token: '', cell, key, ageSeconds: 0 } };
}

/** Every claim in a run folder, by key. */
export function listClaims(runDir: string): Map<string, FoundClaim> {
  const out = new Map<string, FoundClaim>();
  let names: string[];
  try {
    names = readdirSync(claimsDir(runDir));
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.endsWith('.claim')) continue;
    const key = name.slice(0, -'.claim'.length);
    const c = readClaim(join(claimsDir(runDir), name));
    if (c) out.set(key, { host: c.host, pid: c.pid, started: c.started, token: c.token, cell: c.cell, key, ageSeconds: (Date.now() - c.mtimeMs) / 1000 });
  }
  return out;
}

/** 'host pid 123, started 12:00:00, renewed 4 s ago' */
export function describeClaim(c: FoundClaim): string {
  return `host ${c.host} pid ${c.pid}, started ${c.started}, renewed ${Math.round(c.ageSeconds)} s ago`;
}
