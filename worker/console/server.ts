import { build } from 'esbuild';
import express from 'express';
import { readFile } from 'node:fs/promises';
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
  app.get('/', (_req, res) => void res.type('html').set('cache-control', 'no-store').send(page));
  app.get('/console.js', (_req, res) => void res.type('js').set('cache-control', 'no-store').send(bundle));
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
