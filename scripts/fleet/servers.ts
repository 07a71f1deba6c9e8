import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../worker/project-root.js';
import { livekitConfigYaml, type LiveKitPorts } from './livekit-config.js';
import { ManagedProcess } from './managed-process.js';
import { httpOk, portInUse, redisPing, waitUntil, WillNotBeReady } from './readiness.js';

export { PROJECT_ROOT };
export const LOCAL_BIN = join(PROJECT_ROOT, '.local', 'bin');

type LineSink = (line: string, name: string) => void;

/** A free TCP port on loopback, as the kernel hands it out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * redis-server with the settings BullMQ needs in production: AOF fsync'd every second and no
 * eviction (an evicted queue key is a lost job).
 */
export async function startRedis(opts: { port: number; dataDir: string; onLine?: LineSink }): Promise<ManagedProcess> {
  if (await portInUse(opts.port)) {
    throw new Error(`port ${opts.port} is already in use: stop that Redis, or set VOICEFLEET_REDIS_PORT`);
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const redis = new ManagedProcess({
    name: 'redis',
    command: 'redis-server',
    args: [
      '--port', String(opts.port),
      '--bind', '127.0.0.1',
      '--daemonize', 'no',
      '--save', '',
      '--appendonly', 'yes',
      '--appendfsync', 'everysec',
      '--maxmemory-policy', 'noeviction',
      '--dir', opts.dataDir,
    ],
    onLine: opts.onLine,
  });
  await waitUntil(`redis on port ${opts.port}`, () => redisPing(opts.port), 10_000).catch(async (error) => {
    await redis.stop();
    throw error;
  });
  return redis;
}

/** How long livekit-server may take to answer HTTP after it starts. */
const LIVEKIT_READY_MS = 60_000;

export interface LiveKitHandle {
  process: ManagedProcess;
  url: string;
  httpUrl: string;
}

export async function startLiveKit(opts: {
  ports: LiveKitPorts;
  apiKey: string;
  apiSecret: string;
  onLine?: LineSink;
}): Promise<LiveKitHandle> {
  for (const port of [opts.ports.port, opts.ports.rtcTcpPort]) {
    if (await portInUse(port)) throw new Error(`port ${port} is already in use: stop that server, or set VOICEFLEET_LIVEKIT_PORT (livekit-server takes it and the port after it)`);
  }
  // Its last words, for the error when it never comes up.
  const lastLines: string[] = [];
  let bindFailed: string | undefined;
  const livekit = new ManagedProcess({
    name: 'livekit',
    command: join(LOCAL_BIN, 'livekit-server'),
    args: ['--config-body', livekitConfigYaml(opts.ports)],
    env: { ...process.env, LIVEKIT_KEYS: `${opts.apiKey}: ${opts.apiSecret}` },
    onLine: (line, name) => {
      // livekit-server stays up without its ICE/TCP listener rather than exit: end the wait now.
      if (line.includes('bind: address already in use')) bindFailed = line;
      lastLines.push(line);
      if (lastLines.length > 5) lastLines.shift();
      if (opts.onLine) opts.onLine(line, name);
      else console.log(`[${name}] ${line}`);
    },
  });
  const httpUrl = `http://127.0.0.1:${opts.ports.port}`;
  // It answers within a second on an idle machine; a 2-core host busy with other calls' job
  // processes (or a CI run) has taken over 20 s.
  await waitUntil('livekit-server', async () => {
    if (!livekit.running) throw new WillNotBeReady('livekit-server exited during start-up (run scripts/setup?)');
    if (bindFailed) throw new WillNotBeReady(`livekit-server could not take its ports (${bindFailed})`);
    return httpOk(httpUrl);
  }, LIVEKIT_READY_MS).catch(async (error: Error) => {
    await livekit.stop();
    throw new Error(`${error.message}; its last lines:\n${lastLines.join('\n') || '(none)'}`);
  });
  return { process: livekit, url: `ws://127.0.0.1:${opts.ports.port}`, httpUrl };
}
