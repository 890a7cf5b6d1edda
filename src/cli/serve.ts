// `ser serve`: serves the browser app (dist/web) on a local address. WebGPU needs a secure
// context, which http://127.0.0.1 and http://localhost are (file:// gets no adapter).
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandSpec, Parsed } from './args.js';
import { numberFlag } from './args.js';
import { UserError } from './errors.js';

export const spec: CommandSpec = {
  name: 'serve',
  summary: 'Serve the browser app (load audio, predict, attack, train, all on this machine) on a local address.',
  usage: 'ser serve [--port 8080] [--host 127.0.0.1]',
  flags: {
    port: { type: 'string', value: 'N', default: '8080', help: 'TCP port (0 picks a free one)' },
    host: { type: 'string', value: 'ADDR', default: '127.0.0.1', help: 'address to listen on' },
    dir: { type: 'string', value: 'DIR', help: 'folder to serve (default: the built dist/web)' },
  },
};

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wav': 'audio/wav',
  '.safetensors': 'application/octet-stream',
};

/** The bundled CLI is dist/src/cli/main.js; the app is built next to it in dist/web. */
export function defaultWebDir(): string {
  return fileURLToPath(new URL('../../web/', import.meta.url));
}

/** Serves the files of `dir` (GET and HEAD only, nothing outside `dir`); resolves once listening. */
export function serveStatic(dir: string, host: string, port: number): Promise<{ server: Server; url: string }> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad path');
      return;
    }
    let file = resolve(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const a = server.address();
      const p = typeof a === 'object' && a ? a.port : port;
      ok({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${p}/` });
    });
  });
}

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length > 0) throw new UserError(`serve: unexpected argument '${p.positionals[0]}'`);
  const port = numberFlag(p, 'port', { min: 0, max: 65535, integer: true });
  const host = String(p.flags.host);
  const dir = typeof p.flags.dir === 'string' ? p.flags.dir : defaultWebDir();
  if (!existsSync(join(dir, 'index.html'))) throw new UserError(`serve: ${join(dir, 'index.html')} not found; run 'npm run build' first`);
  let url: string;
  try {
    ({ url } = await serveStatic(dir, host, port));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UserError(`serve: port ${port} is in use; try --port 0 for a free one`);
    throw new UserError(`serve: cannot listen on ${host}:${port}: ${(e as Error).message}`);
  }
  console.log(`ser: serving the browser app at ${url} (Ctrl+C to stop)`);
  console.log('     everything runs in the browser; no audio or model is uploaded anywhere');
  await new Promise(() => undefined); // until interrupted
  return 0;
}
