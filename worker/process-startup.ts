import { ConfigError, loadConfig, type Config } from './config.js';
import { assertNoEviction, connectRedis, redactUrl, RedisPolicyError } from './queues/redis.js';

/**
 * What every voicefleet process does first: read the config (a bad key stops it with exit code 2
 * and the key named), and, for queue processes, make sure Redis is there and will not evict jobs.
 */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

export async function requireQueueRedisOrExit(config: Config): Promise<void> {
  const check = connectRedis(config.REDIS_URL, 'producer', { connectTimeout: 10_000, lazyConnect: true, retryStrategy: () => null });
  let connectionError: Error | undefined;
  check.on('error', (error: Error) => (connectionError = error));
  try {
    await check.connect();
    await assertNoEviction(check, config.REDIS_URL);
  } catch (error) {
    console.error(
      error instanceof RedisPolicyError
        ? error.message
        : `REDIS_URL (${redactUrl(config.REDIS_URL)}): cannot reach Redis: ${(connectionError ?? (error as Error)).message}`,
    );
    process.exit(2);
  } finally {
    check.disconnect();
  }
}
