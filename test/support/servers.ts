import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_API_KEY, DEV_API_SECRET } from '../../worker/config.js';
import { freePort, startLiveKit, startRedis } from '../../scripts/fleet/servers.js';

export { freePort };

export interface TestStack {
  livekitUrl: string;
  livekitHttpUrl: string;
  redisUrl: string;
  redisPort: number;
  apiKey: string;
  apiSecret: string;
  /** Environment for a worker or script pointed at this stack. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Real redis-server + livekit-server on free loopback ports, for one test file. Output is kept
 * quiet unless VOICEFLEET_TEST_SERVER_LOGS is set.
 */
export async function startTestStack(): Promise<TestStack> {
  const quiet = process.env.VOICEFLEET_TEST_SERVER_LOGS ? undefined : () => undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'voicefleet-redis-'));
  const redisPort = await freePort();
  const redis = await startRedis({ port: redisPort, dataDir, onLine: quiet });
  const livekitPort = await freePort();
  const udpPortStart = 40000 + Math.floor(Math.random() * 400) * 50;
  let livekit;
  try {
    livekit = await startLiveKit({
      ports: {
        port: livekitPort,
        rtcTcpPort: await freePort(),
        udpPortStart,
        udpPortEnd: udpPortStart + 49,
        redisAddress: `127.0.0.1:${redisPort}`,
      },
      apiKey: DEV_API_KEY,
      apiSecret: DEV_API_SECRET,
      onLine: quiet,
    });
  } catch (error) {
    await redis.stop();
    throw error;
  }
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  return {
    livekitUrl: livekit.url,
    livekitHttpUrl: livekit.httpUrl,
    redisUrl,
    redisPort,
    apiKey: DEV_API_KEY,
    apiSecret: DEV_API_SECRET,
    env: {
      LIVEKIT_URL: livekit.url,
      LIVEKIT_API_KEY: DEV_API_KEY,
      LIVEKIT_API_SECRET: DEV_API_SECRET,
      REDIS_URL: redisUrl,
    },
    async stop() {
      await livekit.process.stop();
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
