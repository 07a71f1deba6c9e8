import { build } from 'esbuild';
import express from 'express';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleApi, type ConsoleApiOptions } from './console-api.js';
import { ConsoleSessions } from './session-auth.js';

const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), 'web');

/** The API's options, but the server makes the login sessions from the password. */
export interface ConsoleServerOptions extends Omit<ConsoleApiOptions, 'sessions'> {
  host: string;
  port: number;
  password: string;
}

/**
 * The operator console: one page (worker/console/web/, bundled by esbuild when the server starts,
 * so it is never stale and never on disk) and its JSON API, all behind the console login.
 */
export async function startConsole(options: ConsoleServerOptions): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const { host, port, password, ...apiOptions } = options;
  const [bundle, page] = await Promise.all([bundleWeb(), readFile(join(WEB_DIR, 'index.html'), 'utf8')]);
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
    next();
  });
  app.use(consolePageRoutes(page, bundle));
  app.use(
    '/api',
    consoleApi({ ...apiOptions, sessions: new ConsoleSessions(password) }),
  );
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The page and its script. The script is about 1 MB, nearly all livekit-client, and the same
 * until the server restarts: it goes gzipped (about a quarter of that) to a browser that takes
 * it, and a browser that has it already is told so (ETag, 304) instead of fetching it again.
 */
export function consolePageRoutes(page: string, bundle: string): express.Router {
  const plain = Buffer.from(bundle);
  const gzipped = gzipSync(plain, { level: 9 });
  const tag = `"${createHash('sha256').update(plain).digest('base64url').slice(0, 22)}"`;
  const routes = express.Router();
  routes.get('/', (_req, res) => void res.type('html').set('cache-control', 'no-store').send(page));
  routes.get('/console.js', (req, res) => {
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    res.set({ 'cache-control': 'no-cache', vary: 'accept-encoding', etag: gzip ? `${tag.slice(0, -1)}-gz"` : tag });
    if (req.fresh) return void res.status(304).end();
    res.type('js');
    if (gzip) res.set('content-encoding', 'gzip');
    res.send(gzip ? gzipped : plain);
  });
  return routes;
}

/** The page's script with livekit-client inside; it carries no configuration, let alone a key. */
export async function bundleWeb(): Promise<string> {
  const result = await build({
    entryPoints: [join(WEB_DIR, 'main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
