import type { Redis } from 'ioredis';

const LIVE = 'voicefleet:calls:live';
const callKey = (callId: string) => `voicefleet:call:${callId}`;
const roomKey = (room: string) => `voicefleet:room:${room}`;
const RETENTION_S = 7 * 24 * 3600;

export interface LiveCall {
  callId: string;
  room: string;
  deployment: string;
  startedAt: string;
  lastSeenAt: string;
}

/**
 * Which calls are live, by heartbeat. A job process heartbeats its call; when it dies (crash,
 * OOM, kill -9) the heartbeats stop, and the crm-sync sweep writes the call a record of its own.
 * Nothing else tells us: the framework's shutdown callbacks and LiveKit webhooks can both be
 * skipped or dropped.
 */
export class CallRegistry {
  constructor(private readonly redis: Redis) {}

  /** `workflow` and `worker` are for the operator console's live list. */
  async started(call: { callId: string; room: string; deployment: string; startedAt: string; workflow?: string; worker?: string }): Promise<void> {
    const shown = { ...(call.workflow ? { workflow: call.workflow } : {}), ...(call.worker ? { worker: call.worker } : {}) };
    await this.redis
      .multi()
      .hset(callKey(call.callId), { room: call.room, deployment: call.deployment, startedAt: call.startedAt, state: 'live', ...shown })
      .expire(callKey(call.callId), RETENTION_S)
      .set(roomKey(call.room), call.callId, 'EX', RETENTION_S)
      .zadd(LIVE, Date.now(), call.callId)
      .exec();
  }

  async heartbeat(callId: string): Promise<void> {
    await this.redis.zadd(LIVE, 'XX', Date.now(), callId);
  }

  /** The call ended and its record is queued (or in the outbox): the sweep leaves it alone. */
  async ended(callId: string): Promise<void> {
    await this.redis.multi().hset(callKey(callId), { state: 'ended', endedAt: new Date().toISOString() }).zrem(LIVE, callId).exec();
  }

  /** What `started` wrote about a call (room, deployment, startedAt, workflow, worker, state). */
  async details(callId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(callKey(callId));
  }

  /** Every call now live, oldest first (at most `limit`). */
  async live(limit = 500): Promise<string[]> {
    return this.redis.zrange(LIVE, 0, limit - 1);
  }

  /** Live calls whose last heartbeat is older than `staleMs`. */
  async stale(staleMs: number): Promise<LiveCall[]> {
    const ids = await this.redis.zrangebyscore(LIVE, 0, Date.now() - staleMs, 'WITHSCORES', 'LIMIT', 0, 100);
    const calls: LiveCall[] = [];
    for (let i = 0; i < ids.length; i += 2) {
      const callId = ids[i]!;
      const fields = await this.redis.hgetall(callKey(callId));
      calls.push({
        callId,
        room: fields.room ?? 'unknown',
        deployment: fields.deployment ?? 'unknown',
        startedAt: fields.startedAt ?? new Date(Number(ids[i + 1])).toISOString(),
        lastSeenAt: new Date(Number(ids[i + 1])).toISOString(),
      });
    }
    return calls;
  }

  /**
   * LiveKit says the call's room is gone. If its worker has not marked the call ended, the sweep
   * looks at it `graceMs` from now instead of after the full stale period: the worker's own
   * record still wins if it arrives in that time. Returns the call id when one was live.
   */
  async roomFinished(room: string, staleMs: number, graceMs: number): Promise<string | undefined> {
    const callId = await this.redis.get(roomKey(room));
    if (!callId) return undefined;
    // LT: only ever brings the sweep closer, never pushes it back. XX: only a call still live.
    const changed = await this.redis.zadd(LIVE, 'XX', 'LT', 'CH', Date.now() - staleMs + graceMs, callId);
    return changed === 1 ? callId : undefined;
  }

  /** Takes a stale call off the live set; true for the one sweeper that got it. */
  async claimStale(callId: string): Promise<boolean> {
    return (await this.redis.zrem(LIVE, callId)) === 1;
  }
}
