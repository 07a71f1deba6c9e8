import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../test/support/test-redis.js';
import { aliveKey, CallStateStore, type SavedCallState } from './call-state.js';

/** Who owns a live call's state once the supervisor has given the call to a new agent. */
describe('CallStateStore', () => {
  let server: TestRedis;
  let redis: Redis;
  let n = 0;
  const state = (resumes: number, turns: number): SavedCallState => ({
    callId: `call-${n}`,
    room: `room-${n}`,
    workflow: 'booking',
    metadata: '{}',
    items: [{ type: 'message', role: 'assistant', text: `turn ${turns}` }],
    turns,
    resumes,
    recordingParts: [{ directory: `/tmp/livekit-agents/job-${n}-${resumes}`, startedAt: 1_700_000_000_000 + resumes, host: 'worker-a' }],
    savedAt: new Date().toISOString(),
  });

  beforeAll(async () => {
    server = await startTestRedis('state');
    redis = new Redis(server.url);
  }, 30_000);

  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('keeps the state the supervisor handed on when the replaced agent ends its session', async () => {
    n += 1;
    const store = new CallStateStore(redis);
    expect(await store.save(state(0, 3))).toBe(true);
    // The supervisor gives the call to a new agent, which renews its own lease.
    expect(await store.save(state(1, 3))).toBe(true);
    await store.alive(`call-${n}`);
    // The replaced agent was only stalled: its late save and its clean-up must not touch the call.
    expect(await store.save(state(0, 4))).toBe(false);
    await store.ended(`call-${n}`, 0);
    const kept = await store.load(`call-${n}`);
    expect(kept?.resumes).toBe(1);
    expect(kept?.turns).toBe(3);
    expect(kept?.recordingParts).toEqual([{ directory: `/tmp/livekit-agents/job-${n}-1`, startedAt: 1_700_000_000_001, host: 'worker-a' }]);
    expect(await redis.exists(aliveKey(`call-${n}`))).toBe(1);
  });

  it("deletes the state and lease when the call's current agent ends it", async () => {
    n += 1;
    const store = new CallStateStore(redis);
    await store.save(state(1, 2));
    await store.alive(`call-${n}`);
    await store.ended(`call-${n}`, 1);
    expect(await store.load(`call-${n}`)).toBeUndefined();
    expect(await redis.exists(aliveKey(`call-${n}`))).toBe(0);
  });

  it('loads a state saved by a worker from before recording parts (a rolling deploy) with none', async () => {
    n += 1;
    const { recordingParts: _, ...older } = state(0, 1);
    await redis.set(`voicefleet:call-state:call-${n}`, JSON.stringify(older));
    const loaded = await new CallStateStore(redis).load(`call-${n}`);
    expect(loaded?.turns).toBe(1);
    expect(loaded?.recordingParts).toEqual([]);
  });
});
