import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { callRecordJobId } from '../queues/queues.js';
import { callRecordSchema, type CallRecord } from './call-record.js';
import type { Outbox } from './outbox.js';

/** How long a call's end may wait for Redis before the record goes to the outbox instead. */
const ENQUEUE_TIMEOUT_MS = 3000;

/**
 * Where a call record starts its way to the CRM: into the crm-sync queue, or, when Redis cannot
 * take it right now, into the local outbox, from which it is replayed. Either way it is durable
 * before this returns.
 */
export class CallRecordPublisher {
  constructor(
    private readonly queue: Queue,
    private readonly outbox: Outbox,
    private readonly log: Logger,
  ) {}

  async publish(record: CallRecord): Promise<'queued' | 'outbox'> {
    // A record this process cannot describe correctly is a bug here, not the CRM's problem: it
    // is kept (outbox, rejected on replay) and reported, never sent.
    const checked = callRecordSchema.safeParse(record);
    if (!checked.success) {
      this.log.error({ event: 'call_record_invalid', issues: checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, 'call record invalid');
      await this.outbox.put(record);
      return 'outbox';
    }
    try {
      await enqueueRecord(this.queue, checked.data, ENQUEUE_TIMEOUT_MS);
      this.log.info({ event: 'call_record_queued', disposition: record.outcome.disposition }, 'call record queued for CRM sync');
      return 'queued';
    } catch (error) {
      const path = await this.outbox.put(checked.data);
      this.log.warn({ event: 'call_record_outboxed', error: (error as Error).message, path }, 'Redis unavailable, call record kept in the outbox');
      return 'outbox';
    }
  }
}

/** Adds a record under its call's job id: adding the same call again is a no-op. */
export async function enqueueRecord(queue: Queue, record: CallRecord, timeoutMs = ENQUEUE_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not take the record within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([queue.add('call-record', record, { jobId: callRecordJobId(record.callId) }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
