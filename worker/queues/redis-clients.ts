import type { Redis } from 'ioredis';

/**
 * Which of these Redis client ids are connected now. A process's connection closes with the
 * process (its kernel closes the socket), so a client id written beside a lease or a heartbeat says
 * whether its writer still runs, long before the key it wrote expires. Needs `CLIENT LIST ID`
 * (Redis 6.2 and later) and `CLIENT` allowed to the caller; a refusal is a reply error.
 */
export async function connectedClients(redis: Redis, ids: readonly string[]): Promise<Set<string>> {
  const wanted = [...new Set(ids.filter((id) => /^\d+$/.test(id)))];
  if (wanted.length === 0) return new Set();
  // Only the listed ids that are connected come back.
  const listed = String(await redis.call('CLIENT', 'LIST', 'ID', ...wanted));
  return new Set([...listed.matchAll(/(?:^|\n)id=(\d+) /g)].map((m) => m[1]!));
}

/** This connection's own client id, for a writer to record; undefined while Redis is away. */
export async function ownClientId(redis: Redis): Promise<string | undefined> {
  try {
    return String(await redis.client('ID'));
  } catch {
    return undefined;
  }
}
