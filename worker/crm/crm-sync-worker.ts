import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CALLS_QUEUE } from '../dialer/dialer.js';
import { DoNotCallList, honourOptOut } from '../dialer/do-not-call.js';
import { CallHistory } from '../console/call-history.js';
import { CallRegistry } from '../queues/call-registry.js';
import { crmBackoff, crmSyncJobOptions, QUEUES } from '../queues/queues.js';
import { connectRedis } from '../queues/redis.js';
import { keepUnresumedRecording } from '../recording/call-recording.js';
import type { RecordingStore } from '../recording/recording-store.js';
import { CallStateStore } from '../supervisor/call-state.js';
import { callRecordSchema, lostCallRecord, type CallRecord } from './call-record.js';
import { PermanentDeliveryError, type CrmAdapter } from './adapters/crm-adapter.js';
import type { Outbox } from './outbox.js';
import { enqueueRecord } from './record-publisher.js';

export interface CrmSyncOptions {
  redisUrl: string;
  adapter: CrmAdapter;
  log: Logger;
  concurrency: number;
  /** A job whose worker stops renewing its lock for this long is taken up again (crash, kill -9). */
  lockDurationMs: number;
  backoff: { baseMs: number; maxDelayMs: number };
  /** Local outbox replayed into the queue while Redis is reachable. */
  outbox?: Outbox;
  /** A live call without a heartbeat for this long gets a record of its own. */
  staleCallMs: number;
  /** How often the outbox replay and the sweep run. */
  maintenanceEveryMs: number;
  /** Where a swept call's recording goes: what its dead agents recorded on this machine. */
  recordings?: RecordingStore;
}

const deliveredKey = (callId: string) => `voicefleet:crm:delivered:${callId}`;
const DELIVERED_RETENTION_S = 30 * 24 * 3600;

/**
 * The crm-sync process: takes call records off the queue and delivers each through the CRM
 * adapter, exactly once in effect. Transient failures retry with capped, jittered backoff for
 * about a day; a refusal (4xx) or an invalid record goes to the dead letters with its reason.
 * Between jobs it replays the local outbox and sweeps for calls whose worker died.
 */
export class CrmSyncWorker {
  readonly #options: CrmSyncOptions;
  readonly #redis: Redis;
  readonly #queue: Queue;
  readonly #deadLetters: Queue;
  readonly #registry: CallRegistry;
  readonly #calls: Queue;
  readonly #doNotCall: DoNotCallList;
  /** What the operator console lists as call history, with each record's delivery status. */
  readonly #history: CallHistory;
  #worker: Worker | undefined;
  #timer: NodeJS.Timeout | undefined;
  #maintaining: Promise<void> = Promise.resolve();

  constructor(options: CrmSyncOptions) {
    this.#options = options;
    this.#redis = connectRedis(options.redisUrl, 'worker');
    // Replays and sweeps are producers, but inside a process that may wait for Redis.
    this.#queue = new Queue(QUEUES.crmSync, { connection: connectRedis(options.redisUrl, 'worker'), defaultJobOptions: crmSyncJobOptions() });
    this.#deadLetters = new Queue(QUEUES.crmDeadLetter, { connection: connectRedis(options.redisUrl, 'worker') });
    this.#registry = new CallRegistry(this.#redis);
    this.#calls = new Queue(CALLS_QUEUE, { connection: this.#redis });
    this.#doNotCall = new DoNotCallList(this.#redis);
    this.#history = new CallHistory(this.#redis);
    // Connection errors while Redis restarts are expected; the connections reconnect by themselves.
    const onError = (error: Error) => options.log.debug({ event: 'redis_unavailable', error: error.message }, 'redis unavailable');
    this.#redis.on('error', onError);
    this.#queue.on('error', onError);
    this.#deadLetters.on('error', onError);
    this.#calls.on('error', onError);
  }

  get queue(): Queue {
    return this.#queue;
  }

