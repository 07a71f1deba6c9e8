import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis } from '../../scripts/fleet/servers.js';

/** A redis-server of one test file's own, on a free loopback port, with a data folder of its own. */
export interface TestRedis {
  url: string;
  /** Stops the server (by its PID) and removes its data folder. */
  stop(): Promise<void>;
}

export async function startTestRedis(name: string): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), `voicefleet-${name}-`));
  const port = await freePort();
  const server = await startRedis({ port, dataDir: dir, onLine: () => undefined });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
