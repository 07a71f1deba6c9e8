import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections the way BullMQ's production guide asks for them. Workers wait for Redis
 * forever (`maxRetriesPerRequest: null`): a restart of Redis pauses them, it does not kill them.
 * Producers fail fast (no offline queue, one retry): a caller-facing process must learn at once
 * that Redis is away, and put the record in its outbox instead of holding it in memory.
 */
export type RedisRole = 'worker' | 'producer';

export function connectRedis(url: string, role: RedisRole, options: RedisOptions = {}): Redis {
  const common: RedisOptions = {
    // Reconnect quickly and forever; Redis restarts are expected operations.
    retryStrategy: (times) => Math.min(times * 200, 2000),
    connectionName: `voicefleet-${role}`,
    ...options,
  };
  return role === 'worker'
    ? new Redis(url, { ...common, maxRetriesPerRequest: null, enableReadyCheck: false })
    : new Redis(url, { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 });
}

export class RedisPolicyError extends Error {
  override name = 'RedisPolicyError';
}

/**
 * Refuses a Redis that may evict keys: an evicted job is a lost call record or a lost dial. BullMQ
 * requires `maxmemory-policy noeviction`.
 */
export async function assertNoEviction(redis: Redis, url: string): Promise<void> {
  const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
  const policy = reply[1];
  if (policy !== 'noeviction') {
    throw new RedisPolicyError(
      `REDIS_URL (${redactUrl(url)}): maxmemory-policy is "${policy}"; queues need "noeviction" (redis-server --maxmemory-policy noeviction, or CONFIG SET maxmemory-policy noeviction)`,
    );
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis://(unparsable)';
  }
}
