// `ser serve` as an attacker or a big file meets it, over real HTTP on 127.0.0.1: no way out of
// the served folder (.., symlinks, dotfiles), Host names checked (DNS rebinding), security
// headers on every answer, files streamed (a 3 GB file is served in bounded memory, with ranges).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync, closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { serveStatic, hostAllowed, CSP } from '../src/cli/serve.js';

const root = mkdtempSync(join(tmpdir(), 'ser-serve-'));
const web = join(root, 'web');
mkdirSync(join(web, 'sub'), { recursive: true });
mkdirSync(join(web, '.git'));
writeFileSync(join(web, 'index.html'), '<!doctype html><title>t</title>');
writeFileSync(join(web, 'sub', 'a.txt'), 'inside');
writeFileSync(join(web, '.env'), 'SECRET=1');
writeFileSync(join(web, '.git', 'config'), 'secret');
writeFileSync(join(root, 'secret.txt'), 'outside');
symlinkSync(join(root, 'secret.txt'), join(web, 'link-out.txt'));
symlinkSync(root, join(web, 'dir-out'));
symlinkSync(join(web, 'sub', 'a.txt'), join(web, 'link-in.txt'));
const big = join(web, 'big.bin');
closeSync(openSync(big, 'w'));
truncateSync(big, 3 * 2 ** 30); // sparse: 3 GiB without the disk space

let server: Server;
let port = 0;

/** A raw GET (or HEAD) with any Host header; resolves with status, headers and up to `limit` body bytes. */
function get(path: string, opts: { host?: string; method?: string; headers?: Record<string, string>; limit?: number } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: opts.host ?? `127.0.0.1:${port}`, ...opts.headers }, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n <= (opts.limit ?? 1 << 20)) chunks.push(c);
        else {
          res.destroy();
          ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) });
        }
      });
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${path}`)));
    req.on('error', fail);
    req.end();
  });
}

test.before(async () => {
  const s = await serveStatic(web, '127.0.0.1', 0, { allowHosts: ['ser.lan'] });
  server = s.server;
  port = Number(new URL(s.url).port);
});

test('inside files are served; .., dotfiles and symlinks leading out are not', async () => {
  assert.is((await get('/')).body.toString(), '<!doctype html><title>t</title>');
  assert.is((await get('/sub/a.txt')).body.toString(), 'inside');
  assert.is((await get('/link-in.txt')).body.toString(), 'inside', 'a link that stays inside is fine');
  for (const p of ['/..%2fsecret.txt', '/sub/..%2f..%2fsecret.txt', '/link-out.txt', '/dir-out/secret.txt', '/.env', '/.git/config', '/sub/%2e%2e/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt']) {
    const r = await get(p);
    assert.ok(r.status === 403 || r.status === 404, `${p}: ${r.status}`);
    assert.not.ok(['outside', 'SECRET=1', 'secret'].includes(r.body.toString()), p);
  }
});

test('every answer has the CSP, nosniff and anti-framing headers', async () => {
  for (const p of ['/', '/sub/a.txt', '/nope', '/.env']) {
    const r = await get(p);
    assert.is(r.headers['content-security-policy'], CSP, p);
    assert.match(CSP, /frame-ancestors 'none'/);
    assert.is(r.headers['x-content-type-options'], 'nosniff', p);
    assert.is(r.headers['x-frame-options'], 'DENY', p);
  }
});

test('Host: loopback names, IP literals and --allow-host names only (DNS rebinding)', async () => {
  for (const h of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'app.localhost', `ser.lan:${port}`, `192.168.1.7:${port}`]) {
    assert.is((await get('/sub/a.txt', { host: h })).status, 200, h);
  }
  for (const h of [`evil.example:${port}`, 'localhost.evil.example', 'ser.lan.evil.example', 'evil.example:80:1']) {
    const r = await get('/sub/a.txt', { host: h });
    assert.is(r.status, 403, `host '${h}'`);
    assert.not.match(r.body.toString(), /inside/);
  }
  assert.ok(hostAllowed('LOCALHOST', []));
  assert.not.ok(hostAllowed(undefined, []));
  assert.not.ok(hostAllowed('', []));
});

test('a 3 GiB file: HEAD gives its size, ranges stream the asked bytes, parallel GETs stay in bounded memory', async () => {
  const head = await get('/big.bin', { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.headers['content-length'], String(3 * 2 ** 30));
  const tail = await get('/big.bin', { headers: { range: 'bytes=-10' } });
  assert.is(tail.status, 206);
  assert.is(tail.headers['content-range'], `bytes ${3 * 2 ** 30 - 10}-${3 * 2 ** 30 - 1}/${3 * 2 ** 30}`);
  assert.is(tail.body.length, 10);
  assert.is((await get('/big.bin', { headers: { range: `bytes=${4 * 2 ** 30}-` } })).status, 416);
  const before = process.memoryUsage().rss;
  const rs = await Promise.all([0, 1, 2, 3, 4].map(() => get('/big.bin', { limit: 8 << 20 })));
  for (const r of rs) {
    assert.is(r.status, 200);
    assert.ok(r.body.length >= 1 << 20, 'the body streams');
  }
  const grew = (process.memoryUsage().rss - before) / 2 ** 20;
  assert.ok(grew < 400, `resident memory grew ${grew.toFixed(0)} MiB for five GETs of a 3 GiB file`);
  assert.is((await get('/sub/a.txt')).body.toString(), 'inside', 'the server is still up');
});

test('ser serve --host 0.0.0.0 warns that it is reachable from other machines', async () => {
  const child = spawn(process.execPath, ['bin/ser.js', 'serve', '--host', '0.0.0.0', '--port', '0', '--dir', web], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr.on('data', (d) => (err += d));
  child.stdout.on('data', (d) => (out += d));
  const deadline = Date.now() + 20_000;
  while (!out.includes('serving') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  child.kill();
  assert.match(err, /warning: listening on 0\.0\.0\.0, not a loopback address/);
  assert.match(out, /serving the browser app/);
});

test.after(() => {
  server?.close();
  server?.closeAllConnections?.();
  rmSync(root, { recursive: true, force: true });
});
test.run();
