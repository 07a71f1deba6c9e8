import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedProcess } from '../../scripts/fleet/managed-process.js';
import { freePort, startRedis } from '../../scripts/fleet/servers.js';
import { connectRedis } from '../queues/redis.js';
import { AliveLease } from './alive-lease.js';
import { aliveKey } from './call-state.js';

describe('AliveLease', () => {
  let redis: ManagedProcess;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-lease-'));
    const port = await freePort();
    redis = await startRedis({ port, dataDir: dir, onLine: () => undefined });
    url = `redis://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the lease alive while the main event loop is blocked, and stops renewing when told', async () => {
    const client = connectRedis(url, 'producer');
    try {
      const lease = AliveLease.start(url, 'call-1', 200, () => undefined);
      await new Promise((r) => setTimeout(r, 1500));
      // A busy loop longer than the 3 s lease: only the thread can renew it meanwhile.
      const until = Date.now() + 4000;
      while (Date.now() < until) {
        /* the job's loop, stalled */
      }
      expect(await client.exists(aliveKey('call-1'))).toBe(1);
      expect(await client.pttl(aliveKey('call-1'))).toBeGreaterThan(2000);
      await lease.stop();
      await client.del(aliveKey('call-1'));
      await new Promise((r) => setTimeout(r, 600));
      expect(await client.exists(aliveKey('call-1'))).toBe(0);
    } finally {
      client.disconnect();
    }
  }, 30_000);
});
