import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../test/support/test-redis.js';
import { CallSlots } from './call-slots.js';

/** The conversation-slot semaphore and its waiting line, on a real redis-server. */
describe('CallSlots', () => {
  let server: TestRedis;
  let redis: Redis;
  let n = 0;
  const pool = (limit: number, leaseMs = 30_000) => new CallSlots(redis, { pool: `test-${++n}`, limit, leaseMs });

  beforeAll(async () => {
    server = await startTestRedis('slots');
    redis = new Redis(server.url);
  }, 30_000);

  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('grants exactly `limit` slots, however many calls ask at once', async () => {
    const slots = pool(3);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => slots.acquire(`call-${i}`)));
    expect(answers.filter((a) => a.granted)).toHaveLength(3);
    expect(await slots.inUse()).toEqual({ talking: 3, waiting: 17 });
    // Places in line are 1..17, each once.
    const positions = answers.flatMap((a) => (a.granted ? [] : [a.position])).sort((a, b) => a - b);
    expect(positions).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
  });

  it('lets waiting calls in strictly in arrival order as slots free up', async () => {
    const slots = pool(1);
    expect(await slots.acquire('first')).toEqual({ granted: true });
    expect(await slots.acquire('second')).toEqual({ granted: false, position: 1 });
    expect(await slots.acquire('third')).toEqual({ granted: false, position: 2 });
    await slots.release('first');
    // The third asks first after the slot frees, but the second arrived earlier.
    expect(await slots.acquire('third')).toEqual({ granted: false, position: 2 });
    expect(await slots.acquire('second')).toEqual({ granted: true });
    expect(await slots.acquire('third')).toEqual({ granted: false, position: 1 });
    // A newcomer queues behind the third even though it asks at the moment a slot frees.
    await slots.release('second');
    expect(await slots.acquire('newcomer')).toEqual({ granted: false, position: 2 });
    expect(await slots.acquire('third')).toEqual({ granted: true });
  });

  it('is idempotent for a call that already holds a slot', async () => {
    const slots = pool(1);
    expect(await slots.acquire('a')).toEqual({ granted: true });
    expect(await slots.acquire('a')).toEqual({ granted: true });
    expect(await slots.inUse()).toEqual({ talking: 1, waiting: 0 });
  });

  it('frees the slot of a job that stopped renewing, and drops a waiter that stopped asking', async () => {
    const slots = pool(1, 300);
    expect(await slots.acquire('crashed')).toEqual({ granted: true });
    expect(await slots.acquire('gave-up')).toEqual({ granted: false, position: 1 });
    expect(await slots.acquire('patient')).toEqual({ granted: false, position: 2 });
    // Only the patient caller keeps asking (renewing its place); the others go quiet.
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await slots.acquire('patient');
    }
    expect(await slots.acquire('patient')).toEqual({ granted: true });
    expect(await slots.renew('crashed')).toBe(false);
  });

  it('keeps a renewed slot past its first lease', async () => {
    const slots = pool(1, 300);
    expect(await slots.acquire('talking')).toEqual({ granted: true });
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await slots.renew('talking')).toBe(true);
    }
    expect(await slots.acquire('next')).toEqual({ granted: false, position: 1 });
  });

  it('forgets a caller who hung up while waiting', async () => {
    const slots = pool(1);
    await slots.acquire('talking');
    await slots.acquire('hung-up');
    expect(await slots.acquire('behind')).toEqual({ granted: false, position: 2 });
    await slots.release('hung-up');
    expect(await slots.acquire('behind')).toEqual({ granted: false, position: 1 });
  });
});
