import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../test/support/test-redis.js';
import { connectRedis } from '../queues/redis.js';
import { AliveLease, STARTING_LEASE_MS } from './alive-lease.js';
import { ALIVE_LEASE_MS, aliveKey, CallStateStore, leaseHolderKey } from './call-state.js';

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('AliveLease', () => {
  let redis: TestRedis;
  let url: string;

  beforeAll(async () => {
    redis = await startTestRedis('lease');
    url = redis.url;
  });

  afterAll(async () => {
    await redis?.stop();
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

  it('renews from the event loop too, so the lease holds before the thread is up', async () => {
    const client = connectRedis(url, 'producer');
    let loopRenewals = 0;
    try {
      const leases: number[] = [];
      const lease = AliveLease.start(url, 'call-2', 200, (leaseMs) => {
        loopRenewals += 1;
        leases.push(leaseMs);
      });
      // At once, before any thread could have connected to Redis, and with the long lease.
      expect(leases).toEqual([STARTING_LEASE_MS]);
      await new Promise((r) => setTimeout(r, 1500));
      expect(loopRenewals).toBeGreaterThanOrEqual(5);
      // Once the thread renews, the loop's lease is the normal one, so a death is seen soon.
      expect(leases.at(-1)).toBe(ALIVE_LEASE_MS);
      expect(await client.pttl(aliveKey('call-2'))).toBeLessThanOrEqual(ALIVE_LEASE_MS);
      await lease.stop();
      const stoppedAt = loopRenewals;
      await new Promise((r) => setTimeout(r, 500));
      expect(loopRenewals).toBe(stoppedAt);
    } finally {
      client.disconnect();
    }
  });

  it('records the connection renewing the lease: kill -9 of its process shows at once, while the lease runs on', async () => {
    const client = connectRedis(url, 'producer');
    if (client.status !== 'ready') await once(client, 'ready');
    const states = new CallStateStore(client);
    const module = fileURLToPath(new URL('./alive-lease.ts', import.meta.url));
    // A job process of its own, as in a call: only the kernel can tell Redis it is gone. (A file,
    // not --eval: the lease's thread inherits the process's flags, and --input-type fails it.)
    const script = join(mkdtempSync(join(tmpdir(), 'voicefleet-lease-')), 'job.mts');
    writeFileSync(script, `import { AliveLease } from ${JSON.stringify(module)};\nAliveLease.start(${JSON.stringify(url)}, 'call-3', 200, () => undefined);\nsetInterval(() => undefined, 1000);\n`);
    const job = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore' });
    try {
      await until('the lease holder recorded', async () => (await client.get(leaseHolderKey('call-3'))) !== null);
      expect(await states.holderGone(['call-3', 'call-unknown'])).toEqual([false, false]);
      job.kill('SIGKILL');
      await once(job, 'exit');
      await until('the holder gone', async () => (await states.holderGone(['call-3']))[0] === true, 1000);
      // The lease itself still says alive: the supervisor would wait for it to lapse.
      expect(await states.isAlive(['call-3'])).toEqual([true]);
    } finally {
      job.kill('SIGKILL');
      client.disconnect();
    }
  }, 30_000);

  it('leaves no holder when stopped on purpose, so an ending call is left to its lease', async () => {
    const client = connectRedis(url, 'producer');
    if (client.status !== 'ready') await once(client, 'ready');
    const states = new CallStateStore(client);
    try {
      const lease = AliveLease.start(url, 'call-4', 200, () => undefined);
      await until('the lease holder recorded', async () => (await client.get(leaseHolderKey('call-4'))) !== null);
      await lease.stop();
      expect(await client.exists(leaseHolderKey('call-4'))).toBe(0);
      expect(await states.holderGone(['call-4'])).toEqual([false]);
      expect(await states.isAlive(['call-4'])).toEqual([true]);
    } finally {
      client.disconnect();
    }
  }, 30_000);
});
