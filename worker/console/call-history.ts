import type { Redis } from 'ioredis';
import { z } from 'zod';
import { callRecordSchema, type CallRecord } from '../crm/call-record.js';

/** Kept as long as the crm-sync "delivered" markers: a month. */
const RETENTION_S = 30 * 24 * 3600;
/** The console lists the newest calls; older ones drop off the index (and expire). */
const MAX_CALLS = 2000;
const INDEX = 'voicefleet:history';
const entryKey = (callId: string) => `voicefleet:history:${callId}`;

export const DELIVERY_STATUSES = ['queued', 'delivered', 'retrying', 'dead_lettered'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const historyEntrySchema = z.object({
  record: callRecordSchema,
  delivery: z.object({
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int().nonnegative(),
    at: z.string(),
    /** Why the last attempt failed (CRM's answer); never a secret. */
    reason: z.string().max(500).optional(),
  }),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/**
 * Ended calls as the operator console shows them: the call record crm-sync received, and where
 * its CRM delivery stands. Written by the crm-sync worker; capped and expiring like the records.
 */
export class CallHistory {
  constructor(private readonly redis: Redis) {}

  /** A record arrived; a record seen before keeps its delivery status. */
  async arrived(record: CallRecord): Promise<void> {
    const existing = await this.get(record.callId);
    const entry: HistoryEntry = {
      record,
      delivery: existing?.delivery ?? { status: 'queued', attempts: 0, at: new Date().toISOString() },
    };
    await this.redis
      .multi()
      .set(entryKey(record.callId), JSON.stringify(entry), 'EX', RETENTION_S)
      .zadd(INDEX, Date.parse(record.endedAt) || Date.now(), record.callId)
      .zremrangebyrank(INDEX, 0, -MAX_CALLS - 1)
      .exec();
  }

  async delivery(callId: string, status: DeliveryStatus, attempts: number, reason?: string): Promise<void> {
    const entry = await this.get(callId);
    if (!entry) return;
    entry.delivery = { status, attempts, at: new Date().toISOString(), ...(reason ? { reason: reason.slice(0, 500) } : {}) };
    await this.redis.set(entryKey(callId), JSON.stringify(entry), 'EX', RETENTION_S);
  }

  async get(callId: string): Promise<HistoryEntry | undefined> {
    const raw = await this.redis.get(entryKey(callId));
    if (!raw) return undefined;
    const parsed = historyEntrySchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  /** Newest first. */
  async list(limit = 50): Promise<HistoryEntry[]> {
    const ids = await this.redis.zrevrange(INDEX, 0, limit - 1);
    const entries = await Promise.all(ids.map((id) => this.get(id)));
    return entries.filter((e): e is HistoryEntry => e !== undefined);
  }
}
