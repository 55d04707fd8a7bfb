/**
 * The loopback bridge: the same handlers Electron's IPC calls, over HTTP on 127.0.0.1, so the
 * renderer runs in a plain browser (`character serve`, the E2E tests) without Electron.
 *
 *   POST /api/<channel>   JSON params -> JSON ApiResponse envelope (HTTP status follows the error)
 *   GET  /api/events      server-sent events, one `event: <name>` per EventContract event
 *   GET  /anything-else   the built renderer (index.html gets the session token injected)
 *
 * Every request needs the random session token (header x-studio-token, or ?token= where a header
 * cannot be set: EventSource, the first page load). Host headers other than loopback names are
 * refused, which defeats DNS rebinding; the server binds to loopback only.
 */
import { StudioError } from '../core/errors';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { ApiResponse, ApiChannel, ErrorCode } from '../../src-shared/contract';
import { dispatch } from '../handlers/dispatch';
import { httpStatusFor } from '../handlers/errors';
import type { EventFeed, Handlers } from '../handlers/types';

export const TOKEN_HEADER = 'x-studio-token';
/** Largest request body accepted (persona sources, review notes): 5 MiB. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;
/** A comment line on idle event streams so proxies and browsers keep them open (ms). */
const SSE_KEEPALIVE_MS = 15_000;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** The page may load only its own scripts and talk only to its own origin. */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // React sets style properties, and chart.js measures; inline styles are not script.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export interface BridgeOptions {
  handlers: Handlers;
  events: EventFeed;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Loopback only: 127.0.0.1 (default), localhost or ::1. */
  host?: string;
  /** The built renderer (out/renderer); without it only /api is served. */
  staticDir?: string;
  /** A fixed token (tests); otherwise 32 random bytes. */
  token?: string;
}

export interface Bridge {
  /** The page to open, token included: http://127.0.0.1:<port>/?token=<token>. */
  url: string;
  /** Origin without token, e.g. http://127.0.0.1:5174. */
  origin: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

/** The bridge could not start, build or serve (a port in use, no built renderer, a body too large). */
export class BridgeError extends StudioError {
  constructor(message: string, detail: Record<string, unknown> = {}) {
    super(message, 'internal', detail);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  const body: ApiResponse<ApiChannel> = { ok: false, error: { code, message } };
  sendJson(res, status, body);
}

function hostAllowed(hostHeader: string | undefined, port: number): boolean {
  if (!hostHeader) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!match) return false;
  const [, name, portText] = match;
  if (!name || !LOOPBACK_HOSTS.has(name)) return false;
  return portText === undefined ? port === 80 : Number(portText) === port;
}

function tokensEqual(given: string | null | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new BridgeError('request body too large', { limit: MAX_BODY_BYTES });
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Puts the token where the renderer's API client looks for it, and nothing else. */
export function injectToken(html: string, token: string): string {
  const meta = `<meta name="studio-token" content="${token}">`;
  return html.includes('<head>') ? html.replace('<head>', `<head>\n    ${meta}`) : `${meta}\n${html}`;
}

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new BridgeError(`the bridge binds to loopback only, not ${host}`, { host });
  }
  const token = options.token ?? randomBytes(32).toString('base64url');
  const staticRoot = options.staticDir ? resolve(options.staticDir) : null;
  const streams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let port = options.port ?? 0;

