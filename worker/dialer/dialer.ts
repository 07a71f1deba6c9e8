import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { maskPhoneNumber } from '../log.js';
import { connectRedis } from '../queues/redis.js';
import type { CallPlacer } from './call-placer.js';
import { allowed, inWindow, nextWindowStart, retryDelayMs } from './dial-policy.js';
import { dialRequestSchema, type DialOutcome, type DialRequest } from './dial-request.js';
import { DoNotCallList } from './do-not-call.js';

export const CALLS_QUEUE = 'calls';

export interface DialerOptions {
  redisUrl: string;
  placer: CallPlacer;
  log: Logger;
  /** Calls placed at once: at most the fleet's free call slots. */
  concurrency: number;
  /** The trunk's rate: at most `max` calls started per `windowMs` (60 s unless given). */
  rate: { max: number; windowMs?: number };
  /** E.164 prefixes the dialer may call. */
  allowPrefixes: readonly string[];
  maxAttempts: number;
  /** Delay after the first busy / no answer; later retries wait 4x longer each. */
  retryBaseMs: number;
  now?: () => Date;
}

/** The result a finished dial job keeps. */
export interface DialResult {
  result: DialOutcome | 'blocked_dnc' | 'blocked_not_allowed';
  attempts: number;
}

class DialRetry extends Error {
  override name = 'DialRetry';
  constructor(readonly outcome: DialOutcome) {
    super(`call ${outcome}`);
  }
}

/**
 * The durable outbound dialer. Jobs wait in Redis for their calling window (callee's time zone),
 * are checked against the do-not-call list and the allow-list right before dialing, run at most
 * one per number at a time (deduplicated by number), within the trunk's rate and the fleet's
 * capacity, and are retried according to how the call went.
 */
export class Dialer {
  readonly queue: Queue;
  readonly #options: DialerOptions;
  readonly #redis: Redis;
  readonly #doNotCall: DoNotCallList;
  #worker: Worker | undefined;

  constructor(options: DialerOptions) {
    this.#options = options;
    this.#redis = connectRedis(options.redisUrl, 'worker');
    this.#doNotCall = new DoNotCallList(this.#redis);
    this.queue = new Queue(CALLS_QUEUE, { connection: connectRedis(options.redisUrl, 'worker') });
    const onError = (error: Error) => options.log.debug({ event: 'redis_unavailable', error: error.message }, 'redis unavailable');
    this.#redis.on('error', onError);
    this.queue.on('error', onError);
  }

  /** Enqueues one call; a number with a call already waiting or live is not enqueued again. */
  dial(input: unknown, options: { notBefore?: Date } = {}): Promise<{ jobId: string; duplicate: boolean }> {
    return addDialJob(this.queue, input, { ...options, maxAttempts: this.#options.maxAttempts, now: this.#now() });
  }

  async cancel(jobId: string): Promise<boolean> {
    const job = await this.queue.getJob(jobId);
    if (!job || (await job.isActive())) return false;
    await job.remove();
    return true;
  }

  async doNotCall(number: string): Promise<void> {
    await this.#doNotCall.add(number);
  }

  start(): void {
    this.#worker = new Worker(CALLS_QUEUE, (job, token) => this.#process(job, token), {
      connection: connectRedis(this.#options.redisUrl, 'worker'),
      concurrency: this.#options.concurrency,
      limiter: { max: this.#options.rate.max, duration: this.#options.rate.windowMs ?? 60_000 },
      settings: {
        backoffStrategy: (attemptsMade, _type, error) =>
          retryDelayMs(error instanceof DialRetry ? error.outcome : 'failed', attemptsMade, this.#options.retryBaseMs) ?? 0,
      },
    });
    this.#worker.on('error', (error) => this.#options.log.error({ event: 'dialer_error', error: error.message }, 'dialer error'));
    this.#worker.on('failed', (job, error) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        this.#options.log.warn({ event: 'dial_gave_up', jobId: job.id, attempts: job.attemptsMade, reason: error.message }, 'no more attempts for this call');
      }
    });
  }

