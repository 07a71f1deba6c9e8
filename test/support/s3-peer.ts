import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from '../../scripts/fleet/managed-process.js';
import { waitUntil } from '../../scripts/fleet/readiness.js';
import { PROJECT_ROOT } from '../../worker/project-root.js';
import { freePort } from './servers.js';

const MOTO_SERVER = join(PROJECT_ROOT, '.local', 's3-peer', 'bin', 'moto_server');

/**
 * An S3-compatible server on loopback for one test file: moto's S3 server, an implementation of
 * the S3 REST API (SigV4, multipart uploads, ranges) that stores objects in its own memory.
 * Installed by `scripts/setup --test` (npm test).
 */
export class S3Peer {
  /** Any key pair: the server checks the signature's shape, not an account. */
  static readonly credentials = { accessKeyId: 'voicefleet-test', secretAccessKey: 'voicefleet-test-secret' };

  private constructor(
    readonly endpoint: string,
    readonly process: ManagedProcess,
  ) {}

  static async start(): Promise<S3Peer> {
    if (!existsSync(MOTO_SERVER)) throw new Error(`${MOTO_SERVER} is missing: run \`bash scripts/setup --test\` (npm test does)`);
    const port = await freePort();
    const quiet = process.env.VOICEFLEET_TEST_SERVER_LOGS ? undefined : () => undefined;
    const server = new ManagedProcess({ name: 's3-peer', command: MOTO_SERVER, args: ['-H', '127.0.0.1', '-p', String(port)], onLine: quiet });
    const endpoint = `http://127.0.0.1:${port}`;
    await waitUntil('S3 peer (moto_server)', async () => {
      if (!server.running) throw new Error('moto_server exited');
      return (await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) })).ok;
    }, 30_000);
    return new S3Peer(endpoint, server);
  }

  client(): S3Client {
    return new S3Client({ region: 'us-east-1', endpoint: this.endpoint, forcePathStyle: true, credentials: S3Peer.credentials });
  }

  async createBucket(name: string): Promise<void> {
    const client = this.client();
    await client.send(new CreateBucketCommand({ Bucket: name }));
    client.destroy();
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