  const unsubscribe = options.events.onAny((event, payload) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const res of streams) res.write(frame);
  });

  function openEventStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // retry: how long (ms) EventSource waits before reconnecting after a drop.
    res.write('retry: 2000\n: connected\n\n');
    streams.add(res);
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), SSE_KEEPALIVE_MS);
    const done = (): void => {
      clearInterval(keepalive);
      streams.delete(res);
    };
    req.on('close', done);
    res.on('close', done);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, channel: string): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      sendError(res, 405, 'method_not_allowed', `use POST for /api/${channel}`);
      return;
    }
    let params: unknown = undefined;
    try {
      const body = await readBody(req);
      params = body.trim() === '' ? undefined : (JSON.parse(body) as unknown);
    } catch (error) {
      const tooLarge = error instanceof BridgeError;
      sendError(
        res,
        tooLarge ? 413 : 400,
        tooLarge ? 'too_large' : 'bad_request',
        tooLarge ? error.message : 'body is not JSON',
      );
      return;
    }
    // void channels are sent as null: hand the handler undefined, as IPC would.
    const reply = await dispatch(options.handlers, channel, params === null ? undefined : params);
    sendJson(res, reply.ok ? 200 : httpStatusFor(reply.error), reply);
  }

  function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string, url: URL): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, 'method_not_allowed', 'static files are GET only');
      return;
    }
    if (!staticRoot) {
      sendError(res, 404, 'not_found', 'this bridge serves no renderer (no staticDir)');
      return;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      sendError(res, 400, 'bad_request', 'bad path');
      return;
    }
    const candidate = normalize(join(staticRoot, decoded));
    if (candidate !== staticRoot && !candidate.startsWith(staticRoot + sep)) {
      sendError(res, 404, 'not_found', 'not found');
      return;
    }
    const isFile = existsSync(candidate) && statSync(candidate).isFile();
    const wantsPage = !isFile && extname(decoded) === '';
    if (isFile && !candidate.endsWith('index.html')) {
      // Built assets are public (they hold no data); only the page itself carries the token.
      res.writeHead(200, {
        'content-type': CONTENT_TYPES[extname(candidate)] ?? 'application/octet-stream',
        'content-length': statSync(candidate).size,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(candidate).pipe(res);
      return;
    }
    if (!isFile && !wantsPage) {
      sendError(res, 404, 'not_found', `no such file: ${pathname}`);
      return;
    }
    // The page (index.html, or any client-side route): token required, then injected.
    if (!tokensEqual(url.searchParams.get('token'), token)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(
        'Character Studio: open the full address printed by `character serve` (it carries the session token).\n',
      );
      return;
    }
    const indexPath = join(staticRoot, 'index.html');
    if (!existsSync(indexPath)) {
      sendError(res, 404, 'not_found', `no index.html in ${staticRoot}: build the renderer (npm run build)`);
      return;
    }
    const html = injectToken(readFileSync(indexPath, 'utf8'), token);
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': RENDERER_CSP,
      'x-content-type-options': 'nosniff',
      // The URL holds the token: never send it on as a referrer.
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : html);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host, port)) {
      sendError(res, 403, 'forbidden_host', 'the bridge answers loopback host names only');
      return;
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const pathname = url.pathname;
    if (!pathname.startsWith('/api/')) {
      serveStatic(req, res, pathname, url);
      return;
    }
    const headerToken = req.headers[TOKEN_HEADER];
    const given = typeof headerToken === 'string' ? headerToken : url.searchParams.get('token');
    if (!tokensEqual(given, token)) {
      sendError(res, 401, 'unauthorized', 'missing or wrong session token');
      return;
    }
    // A browser page from another origin cannot know the token, but refuse it outright anyway.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let allowed = false;
      try {
        const o = new URL(origin);
        allowed = hostAllowed(o.host, port) && o.protocol === 'http:';
      } catch {
        allowed = false;
      }
      if (!allowed) {
        sendError(res, 403, 'forbidden_origin', 'cross-origin requests are refused');
        return;
      }
    }
    if (pathname === '/api/events') {
      if (req.method !== 'GET') {
        sendError(res, 405, 'method_not_allowed', 'use GET for /api/events');
        return;
      }
      openEventStream(req, res);
      return;
    }
    await handleApi(req, res, pathname.slice('/api/'.length));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      process.stderr.write(`[bridge] ${String(error)}\n`);
      if (!res.headersSent) sendError(res, 500, 'internal', 'bridge failure');
      else res.end();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', (error) =>
      reject(new BridgeError(`cannot listen on ${host}:${port}: ${error.message}`, { host, port })),
    );
    server.listen(port, host, () => resolvePromise());
  });
  port = (server.address() as AddressInfo).port;
  const hostInUrl = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const origin = `http://${hostInUrl}:${port}`;

  let closed = false;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    port,
    close: async (): Promise<void> => {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
