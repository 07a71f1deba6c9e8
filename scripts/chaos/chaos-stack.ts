import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_API_KEY, DEV_API_SECRET } from '../../worker/config.js';
import type { TestStack } from '../../test/support/servers.js';
import type { ManagedProcess } from '../fleet/managed-process.js';
import { freePort, startLiveKit, startRedis } from '../fleet/servers.js';

/**
 * redis-server + livekit-server on free loopback ports, like the tests' stack, but holding the
 * Redis process so a trial can kill it by its pid and start it again on the same port and data
 * directory (AOF, fsync every second), as an operator's restart would.
 */
export class ChaosStack implements TestStack {
  readonly apiKey = DEV_API_KEY;
  readonly apiSecret = DEV_API_SECRET;

  private constructor(
    private redis: ManagedProcess,
    private readonly livekit: ManagedProcess,
    readonly redisPort: number,
    readonly livekitUrl: string,
    readonly livekitHttpUrl: string,
    private readonly dataDir: string,
  ) {}

  static async start(): Promise<ChaosStack> {
    const quiet = () => undefined;
    const dataDir = mkdtempSync(join(tmpdir(), 'voicefleet-chaos-redis-'));
    const redisPort = await freePort();
    const redis = await startRedis({ port: redisPort, dataDir, onLine: quiet });
    const udpPortStart = 40000 + Math.floor(Math.random() * 400) * 50;
    const livekit = await startLiveKit({
      ports: { port: await freePort(), rtcTcpPort: await freePort(), udpPortStart, udpPortEnd: udpPortStart + 49, redisAddress: `127.0.0.1:${redisPort}` },
      apiKey: DEV_API_KEY,
      apiSecret: DEV_API_SECRET,
      onLine: quiet,
    });
    return new ChaosStack(redis, livekit.process, redisPort, livekit.url, livekit.httpUrl, dataDir);
  }

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  get env(): Record<string, string> {
    return { LIVEKIT_URL: this.livekitUrl, LIVEKIT_API_KEY: this.apiKey, LIVEKIT_API_SECRET: this.apiSecret, REDIS_URL: this.redisUrl };
  }

  /** kill -9 of redis-server, down for `downMs`, then the same server again on its data. */
  async restartRedis(downMs: number): Promise<void> {
    process.kill(this.redis.pid!, 'SIGKILL');
    await this.redis.exited;
    await new Promise((r) => setTimeout(r, downMs));
    this.redis = await startRedis({ port: this.redisPort, dataDir: this.dataDir, onLine: () => undefined });
  }

  async stop(): Promise<void> {
    await this.livekit.stop();
    await this.redis.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
