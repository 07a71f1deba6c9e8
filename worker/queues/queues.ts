import type { DefaultJobOptions } from 'bullmq';

/**
 * Every queue voicefleet uses, and how its jobs are retried. Payload schemas live with their
 * owners (worker/crm/call-record.ts) and are validated by producer and consumer alike.
 */
export const QUEUES = {
  /** Call records on their way to the CRM. Job id: `call-<callId>`, so a call is queued once. */
  crmSync: 'crm-sync',
  /** Records the CRM refused for good (4xx) or that never validated, kept with the reason. */
  crmDeadLetter: 'crm-sync-dead',
} as const;

/** Custom backoff name: exponential with full jitter and a ceiling, see crmBackoff. */
export const CRM_BACKOFF = 'capped-exponential-jitter';

/**
 * A CRM that answers 500 for an hour must still get the record: retries continue for about a
 * day, never more than `maxDelayMs` apart, jittered so that a fleet does not retry in step.
 */
export function crmSyncJobOptions(): DefaultJobOptions {
  return {
    attempts: 300,
    backoff: { type: CRM_BACKOFF },
    removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 },
    // Failed jobs stay until someone looks at them.
    removeOnFail: false,
  };
}

export function crmBackoff(attemptsMade: number, options: { baseMs: number; maxDelayMs: number }): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseMs * 2 ** Math.max(0, attemptsMade - 1));
  // Half fixed, half random: never immediate, never in lockstep.
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export function callRecordJobId(callId: string): string {
  // BullMQ refuses ':' in custom ids and integer-looking ids; the prefix rules out both.
  return `call-${callId.replace(/:/g, '_')}`;
}