  start(): void {
    const { log, adapter, backoff } = this.#options;
    this.#worker = new Worker(QUEUES.crmSync, (job) => this.#process(job), {
      connection: connectRedis(this.#options.redisUrl, 'worker'),
      concurrency: this.#options.concurrency,
      lockDuration: this.#options.lockDurationMs,
      stalledInterval: Math.max(1000, Math.floor(this.#options.lockDurationMs / 2)),
      // A job that stalls repeatedly (a record that crashes the process) is failed, not looped.
      maxStalledCount: 3,
      settings: { backoffStrategy: (attemptsMade) => crmBackoff(attemptsMade, backoff) },
    });
    this.#worker.on('failed', (job, error) => void this.#onFailed(job, error));
    this.#worker.on('error', (error) => log.error({ event: 'crm_worker_error', error: error.message }, 'crm-sync worker error'));
    this.#timer = setInterval(() => {
      this.#maintaining = this.#maintaining.then(() => this.maintain());
    }, this.#options.maintenanceEveryMs);
    log.info({ event: 'crm_sync_started', adapter: adapter.name, concurrency: this.#options.concurrency }, 'crm-sync worker started');
  }

  async #process(job: Job): Promise<{ ref?: string; skipped?: string }> {
    const parsed = callRecordSchema.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(`invalid call record: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    const record = parsed.data;
    // A delivery whose answer was lost (killed mid-request) may be re-run: the adapter's
    // idempotency makes that harmless, and this marker makes it rare.
    if (await this.#redis.exists(deliveredKey(record.callId))) return { skipped: 'already delivered' };
    const log = this.#options.log.child({ callId: record.callId });
    await this.#history.arrived(record).catch((e: Error) => log.warn({ event: 'call_history_failed', error: e.message }, 'call history not written'));
    // An opt-out takes effect at once, whatever the CRM does: the dialer must not call again.
    await honourOptOut(record, this.#calls, this.#doNotCall, log);
    try {
      const result = await this.#options.adapter.deliver(record, record.callId);
      await this.#redis.set(deliveredKey(record.callId), JSON.stringify({ at: new Date().toISOString(), ref: result.ref }), 'EX', DELIVERED_RETENTION_S);
      await this.#history.delivery(record.callId, 'delivered', job.attemptsMade + 1).catch(() => undefined);
      log.info({ event: 'crm_delivered', adapter: this.#options.adapter.name, attempt: job.attemptsMade + 1, source: record.source }, 'call record delivered to the CRM');
      return result;
    } catch (error) {
      if (error instanceof PermanentDeliveryError) throw new UnrecoverableError(error.message);
      await this.#history.delivery(record.callId, 'retrying', job.attemptsMade + 1, (error as Error).message).catch(() => undefined);
      log.warn({ event: 'crm_delivery_failed', attempt: job.attemptsMade + 1, error: (error as Error).message }, 'CRM delivery failed, will retry');
      throw error;
    }
  }

  async #onFailed(job: Job | undefined, error: Error): Promise<void> {
    if (!job) return;
    const final = error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    // The failed set keeps the job too; the dead-letter queue is where operators look. The line
    // saying it moved comes once it has, so whoever reads the log finds it there.
    await this.#deadLetters
      .add('dead-call-record', { jobId: job.id, reason: error.message, attempts: job.attemptsMade, record: job.data as unknown }, { jobId: job.id, removeOnComplete: false })
      .catch((e: Error) => this.#options.log.error({ event: 'dead_letter_failed', error: e.message }, 'could not record the dead letter'));
    this.#options.log.error(
      { event: 'crm_dead_letter', jobId: job.id, attempts: job.attemptsMade, reason: error.message },
      'call record moved to the dead letters',
    );
    const callId = (job.data as { callId?: unknown }).callId;
    if (typeof callId === 'string') await this.#history.delivery(callId, 'dead_lettered', job.attemptsMade, error.message).catch(() => undefined);
  }

  /** Outbox replay, then the sweep for calls whose worker died. Safe to run any time. */
  async maintain(): Promise<void> {
    const { log, outbox } = this.#options;
    if (outbox) {
      try {
        const { replayed, invalid } = await outbox.replay((record) => enqueueRecord(this.#queue, record));
        if (replayed > 0) log.info({ event: 'outbox_replayed', replayed }, 'outbox records queued');
        for (const reason of invalid) log.error({ event: 'outbox_record_rejected', reason }, 'outbox record is not a valid call record; moved to rejected/');
      } catch (error) {
        log.warn({ event: 'outbox_replay_paused', error: (error as Error).message }, 'outbox replay paused');
      }
    }
    try {
      for (const call of await this.#registry.stale(this.#options.staleCallMs)) {
        if (!(await this.#registry.claimStale(call.callId))) continue;
        const recording = await this.#keepLostRecording(call.callId);
        const record: CallRecord = { ...lostCallRecord(call), recording: recording ? { uri: recording } : null };
        // Same job id as the worker's own record: if that one made it after all, this is a no-op.
        await enqueueRecord(this.#queue, record, 10_000);
        log.warn({ event: 'call_swept', callId: call.callId, lastSeenAt: call.lastSeenAt }, 'call lost its worker; record queued by the sweep');
      }
    } catch (error) {
      log.warn({ event: 'sweep_paused', error: (error as Error).message }, 'sweep paused');
    }
  }

  /** The recording of a call that lost its agent and was never resumed: its parts are the only copy. */
  async #keepLostRecording(callId: string): Promise<string | undefined> {
    const { recordings, log } = this.#options;
    if (!recordings) return undefined;
    const state = await new CallStateStore(this.#redis).load(callId).catch(() => undefined);
    if (!state?.recordingParts.length) return undefined;
    return keepUnresumedRecording({ store: recordings, callId, parts: state.recordingParts, log: log.child({ callId }) });
  }

  /** Stops taking jobs, lets the running ones finish, and closes every connection. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#maintaining;
    await this.#worker?.close();
    await this.#queue.close();
    await this.#deadLetters.close();
    await this.#calls.close();
    this.#redis.disconnect();
  }
}

