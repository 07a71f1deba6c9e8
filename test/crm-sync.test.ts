import { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { AccessToken } from 'livekit-server-sdk';
import { Redis } from 'ioredis';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ManagedProcess } from '../scripts/fleet/managed-process.js';
import { freePort, startRedis } from '../scripts/fleet/servers.js';
import { Outbox } from '../worker/crm/outbox.js';
import { CallRecordPublisher } from '../worker/crm/record-publisher.js';
import { CallRegistry } from '../worker/queues/call-registry.js';
import { decodeStereo, levels } from '../worker/recording/recording-audio.js';
import { recordingPart } from '../worker/recording/recording-parts.js';
import { CallStateStore } from '../worker/supervisor/call-state.js';
import { DEV_API_KEY, DEV_API_SECRET } from '../worker/config.js';
import { callRecordJobId, crmSyncJobOptions, QUEUES } from '../worker/queues/queues.js';
import { connectRedis } from '../worker/queues/redis.js';
import { sampleCallRecord } from './support/call-records.js';
import { CrmStub } from './support/crm-stub.js';
import { recordedSession, toneOn } from './support/recorded-session.js';
import { WorkerProcess } from './support/worker-process.js';

/**
 * Post-call CRM sync against a real redis-server, the real crm-sync process and a webhook CRM on
 * loopback that checks signatures and applies each idempotency key once. Counts are of effects
 * in the CRM: a call delivered twice under one key is one write, under two keys a duplicate.
 */
const SECRET = 'crm-test-secret-0123456789';
const silent = pino({ level: 'silent' });

let redisPort: number;
let redisDir: string;
let redis: ManagedProcess;
let crm: CrmStub;
let outboxDir: string;

const record = sampleCallRecord;
let webhookPort: number;

function crmSyncEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    VOICEFLEET_WEBHOOK_PORT: String(webhookPort),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    VOICEFLEET_CRM: 'webhook',
    VOICEFLEET_CRM_WEBHOOK_URL: crm.url,
    VOICEFLEET_CRM_WEBHOOK_SECRET: SECRET,
    VOICEFLEET_CRM_TIMEOUT_MS: '5000',
    VOICEFLEET_CRM_LOCK_MS: '2000',
    VOICEFLEET_CRM_BACKOFF_BASE_MS: '100',
    VOICEFLEET_CRM_BACKOFF_MAX_MS: '400',
    VOICEFLEET_OUTBOX_DIR: outboxDir,
    VOICEFLEET_STALE_CALL_MS: '1500',
    VOICEFLEET_SWEEP_EVERY_MS: '300',
    ...extra,
  };
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A worker-style connection whose errors (Redis restarting in a test) are expected. */
function quietWorkerConnection(): Redis {
  const connection = connectRedis(`redis://127.0.0.1:${redisPort}`, 'worker');
  connection.on('error', () => undefined);
  return connection;
}

/** A producer connection (fails fast, no offline queue), once it is ready to take commands. */
async function producerConnection(): Promise<Redis> {
  const producer = connectRedis(`redis://127.0.0.1:${redisPort}`, 'producer');
  producer.on('error', () => undefined);
  await new Promise((resolve) => producer.once('ready', resolve));
  return producer;
}

async function startRedisServer(): Promise<void> {
  redis = await startRedis({ port: redisPort, dataDir: redisDir, onLine: () => undefined });
}

