import type { Redis } from 'ioredis';

/**
 * A worker's conversation slots as a Redis semaphore with a waiting line. Every job process of a
 * worker shares one pool, so the number of calls talking to an agent at once is held exactly
 * (livekit-server's view of a worker's load is seconds old). A call that finds every slot taken
 * joins the line and is let in strictly in arrival order.
 *
 * Slots and places in line are leases: a job process that dies (kill -9, OOM) stops renewing, and
 * its slot or place goes to the next caller within one lease.
 */
const ACQUIRE = `
local held, line, lineLease = KEYS[1], KEYS[2], KEYS[3]
local callId, limit, leaseMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', held, '-inf', now)
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', lineLease, '-inf', now)) do
  redis.call('ZREM', line, gone)
  redis.call('ZREM', lineLease, gone)
end
if redis.call('ZSCORE', held, callId) then
  redis.call('ZADD', held, now + leaseMs, callId)
  return 0
end
if not redis.call('ZSCORE', line, callId) then
  -- INCR keeps arrival order exact when two calls arrive in the same millisecond.
  redis.call('ZADD', line, redis.call('INCR', line .. ':seq'), callId)
end
redis.call('ZADD', lineLease, now + leaseMs, callId)
local free = limit - redis.call('ZCARD', held)
local ahead = redis.call('ZRANK', line, callId)
if ahead < free then
  redis.call('ZREM', line, callId)
  redis.call('ZREM', lineLease, callId)
  redis.call('ZADD', held, now + leaseMs, callId)
  return 0
end
return ahead + 1
`;

const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
`;

export interface CallSlotsOptions {
  /** The pool: one per worker (its job processes share it). */
  pool: string;
  /** Calls that may talk to an agent at once. */
  limit: number;
  /** How long a slot or a place in line outlives its last renewal. */
  leaseMs: number;
}

/** 0: the call has a slot. n > 0: it is n-th in line. */
export type SlotAnswer = { granted: true } | { granted: false; position: number };

export class CallSlots {
  readonly #redis: Redis;
  readonly #options: CallSlotsOptions;
  readonly #keys: [string, string, string];

  constructor(redis: Redis, options: CallSlotsOptions) {
    this.#redis = redis;
    this.#options = options;
    const base = `voicefleet:slots:{${options.pool}}`;
    this.#keys = [`${base}:held`, `${base}:line`, `${base}:line-lease`];
  }

  /** Takes a slot if the call's turn has come; otherwise keeps (or takes) its place in line. */
  async acquire(callId: string): Promise<SlotAnswer> {
    const position = Number(await this.#redis.eval(ACQUIRE, 3, ...this.#keys, callId, this.#options.limit, this.#options.leaseMs));
    return position === 0 ? { granted: true } : { granted: false, position };
  }

  /** Keeps a granted slot alive; false when the lease had already run out. */
  async renew(callId: string): Promise<boolean> {
    return Number(await this.#redis.eval(RENEW, 1, this.#keys[0], callId, this.#options.leaseMs)) === 1;
  }

  /** Gives back the slot, or the place in line of a caller who hung up while waiting. */
  async release(callId: string): Promise<void> {
    await this.#redis.multi().zrem(this.#keys[0], callId).zrem(this.#keys[1], callId).zrem(this.#keys[2], callId).exec();
  }

  async inUse(): Promise<{ talking: number; waiting: number }> {
    const [talking, waiting] = await Promise.all([this.#redis.zcard(this.#keys[0]), this.#redis.zcard(this.#keys[1])]);
    return { talking, waiting };
  }
}
