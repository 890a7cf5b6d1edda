// `ser serve`: serves the browser app (dist/web) on a local address. WebGPU needs a secure
// context, which http://127.0.0.1 and http://localhost are (file:// gets no adapter).
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandSpec, Parsed } from './args.js';
import { numberFlag } from './args.js';
import { UserError } from './errors.js';

export const spec: CommandSpec = {
  name: 'serve',
  summary: 'Serve the browser app (load audio, predict, attack, train, all on this machine) on a local address.',
  usage: 'ser serve [--port 8080] [--host 127.0.0.1] [--allow-host NAMES]',
  flags: {
    port: { type: 'string', value: 'N', default: '8080', help: 'TCP port (0 picks a free one)' },
    host: { type: 'string', value: 'ADDR', default: '127.0.0.1', help: 'address to listen on' },
    dir: { type: 'string', value: 'DIR', help: 'folder to serve (default: the built dist/web)' },
    'allow-host': { type: 'string', value: 'NAMES', help: 'host names (comma-separated) besides localhost and IP addresses that requests may use, e.g. a LAN name with --host 0.0.0.0' },
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

/**
 * The Content-Security-Policy the app is served with: its own scripts, styles and connections
 * only; images also from data: (the favicon) and blob:, media from blob: (recordings); no
 * plugins, no framing, no <base> or form tricks. WebGPU needs no directive. 'wasm-unsafe-eval'
 * lets the audio codecs (FLAC, MP3, Vorbis, Opus: WebAssembly) compile; it allows no JavaScript
 * eval.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Whether `host` (no port) names this machine's loopback: localhost, *.localhost, 127.x.y.z, ::1. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::1' || h === '0:0:0:0:0:0:0:1';
}

/**
 * Whether a request's Host header may be answered. A DNS-rebinding page reaches the server under
 * its own domain name, so names are accepted only when loopback or listed in `allowed`; an IP
 * literal cannot be rebound and is always accepted.
 */
export function hostAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  if (!header) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::\d+)?$/.exec(header.trim());
  if (!m) return false;
  const host = m[1].toLowerCase();
  if (isLoopback(host) || isIP(host.replace(/^\[|\]$/g, '')) !== 0) return true;
  return allowed.some((a) => a.toLowerCase() === host);
}

/** Parses a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range within `size`; null when absent or unsupported, 'bad' when unsatisfiable. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'bad' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // several ranges or another unit: send it all
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start > end || start >= size ? 'bad' : { start, end };
}

/**
 * Serves the files of `dir` (GET and HEAD only), streamed from disk (any size, bounded memory;
 * single byte ranges honoured). Confined to the real path of `dir`: no '..', no hidden files or
 * folders (names starting with '.'), no symbolic link that leads outside. Requests whose Host is
 * not loopback, an IP literal or in `allowHosts` get 403 (DNS rebinding). Every answer carries
 * the CSP and anti-framing/sniffing headers. Resolves once listening.
 */
export function serveStatic(dir: string, host: string, port: number, opts: { allowHosts?: readonly string[] } = {}): Promise<{ server: Server; url: string }> {
  const root = realpathSync(resolve(dir));
  const allowHosts = opts.allowHosts ?? [];
  const server = createServer((req, res) => {
    const send = (status: number, body = '', headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...headers }).end(req.method === 'HEAD' ? undefined : body);
    };
    if (!hostAllowed(req.headers.host, allowHosts)) return send(403, `host '${req.headers.host ?? ''}' not allowed (start ser serve with --allow-host NAME to serve it)`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed', { allow: 'GET, HEAD' });
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(400, 'bad path');
    }
    // Every segment must be a plain name: no '..', no hidden files, no encoded separators or NULs.
    const segments = path.split('/').filter((s) => s !== '');
    if (segments.some((s) => s.startsWith('.') || s.includes('\\') || s.includes('\0'))) return send(403, 'forbidden');
    let file: string;
    try {
      file = realpathSync(join(root, ...segments));
      if (statSync(file).isDirectory()) file = realpathSync(join(file, 'index.html'));
    } catch {
      return send(404, `not found: ${path}`);
    }
    // The real path (symbolic links resolved) must still be inside the real root.
    if (file !== root && !file.startsWith(root + sep)) return send(403, 'forbidden');
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return send(404, `not found: ${path}`);
      size = st.size;
    } catch {
      return send(404, `not found: ${path}`);
    }
    const range = parseRange(req.headers.range, size);
    if (range === 'bad') return send(416, 'range not satisfiable', { 'content-range': `bytes */${size}` });
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      'accept-ranges': 'bytes',
      'content-length': String(range ? range.end - range.start + 1 : size),
    };
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) return res.end();
    const stream = createReadStream(file, range ?? {});
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res);
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
  const port = numberFlag(p, 'port', { min: 0, max: 65535, integer: true, why: 'a TCP port' });
  const host = String(p.flags.host);
  const dir = typeof p.flags.dir === 'string' ? p.flags.dir : defaultWebDir();
  if (!existsSync(join(dir, 'index.html'))) throw new UserError(`serve: ${join(dir, 'index.html')} not found; run 'npm run build' first`);
  const allowHosts = typeof p.flags['allow-host'] === 'string' ? p.flags['allow-host'].split(',').map((h) => h.trim()).filter(Boolean) : [];
  if (!isLoopback(host)) {
    console.error(`ser: warning: listening on ${host}, not a loopback address: other machines on the network can load the app and every file in ${dir}`);
  }
  let url: string;
  try {
    ({ url } = await serveStatic(dir, host, port, { allowHosts }));
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
