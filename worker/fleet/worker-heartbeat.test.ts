import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../test/support/test-redis.js';
import { fleetWorkers } from '../console/console-api.js';
import { connectedClients } from '../queues/redis-clients.js';
import { connectRedis } from '../queues/redis.js';
import { liveWorkers, WorkerHeartbeat } from './worker-heartbeat.js';

describe('WorkerHeartbeat', () => {
  let server: TestRedis;
  let url: string;

  beforeAll(async () => {
    server = await startTestRedis('beat');
    url = server.url;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('lists idle and busy workers, says when one drains, and forgets one that stopped', async () => {
    const redis = connectRedis(url, 'producer');
    await new Promise((resolve) => redis.once('ready', resolve));
    try {
      let load = { talking: 0, holding: 0, jobProcesses: 1 } as { talking: number; holding: number; jobProcesses: number; livekitWorkerId?: string };
      const idle = new WorkerHeartbeat(redis, { agentName: 'a', maxCalls: 2, load: () => ({ talking: 0, holding: 0, jobProcesses: 1 }), pid: 101 });
      const busy = new WorkerHeartbeat(redis, { agentName: 'a', maxCalls: 2, load: () => load, pid: 102 });
      await idle.beat();
      await busy.beat();
      await redis.set('voicefleet:worker:garbage', 'not json');
      expect((await liveWorkers(redis)).map((b) => [b.pid, b.talking, b.draining])).toEqual([
        [101, 0, false],
        [102, 0, false],
      ]);

      // A call names the LiveKit worker id; the console matches live calls to it.
      load = { talking: 1, holding: 1, jobProcesses: 2, livekitWorkerId: 'AW_busy' };
      await busy.beat();
      busy.draining();
      await new Promise((r) => setTimeout(r, 100));
      const beats = await liveWorkers(redis);
      const listed = fleetWorkers(beats, [{ worker: 'AW_busy' }, { worker: 'AW_unknown' }, {}]);
      expect(listed).toEqual([
        expect.objectContaining({ pid: 101, liveCalls: 0, draining: false, maxCalls: 2 }),
        expect.objectContaining({ id: 'AW_busy', pid: 102, liveCalls: 1, talking: 1, holding: 1, draining: true }),
        { id: 'AW_unknown', liveCalls: 1 },
      ]);

      await idle.stop();
      expect((await liveWorkers(redis)).map((b) => b.pid)).toEqual([102]);
      expect(await redis.ttl(`voicefleet:worker:${beats[1]!.key}`)).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('names the connection that wrote the beat, which is gone from Redis once the worker is', async () => {
    const observer = connectRedis(url, 'producer');
    const worker = connectRedis(url, 'producer');
    await Promise.all([observer, worker].map((r) => new Promise((resolve) => r.once('ready', resolve))));
    try {
      await new WorkerHeartbeat(worker, { agentName: 'b', maxCalls: 1, load: () => ({ talking: 0, holding: 0, jobProcesses: 1 }), pid: 201 }).beat();
      const beat = (await liveWorkers(observer)).find((b) => b.pid === 201)!;
      expect(beat.redisClientId).toMatch(/^\d+$/);
      expect(await connectedClients(observer, [beat.redisClientId!])).toEqual(new Set([beat.redisClientId]));
      // The worker's socket closes (as its kernel closes a killed process's); its beat lives on.
      worker.disconnect();
      await new Promise((r) => setTimeout(r, 200));
      expect((await liveWorkers(observer)).some((b) => b.pid === 201)).toBe(true);
      expect(await connectedClients(observer, [beat.redisClientId!])).toEqual(new Set());
    } finally {
      observer.disconnect();
      worker.disconnect();
    }
  });

  it('beats again at once on a new connection, with its new client id', async () => {
    const observer = connectRedis(url, 'producer');
    const worker = connectRedis(url, 'producer');
    await Promise.all([observer, worker].map((r) => new Promise((resolve) => r.once('ready', resolve))));
    const beatOf = async () => (await liveWorkers(observer)).find((b) => b.pid === 301);
    // An interval far longer than the test: only the reconnect can bring the new id.
    const heartbeat = new WorkerHeartbeat(worker, { agentName: 'c', maxCalls: 1, load: () => ({ talking: 0, holding: 0, jobProcesses: 1 }), pid: 301 }).start(60_000);
    try {
      const deadline = Date.now() + 5000;
      while (!(await beatOf()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const first = (await beatOf())!.redisClientId!;
      worker.disconnect(true);
      let now: string | undefined = first;
      while (now === first && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        now = (await beatOf())?.redisClientId;
      }
      expect(now).not.toBe(first);
      expect(await connectedClients(observer, [now!])).toEqual(new Set([now]));
      // Stopped: gone, and a later reconnect does not bring it back.
      await heartbeat.stop();
      worker.disconnect(true);
      await new Promise((r) => setTimeout(r, 500));
      expect(await beatOf()).toBeUndefined();
    } finally {
      observer.disconnect();
      worker.disconnect();
    }
  });
});