describe('crm-sync', () => {
  let crmSync: WorkerProcess | undefined;
  let queue: Queue;

  beforeAll(async () => {
    redisPort = await freePort();
    webhookPort = await freePort();
    redisDir = mkdtempSync(join(tmpdir(), 'voicefleet-crm-redis-'));
    await startRedisServer();
    crm = await CrmStub.start(SECRET);
    queue = new Queue(QUEUES.crmSync, { connection: quietWorkerConnection(), defaultJobOptions: crmSyncJobOptions() });
    queue.on('error', () => undefined);
  }, 30_000);

  afterAll(async () => {
    await queue?.close();
    await crm?.close();
    await redis?.stop();
    rmSync(redisDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    // A fresh outbox per test; each test's crm-sync process replays its own.
    outboxDir = mkdtempSync(join(tmpdir(), 'voicefleet-outbox-'));
  });

  afterEach(async () => {
    await crmSync?.stop();
    crmSync = undefined;
    crm.failNext = { count: 0, status: 500 };
    crm.holdMs = 0;
    crm.holdAfterWriteMs = 0;
    rmSync(outboxDir, { recursive: true, force: true });
  });

  it('retries a CRM that fails three times, then delivers once', async () => {
    crm.failNext = { count: 3, status: 503 };
    crmSync = await WorkerProcess.startCrmSync(crmSyncEnv());
    await queue.add('call-record', record('call-retry'), { jobId: callRecordJobId('call-retry') });
    await waitUntil('delivery', () => crm.delivered.has('call-retry'));
    expect(crm.requests.filter((r) => r.key === 'call-retry').map((r) => r.status)).toEqual([503, 503, 503, 200]);
    expect(crm.duplicates).toEqual([]);
    const delivered = await crmSync.waitForEvent('crm_delivered', 5000, (l) => l.callId === 'call-retry');
    expect(delivered.attempt).toBe(4);
  });

  it('sends a permanent refusal to the dead letters with the reason, and does not retry it', async () => {
    crm.refuse.set('call-refused', 422);
    crmSync = await WorkerProcess.startCrmSync(crmSyncEnv());
    await queue.add('call-record', record('call-refused'), { jobId: callRecordJobId('call-refused') });
    const dead = await crmSync.waitForEvent('crm_dead_letter', 20_000);
    expect(dead.reason).toMatch(/HTTP 422/);
    const deadLetters = new Queue(QUEUES.crmDeadLetter, { connection: quietWorkerConnection() });
    try {
      const job = await deadLetters.getJob(callRecordJobId('call-refused'));
      expect(job?.data.reason).toMatch(/HTTP 422/);
      expect(job?.data.record.callId).toBe('call-refused');
    } finally {
      await deadLetters.close();
    }
    expect(crm.requests.filter((r) => r.key === 'call-refused')).toHaveLength(1);
    expect(crm.delivered.has('call-refused')).toBe(false);
    // The dead letter shows in the queue metrics Prometheus scrapes.
    const metrics = await (await fetch(`http://127.0.0.1:${webhookPort}/metrics`)).text();
    expect(metrics).toMatch(/^voicefleet_queue_jobs\{queue="crm-sync-dead",state="waiting"\} 1$/m);
    expect(metrics).toMatch(/^voicefleet_queue_jobs\{queue="crm-sync",state="failed"\} 1$/m);
  });

  it('keeps a malformed payload for inspection, with a clear reason', async () => {
    crmSync = await WorkerProcess.startCrmSync(crmSyncEnv());
    await queue.add('call-record', { callId: 'call-bad', version: 7, transcript: 'not a list' }, { jobId: callRecordJobId('call-bad') });
    const dead = await crmSync.waitForEvent('crm_dead_letter', 20_000);
    expect(dead.reason).toMatch(/^invalid call record: version: .*transcript: /);
    const failed = await queue.getJob(callRecordJobId('call-bad'));
    expect(await failed?.getState()).toBe('failed');
    expect(crm.requests.filter((r) => r.key === 'call-bad')).toHaveLength(0);
  });

  it('delivers exactly once when the crm-sync process is killed -9 mid-request', async () => {
    crm.holdAfterWriteMs = 3000;
    crmSync = await WorkerProcess.startCrmSync(crmSyncEnv());
    await queue.add('call-record', record('call-killed'), { jobId: callRecordJobId('call-killed') });
    // Killed while the CRM holds its answer: the CRM applied the write, the worker never knew.
    await waitUntil('the CRM to apply the write', () => crm.delivered.has('call-killed'));
    await crmSync.kill();
    crm.holdAfterWriteMs = 0;
    crmSync = await WorkerProcess.startCrmSync(crmSyncEnv());
    // The lock expires (VOICEFLEET_CRM_LOCK_MS), the job is taken up again, the CRM sees the same key.
    await waitUntil('the job to complete', async () => (await (await queue.getJob(callRecordJobId('call-killed')))?.getState()) === 'completed', 30_000);
    expect(crm.delivered.has('call-killed')).toBe(true);
    expect(crm.duplicates).toEqual([]);
    // The job ran again after the kill and the CRM saw the same key twice: one write.
    expect(crm.requests.filter((r) => r.key === 'call-killed').map((r) => r.status)).toEqual([0, 200]);
    expect([...crm.writes.values()].filter((r) => r.callId === 'call-killed')).toHaveLength(1);
  }, 60_000);

  it('writes one CRM record for a call enqueued by the worker, the outbox replay and the sweep', async () => {
    const producer = await producerConnection();
    const producerQueue = new Queue(QUEUES.crmSync, { connection: producer, defaultJobOptions: crmSyncJobOptions() });
    try {
      const callId = 'call-three-sources';
      // 1: the worker's own record. 2: the same record left in the outbox by a timed-out enqueue.
      await new CallRecordPublisher(producerQueue, new Outbox(outboxDir), silent).publish(record(callId));
      await new Outbox(outboxDir).put(record(callId));
      // 3: the sweep, for a call whose heartbeat went quiet before it was marked ended.
      const registry = new CallRegistry(producer);
      await registry.started({ callId, room: `room-${callId}`, deployment: 'acme-dental', startedAt: new Date().toISOString() });
      crmSync = await WorkerProcess.startCrmSync(crmSyncEnv());
      await crmSync.waitForEvent('call_swept', 10_000, (l) => l.callId === callId);
      await waitUntil('the outbox to drain', () => readdirSync(outboxDir).filter((n) => n.endsWith('.json')).length === 0);
      await waitUntil('delivery', () => crm.delivered.has(callId));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect([...crm.writes.values()].filter((r) => r.callId === callId)).toHaveLength(1);
      // The worker's record won: it carries the outcome, not the sweep's placeholder.
      expect([...crm.writes.values()].find((r) => r.callId === callId)?.source).toBe('worker');
    } finally {
      await producerQueue.close();
    }
  }, 30_000);

  it('records a call whose worker died, from the sweep', async () => {
    const producer = await producerConnection();
    try {
      await new CallRegistry(producer).started({ callId: 'call-orphan', room: 'room-orphan', deployment: 'acme-dental', startedAt: new Date().toISOString() });
    } finally {
      producer.disconnect();
    }
    crmSync = await WorkerProcess.startCrmSync(crmSyncEnv());
    await waitUntil('delivery', () => crm.delivered.has('call-orphan'));
    const written = [...crm.writes.values()].find((r) => r.callId === 'call-orphan')!;
    expect(written).toMatchObject({ source: 'sweep', endReason: 'worker_lost', outcome: { disposition: 'unresolved' } });
  });

  it("keeps the recording of a call whose agent died and that was never resumed, from the sweep", async () => {
    const recordingsDir = mkdtempSync(join(tmpdir(), 'voicefleet-crm-recordings-'));
    // The dead agent's part, in its job folder, as its saved state names it.
    const part = recordedSession(toneOn('left', 2));
    const producer = await producerConnection();
    try {
      const startedAt = new Date().toISOString();
      await new CallStateStore(producer).save({
        callId: 'call-lost-recorded',
        room: 'room-lost-recorded',
        workflow: 'booking',
        metadata: '{}',
        items: [],
        turns: 1,
        resumes: 0,
        recordingParts: [recordingPart(part, Date.now() - 2000)],
        savedAt: startedAt,
      });
      await new CallRegistry(producer).started({ callId: 'call-lost-recorded', room: 'room-lost-recorded', deployment: 'acme-dental', startedAt });
    } finally {
      producer.disconnect();
    }
    try {
      crmSync = await WorkerProcess.startCrmSync(crmSyncEnv({ VOICEFLEET_RECORDINGS_DIR: recordingsDir }));
      await waitUntil('delivery', () => crm.delivered.has('call-lost-recorded'), 20_000);
      const written = [...crm.writes.values()].find((r) => r.callId === 'call-lost-recorded')!;
      expect(written).toMatchObject({ source: 'sweep', endReason: 'worker_lost', recording: { uri: expect.stringContaining('call-lost-recorded.ogg') } });
      const pcm = await decodeStereo(join(recordingsDir, 'calls', 'call-lost-recorded.ogg'));
      expect(pcm.left.length / pcm.sampleRate).toBeCloseTo(2, 1);
      expect(levels(pcm.left, pcm.sampleRate, 250)[2]).toBeGreaterThan(0.1);
      // The store has it: the part, until then the only copy, is gone from the job folder.
      expect(existsSync(part)).toBe(false);
    } finally {
      rmSync(recordingsDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('moves an unreadable outbox file aside and reports it, delivering the rest', async () => {
    const outbox = new Outbox(outboxDir);
    await outbox.put(record('call-outboxed'));
    writeFileSync(join(outboxDir, 'garbage.json'), '{"callId": 12');
    crmSync = await WorkerProcess.startCrmSync(crmSyncEnv());
    await waitUntil('delivery', () => crm.delivered.has('call-outboxed'));
    const rejected = await crmSync.waitForEvent('outbox_record_rejected', 5000);
    expect(String(rejected.reason)).toMatch(/^garbage\.json: /);
    expect(readdirSync(join(outboxDir, 'rejected'))).toEqual(['garbage.json']);
  });

  it('loses no record when Redis restarts under load: the outbox holds them until it is back', async () => {
    crmSync = await WorkerProcess.startCrmSync(crmSyncEnv());
    const producer = await producerConnection();
    const producerQueue = new Queue(QUEUES.crmSync, { connection: producer, defaultJobOptions: crmSyncJobOptions() });
    producerQueue.on('error', () => undefined);
    const publisher = new CallRecordPublisher(producerQueue, new Outbox(outboxDir), silent);
    const ids = Array.from({ length: 60 }, (_, i) => `call-load-${i}`);
    const where: Record<string, number> = { queued: 0, outbox: 0 };
    try {
      for (const [i, callId] of ids.entries()) {
        if (i === 20) await redis.stop(); // clean shutdown, AOF flushed
        if (i === 40) await startRedisServer();
        where[await publisher.publish(record(callId))]! += 1;
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      await waitUntil('every record in the CRM', () => ids.every((id) => crm.delivered.has(id)), 60_000);
    } finally {
      await producerQueue.close().catch(() => undefined);
    }
    // While Redis was down (and while the connection came back) records went to the outbox.
    expect(where.outbox).toBeGreaterThanOrEqual(15);
    expect(where.queued).toBeGreaterThanOrEqual(20);
    expect(ids.filter((id) => !crm.delivered.has(id))).toEqual([]);
    expect(crm.duplicates).toEqual([]);
  }, 90_000);

  it('takes LiveKit webhooks signed over the raw body, once per event id, and sweeps the orphaned call of a finished room early', async () => {
    const producer = await producerConnection();
    try {
      await new CallRegistry(producer).started({ callId: 'call-room-gone', room: 'room-gone', deployment: 'acme-dental', startedAt: new Date().toISOString() });
    } finally {
      producer.disconnect();
    }
    // A long stale period: without the webhook the sweep would not touch this call in this test.
    crmSync = await WorkerProcess.startCrmSync(crmSyncEnv({ VOICEFLEET_STALE_CALL_MS: '600000' }));
    await crmSync.waitForEvent('webhooks_listening', 10_000);
    const body = JSON.stringify({ event: 'room_finished', id: 'EV_test_1', createdAt: String(Math.floor(Date.now() / 1000)), room: { name: 'room-gone', sid: 'RM_1' } });
    const post = async (payload: string, secret = DEV_API_SECRET, signed = payload) => {
      const token = new AccessToken(DEV_API_KEY, secret);
      token.sha256 = createHash('sha256').update(signed).digest('base64');
      return fetch(`http://127.0.0.1:${webhookPort}/livekit/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/webhook+json', authorization: await token.toJwt() },
        body: payload,
      });
    };
    expect((await post(body)).status).toBe(200);
    expect((await post(body)).status).toBe(200); // LiveKit's retry of the same event
    expect((await post(body, 'not-the-secret-not-the-secret-0000')).status).toBe(401);
    expect((await post(body.replace('room-gone', 'room-else'), DEV_API_SECRET, body)).status).toBe(401); // body changed after signing
    // Log lines arrive a moment after the answers: wait for both rejections, then count.
    await waitUntil('two rejections logged', () => crmSync!.countEvents('webhook_rejected') === 2, 5000);
    expect(crmSync.countEvents('webhook_received')).toBe(1);
    expect(crmSync.countEvents('webhook_rejected')).toBe(2);
    await crmSync.waitForEvent('call_room_finished', 5000, (l) => l.callId === 'call-room-gone');
    // The grace period (10 s) lets the worker's own record arrive first; then the sweep writes one.
    await waitUntil('the sweep to record the call', () => crm.delivered.has('call-room-gone'), 20_000);
    expect([...crm.writes.values()].find((r) => r.callId === 'call-room-gone')?.endReason).toBe('worker_lost');
  }, 40_000);

  it('serves the queue board behind basic auth, showing dead letters with their reason', async () => {
    const boardPort = await freePort();
    crm.refuse.set('call-board', 400);
    crmSync = await WorkerProcess.startCrmSync(crmSyncEnv({ VOICEFLEET_QUEUE_UI_PORT: String(boardPort), VOICEFLEET_QUEUE_UI_PASSWORD: 'board-password-123' }));
    await crmSync.waitForEvent('queue_board_listening', 10_000);
    await queue.add('call-record', record('call-board'), { jobId: callRecordJobId('call-board') });
    await crmSync.waitForEvent('crm_dead_letter', 10_000, (l) => String(l.jobId) === callRecordJobId('call-board'));
    const base = `http://127.0.0.1:${boardPort}/queues`;
    expect((await fetch(`${base}/api/queues`)).status).toBe(401);
    expect((await fetch(`${base}/api/queues`, { headers: { authorization: `Basic ${Buffer.from('admin:wrong-password-1').toString('base64')}` } })).status).toBe(401);
    const auth = { authorization: `Basic ${Buffer.from('admin:board-password-123').toString('base64')}` };
    const page = await fetch(`${base}/`, { headers: auth });
    expect(page.status).toBe(200);
    const api = await fetch(`${base}/api/queues?activeQueue=crm-sync-dead&status=waiting&page=1`, { headers: auth });
    const body = (await api.json()) as { queues: { name: string; jobs: { data: { reason: string } }[] }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['calls', 'crm-sync', 'crm-sync-dead']);
    const dead = body.queues.find((q) => q.name === 'crm-sync-dead')!;
    expect(dead.jobs.some((j) => /HTTP 400/.test(j.data.reason))).toBe(true);
  }, 30_000);

  it('refuses to start on a Redis that may evict keys', async () => {
    const admin = new Redis(`redis://127.0.0.1:${redisPort}`);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const proc = await WorkerProcess.startCrmSync(crmSyncEnv(), { waitUntilReady: false });
      const { code } = await proc.exited;
      expect(code).toBe(2);
      expect(proc.lines.map((l) => l.msg).join('\n')).toMatch(/maxmemory-policy is "allkeys-lru"; queues need "noeviction"/);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      admin.disconnect();
    }
  });
});
