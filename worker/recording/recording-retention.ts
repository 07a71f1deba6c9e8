import type { Logger } from 'pino';
import type { RecordingStore } from './recording-store.js';

const DAY_MS = 86_400_000;
export const RETENTION_SWEEP_EVERY_MS = 3_600_000;

/** Deletes the recordings older than the retention period; the call ids it deleted. */
export async function sweepRecordings(store: RecordingStore, retentionDays: number, now = Date.now()): Promise<string[]> {
  return store.sweep(new Date(now - retentionDays * DAY_MS));
}

/**
 * Runs the retention sweep now and then every hour, for crm-sync. A failed sweep is logged and
 * tried again at the next tick; it never stops the process.
 */
export function startRecordingRetention(args: { store: RecordingStore; retentionDays: number; log: Logger; everyMs?: number }): { stop: () => void } {
  const run = async () => {
    try {
      const swept = await sweepRecordings(args.store, args.retentionDays);
      if (swept.length > 0) args.log.info({ event: 'recordings_swept', count: swept.length, retentionDays: args.retentionDays }, 'recordings past retention deleted');
    } catch (error) {
      args.log.error({ event: 'recordings_sweep_failed', error: (error as Error).message }, 'recording retention sweep failed');
    }
  };
  void run();
  const timer = setInterval(() => void run(), args.everyMs ?? RETENTION_SWEEP_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
