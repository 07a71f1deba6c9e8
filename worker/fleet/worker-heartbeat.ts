import type { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { z } from 'zod';
import { ownClientId } from '../queues/redis-clients.js';

/**
 * Each agent worker says it is up, every few seconds, in a short-lived Redis key: how many calls it
 * is on, how many it may take, whether it is draining. livekit-server knows its workers but the
 * open-source server has no API that lists them, and an idle worker is on no call, so without this
 * an operator sees only the workers that happen to be busy. A worker that dies stops writing and
 * its key runs out.
 */
export const workerBeatSchema = z.object({
  /** host:pid, known from the start; the LiveKit worker id (AW_...) once a call has named it. */
  key: z.string(),
  livekitWorkerId: z.string().optional(),
  host: z.string(),
  pid: z.number().int(),
  agentName: z.string(),
  talking: z.number().int().nonnegative(),
  holding: z.number().int().nonnegative(),
  maxCalls: z.number().int().positive(),
  /** Warm job processes, idle or on a call. */
  jobProcesses: z.number().int().nonnegative(),
  draining: z.boolean(),
  /** The Redis client id of the connection that wrote the beat: gone from Redis when the worker dies. */
  redisClientId: z.string().optional(),
  startedAt: z.string(),
  beatAt: z.string(),
});
export type WorkerBeat = z.infer<typeof workerBeatSchema>;

const PREFIX = 'voicefleet:worker:';
/** A missed beat or two is not death; three is. */
const BEAT_TTL_S = 15;
export const BEAT_EVERY_MS = 5000;

export interface WorkerLoad {
  talking: number;
  holding: number;
  jobProcesses: number;
  livekitWorkerId?: string;
}

export class WorkerHeartbeat {
  readonly #redis: Redis;
  readonly #base: Pick<WorkerBeat, 'key' | 'host' | 'pid' | 'agentName' | 'maxCalls' | 'startedAt'>;
  readonly #load: () => WorkerLoad;
  #draining = false;
  #timer?: NodeJS.Timeout;
  /** This connection's client id, asked again after each reconnect (Redis gives a new one). */
  #clientId?: Promise<string | undefined>;

  constructor(redis: Redis, options: { agentName: string; maxCalls: number; load: () => WorkerLoad; pid?: number }) {
    this.#redis = redis;
    const pid = options.pid ?? process.pid;
    this.#base = { key: `${hostname()}:${pid}`, host: hostname(), pid, agentName: options.agentName, maxCalls: options.maxCalls, startedAt: new Date().toISOString() };
    this.#load = options.load;
    // A new connection (at start, or after Redis came back) has a new client id: the beat says
    // so at once, or the supervisor, which reads a beat's connection as the worker being up,
    // would see a live worker as gone until the next interval.
    redis.on('ready', () => {
      this.#clientId = undefined;
      if (this.#timer) void this.beat();
    });
  }

  start(everyMs = BEAT_EVERY_MS): this {
    // The first beat as soon as Redis answers, not a whole interval later (then on each reconnect).
    if (this.#redis.status === 'ready') void this.beat();
    this.#timer = setInterval(() => void this.beat(), everyMs);
    this.#timer.unref();
    return this;
  }

  /** The worker was told to stop: it says so at once, so the console shows it leaving. */
  draining(): void {
    this.#draining = true;
    void this.beat();
  }

  async beat(): Promise<void> {
    this.#clientId ??= ownClientId(this.#redis);
    const redisClientId = await this.#clientId;
    if (redisClientId === undefined) this.#clientId = undefined;
    const beat: WorkerBeat = { ...this.#base, ...this.#load(), draining: this.#draining, redisClientId, beatAt: new Date().toISOString() };
    // Redis may be restarting; the next beat says it again.
    await this.#redis.set(PREFIX + beat.key, JSON.stringify(beat), 'EX', BEAT_TTL_S).catch(() => undefined);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    // No beat from a later reconnect either: the key is gone for good.
    this.#timer = undefined;
    await this.#redis.del(PREFIX + this.#base.key).catch(() => undefined);
  }
}

/** Every worker that beat within its key's lifetime. Unreadable entries are skipped, not fatal. */
export async function liveWorkers(redis: Redis): Promise<WorkerBeat[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 200);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  const beats: WorkerBeat[] = [];
  for (const value of values) {
    if (!value) continue;
    try {
      const parsed = workerBeatSchema.safeParse(JSON.parse(value));
      if (parsed.success) beats.push(parsed.data);
    } catch {
      // not JSON: skipped
    }
  }
  return beats.sort((a, b) => a.key.localeCompare(b.key));
}