  async #process(job: Job, token?: string): Promise<DialResult> {
    const parsed = dialRequestSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid dial request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const request: DialRequest = parsed.data;
    const log = this.#options.log.child({ jobId: job.id, to: maskPhoneNumber(request.to) });
    const attempts = job.attemptsMade + 1;
    // Checked right before dialing, not at enqueue: a number may join the list while it waits.
    if (await this.#doNotCall.has(request.to)) {
      log.info({ event: 'dial_blocked', reason: 'do_not_call' }, 'number is on the do-not-call list');
      return { result: 'blocked_dnc', attempts };
    }
    if (!allowed(request.to, this.#options.allowPrefixes)) {
      log.warn({ event: 'dial_blocked', reason: 'not_allowed' }, 'number is outside the allowed prefixes');
      return { result: 'blocked_not_allowed', attempts };
    }
    const now = this.#now();
    if (!inWindow(now, request.window)) {
      const next = nextWindowStart(now, request.window);
      if (!next) throw new UnrecoverableError('the calling window never opens');
      log.info({ event: 'dial_deferred', until: next.toISOString() }, 'outside the calling window');
      await job.moveToDelayed(next.getTime(), token);
      throw new DelayedError();
    }
    log.info({ event: 'dial_started', attempt: attempts, workflow: request.workflow }, 'placing call');
    const outcome = await this.#options.placer.place(request, `${job.id}-${attempts}`);
    log.info({ event: 'dial_finished', attempt: attempts, outcome }, 'call placed');
    if (retryDelayMs(outcome, attempts, this.#options.retryBaseMs) === undefined) return { result: outcome, attempts };
    throw new DialRetry(outcome);
  }

  #now(): Date {
    return (this.#options.now ?? (() => new Date()))();
  }

  async close(): Promise<void> {
    await this.#worker?.close();
    await this.queue.close();
    this.#redis.disconnect();
  }
}

/** Adds a validated dial job (used by the dialer and by `npm run dial`, which only enqueues). */
export async function addDialJob(
  queue: Queue,
  input: unknown,
  options: { notBefore?: Date; maxAttempts: number; now?: Date },
): Promise<{ jobId: string; duplicate: boolean }> {
  const request = dialRequestSchema.parse(input);
  const dedupeKey = `to-${request.to}`;
  const before = await queue.getDeduplicationJobId(dedupeKey);
  const now = options.now ?? new Date();
  const delay = options.notBefore ? Math.max(0, options.notBefore.getTime() - now.getTime()) : 0;
  const job = await queue.add('dial', request, {
    priority: request.priority,
    delay,
    attempts: options.maxAttempts,
    backoff: { type: 'dial-outcome' },
    // One live call per number: a second request while the first waits or runs is dropped.
    deduplication: { id: dedupeKey },
    removeOnComplete: { age: 30 * 24 * 3600 },
    removeOnFail: false,
  });
  // A deduplicated add hands back the job already holding the number.
  return { jobId: job.id!, duplicate: before !== null && before !== undefined && job.id === before };
}

/** When a repeating call recurs: every so many ms, or a cron pattern in a time zone. */
export type DialRepeat = { everyMs: number } | { cron: string; timeZone: string };

/**
 * A call that recurs (a weekly check-in, a monthly reminder) through BullMQ's job scheduler: one
 * dial job per occurrence, each then held to the calling window, the do-not-call list (an opt-out
 * stops the rest) and retries like any other. Upserting the same id replaces the schedule.
 */
export async function scheduleRepeatingDial(
  queue: Queue,
  schedulerId: string,
  input: unknown,
  repeat: DialRepeat,
  options: { maxAttempts: number; limit?: number },
): Promise<void> {
  const request = dialRequestSchema.parse(input);
  await queue.upsertJobScheduler(
    schedulerId,
    'everyMs' in repeat ? { every: repeat.everyMs, limit: options.limit } : { pattern: repeat.cron, tz: repeat.timeZone, limit: options.limit },
    {
      name: 'dial',
      data: request,
      opts: { priority: request.priority, attempts: options.maxAttempts, backoff: { type: 'dial-outcome' }, removeOnComplete: { age: 30 * 24 * 3600 }, removeOnFail: false },
    },
  );
}

export async function stopRepeatingDial(queue: Queue, schedulerId: string): Promise<boolean> {
  return queue.removeJobScheduler(schedulerId);
}
