import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CallRecord } from '../crm/call-record.js';
import { maskPhoneNumber } from '../log.js';

const DNC_KEY = 'voicefleet:dnc';
/** Rooms of outbound calls are named by the dial job and attempt that placed them (call-placer.ts). */
const OUTBOUND_ROOM = /^out-(.+)-(\d+)$/;

/** Numbers the dialer must never call, checked right before each dial. */
export class DoNotCallList {
  constructor(private readonly redis: Redis) {}

  async add(number: string): Promise<void> {
    await this.redis.sadd(DNC_KEY, number);
  }

  async has(number: string): Promise<boolean> {
    return (await this.redis.sismember(DNC_KEY, number)) === 1;
  }
}

/**
 * A callee who opted out on a follow-up call goes on the do-not-call list. Call records carry only
 * masked numbers, so the number comes from the dial job that placed the call, found by the room's
 * name. Run by crm-sync for every record before delivery: records are never lost, so neither is an
 * opt-out, and the list takes it at once even while the CRM is down. Returns the masked number added.
 */
export async function honourOptOut(record: CallRecord, calls: Queue, list: DoNotCallList, log: Logger): Promise<string | undefined> {
  if (record.outcome.followUp?.appointment !== 'opted_out') return undefined;
  const jobId = OUTBOUND_ROOM.exec(record.room)?.[1];
  const job = jobId ? await calls.getJob(jobId) : undefined;
  const to = typeof job?.data?.to === 'string' ? (job.data.to as string) : undefined;
  if (!to) {
    log.warn({ event: 'opt_out_number_unknown', room: record.room }, 'callee opted out, but no dial job names their number: add it to the do-not-call list by hand');
    return undefined;
  }
  await list.add(to);
  log.info({ event: 'opt_out_recorded', to: maskPhoneNumber(to) }, 'callee opted out, number added to the do-not-call list');
  return maskPhoneNumber(to);
}
