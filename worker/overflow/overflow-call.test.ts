import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initializeLogger, type voice } from '@livekit/agents';
import type { RemoteParticipant, Room } from '@livekit/rtc-node';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/fleet/servers.js';
import { startTestRedis, type TestRedis } from '../../test/support/test-redis.js';
import { type Deployment, Deployments } from '../deployments.js';
import { CALLS_QUEUE } from '../dialer/dialer.js';
import { connectRedis } from '../queues/redis.js';
import { CallSlots } from './call-slots.js';
import { type OverflowCallOptions, reachAnAgent } from './overflow-call.js';

initializeLogger({ pretty: false, level: 'warn' });

/** Stands in for the background track: counts what was played, plays it instantly. */
class CountingPlayer {
  played = 0;
  play() {
    this.played += 1;
    return { stop: () => undefined, done: () => true, waitForPlayout: async () => undefined };
  }
}

/**
 * Where a held call goes when its wait runs out, on a real redis-server and BullMQ queue. The
 * audio side (hold music, voicemail recording) is covered end to end in test/overflow.test.ts.
 */
describe('reachAnAgent', () => {
  let server: TestRedis;
  let redis: Redis;
  let calls: Queue;
  let url: string;
  /** Voicemail boxes. */
  let dir: string;
  let n = 0;
  const acme = Deployments.load('config/deployments.json').get('acme-dental')!;

  beforeAll(async () => {
    server = await startTestRedis('overflow-unit');
    url = server.url;
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-overflow-unit-'));
    redis = new Redis(url);
    calls = new Queue(CALLS_QUEUE, { connection: { url } });
  }, 30_000);

  afterAll(async () => {
    await calls?.close();
    redis?.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A pool of one slot, already taken by another call. */
  async function fullPool(): Promise<CallSlots> {
    const slots = new CallSlots(redis, { pool: `unit-${++n}`, limit: 1, leaseMs: 30_000 });
    await slots.acquire('talking-call');
    return slots;
  }

  function options(slots: CallSlots, overrides: Partial<OverflowCallOptions> = {}, deployment: Deployment = acme): OverflowCallOptions {
    return {
      slots,
      callId: `held-${n}`,
      deployment: { ...deployment, overflow: { maxWaitSeconds: 5, then: 'callback' } },
      room: {} as Room,
      caller: {} as RemoteParticipant,
      callerNumber: '+15550100777',
      player: new CountingPlayer() as unknown as voice.BackgroundAudioPlayer,
      callerGone: new AbortController().signal,
      calls,
      dialMaxAttempts: 3,
      transfer: async () => ({ transferred: false, reason: 'not_a_phone_call', callbackRequested: true }),
      voicemail: { dir: join(dir, 'recordings'), maxMs: 1000 },
      hold: { pollMs: 100, announceEveryMs: 60_000 },
      log: pino({ level: 'silent' }),
      ...overrides,
    };
  }

  it('answers at once while a slot is free, leaving the background track unpublished', async () => {
    const slots = new CallSlots(redis, { pool: `unit-${++n}`, limit: 1, leaseMs: 30_000 });
    let published = 0;
    expect(await reachAnAgent(options(slots, { startPlayer: async () => void (published += 1) }))).toEqual({ answered: true });
    expect(published).toBe(0);
  });

  it('queues a callback in business hours when the wait runs out, and frees the place in line', async () => {
    const slots = await fullPool();
    const started = Date.now();
    let published = 0;
    const result = await reachAnAgent(options(slots, { startPlayer: async () => void (published += 1) }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
    // Hold music needs the track before the caller hears anything.
    expect(published).toBe(1);
    expect(result).toMatchObject({ answered: false, disposition: 'callback_requested', overflow: { position: 1, result: 'callback' } });
    const [job] = await calls.getJobs(['delayed', 'waiting', 'prioritized']);
    expect(job?.data).toMatchObject({
      to: '+15550100777',
      deployment: 'acme-dental',
      workflow: 'receptionist',
      priority: 2,
      window: { timeZone: 'America/New_York', startHour: 8, endHour: 18, days: [1, 2, 3, 4, 5, 6] },
    });
    expect(await slots.inUse()).toEqual({ talking: 1, waiting: 0 });
    await calls.obliterate({ force: true });
  }, 15_000);

  it('offers the callback when the human line cannot be reached', async () => {
    const slots = await fullPool();
    let tried = 0;
    const result = await reachAnAgent(
      options(slots, {
        deployment: { ...acme, overflow: { maxWaitSeconds: 5, then: 'human' } },
        transfer: async () => {
          tried += 1;
          return { transferred: false, reason: 'transfer_failed', callbackRequested: true };
        },
      }),
    );
    expect(tried).toBe(1);
    expect(result).toMatchObject({ answered: false, disposition: 'callback_requested' });
    await calls.obliterate({ force: true });
  }, 15_000);

  it('answers when the caller hangs up on hold, and gives up their place', async () => {
    const slots = await fullPool();
    const gone = new AbortController();
    setTimeout(() => gone.abort(), 700);
    const result = await reachAnAgent(options(slots, { callerGone: gone.signal }));
    expect(result).toMatchObject({ answered: false, disposition: 'caller_hung_up', overflow: { result: 'caller_hung_up' } });
    expect(await slots.inUse()).toEqual({ talking: 1, waiting: 0 });
  });

  it('answers without the line when Redis cannot be reached, rather than hold anyone forever', async () => {
    const away = connectRedis(`redis://127.0.0.1:${await freePort()}`, 'producer', { retryStrategy: () => null });
    away.on('error', () => undefined);
    const slots = new CallSlots(away, { pool: 'unreachable', limit: 1, leaseMs: 30_000 });
    expect(await reachAnAgent(options(slots))).toEqual({ answered: true });
    away.disconnect();
  });
});
