import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../test/support/test-redis.js';
import { connectRedis } from '../queues/redis.js';
import { AliveLease, STARTING_LEASE_MS } from './alive-lease.js';
import { ALIVE_LEASE_MS, aliveKey } from './call-state.js';

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
});
