import { Queue } from 'bullmq';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { sampleCallRecord } from '../../test/support/call-records.js';
import { CrmStub } from '../../test/support/crm-stub.js';
import { WorkerProcess } from '../../test/support/worker-process.js';
import { Outbox } from '../../worker/crm/outbox.js';
import { CallRecordPublisher } from '../../worker/crm/record-publisher.js';
import { crmSyncJobOptions, QUEUES } from '../../worker/queues/queues.js';
import { connectRedis } from '../../worker/queues/redis.js';
import { freePort, startRedis } from '../fleet/servers.js';
import { figure, progress, writeResult } from './results.js';

/**
 * CRM sync end to end on the local Redis: N call records published the way workers publish
 * them, one real crm-sync process delivering to a signed-webhook CRM on loopback. Throughput is
 * records delivered per second from the first publish to the last delivery; enqueue-to-start is
 * BullMQ's own timestamps (added -> processing started).
 */
export async function queuesBench(records: number, concurrency: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'voicefleet-bench-queues-'));
  const port = await freePort();
  const redis = await startRedis({ port, dataDir: join(dir, 'redis'), onLine: () => undefined });
  const secret = 'bench-secret-0123456789';
  const crm = await CrmStub.start(secret);
  const url = `redis://127.0.0.1:${port}`;
  const crmSync = await WorkerProcess.startCrmSync({
    REDIS_URL: url,
    VOICEFLEET_CRM: 'webhook',
    VOICEFLEET_CRM_WEBHOOK_URL: crm.url,
    VOICEFLEET_CRM_WEBHOOK_SECRET: secret,
    VOICEFLEET_CRM_CONCURRENCY: String(concurrency),
    VOICEFLEET_OUTBOX_DIR: join(dir, 'outbox'),
    LOG_LEVEL: 'warn',
  }, { waitUntilReady: false });
  const producer = connectRedis(url, 'producer');
  producer.on('error', () => undefined);
  await new Promise((resolve) => producer.once('ready', resolve));
  const queue = new Queue(QUEUES.crmSync, { connection: producer, defaultJobOptions: crmSyncJobOptions() });
  const publisher = new CallRecordPublisher(queue, new Outbox(join(dir, 'outbox')), pino({ level: 'silent' }));
  try {
    const started = performance.now();
    const where = { queued: 0, outbox: 0 };
    for (let i = 0; i < records; i++) {
      where[await publisher.publish(sampleCallRecord(`bench-${i}`))] += 1;
      if (i % 100 === 0) progress('queues: publish', i, records);
    }
    progress('queues: publish', records, records);
    const deadline = Date.now() + 300_000;
    while (crm.delivered.size < records && Date.now() < deadline) {
      progress('queues: deliver', crm.delivered.size, records);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    progress('queues: deliver', crm.delivered.size, records);
    const elapsedS = (performance.now() - started) / 1000;
    const completed = await queue.getJobs(['completed'], 0, records);
    const startLatency = completed.flatMap((job) => (job.processedOn ? [job.processedOn - job.timestamp] : []));
    const lost = records - crm.delivered.size;
    return writeResult({
      suite: 'queues',
      config: { records, crmSyncConcurrency: concurrency, crm: 'signed webhook on loopback (HMAC check, idempotency keys)', redis: 'redis-server 7 (Debian), AOF everysec, noeviction' },
      figures: {
        delivered_per_s: figure([Math.round((crm.delivered.size / elapsedS) * 10) / 10], 'records/s'),
        enqueue_to_start_ms: figure(startLatency),
      },
      faults: { trials: records, delivered: crm.delivered.size, lost, duplicated: crm.duplicates.length, outboxed: where.outbox },
      notes: 'One crm-sync process. Publishing and delivery overlap; throughput counts from the first publish to the last delivery. enqueue_to_start is Job.processedOn - Job.timestamp.',
    });
  } finally {
    await queue.close();
    await crmSync.stop();
    await crm.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
