import { Queue } from 'bullmq';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ZodError } from 'zod';
import { loadConfig } from '../worker/config.js';
import { addDialJob, CALLS_QUEUE } from '../worker/dialer/dialer.js';
import { connectRedis } from '../worker/queues/redis.js';
import { progress } from './bench/results.js';

/**
 * `npm run dial`: enqueue outbound calls for the dialer.
 *
 *   npm run dial -- --to +15550100123 --workflow follow_up --deployment acme-dental-reminders \
 *     --name Ann --booking bk_1a2b3c4d --slot 2026-12-01T09:00 --tz America/New_York --hours 9-17
 *   npm run dial -- --csv campaign.csv --workflow follow_up --deployment acme-dental-reminders
 *
 * CSV columns (header row): to,name,booking,slot,tz. Each row is validated; bad rows are
 * reported with their line number and skipped, the rest are enqueued.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      to: { type: 'string' },
      csv: { type: 'string' },
      workflow: { type: 'string', default: 'follow_up' },
      deployment: { type: 'string', default: 'acme-dental-reminders' },
      name: { type: 'string' },
      booking: { type: 'string' },
      slot: { type: 'string' },
      tz: { type: 'string', default: 'America/New_York' },
      hours: { type: 'string', default: '9-17' },
      priority: { type: 'string', default: '5' },
      at: { type: 'string' },
    },
  });
  const config = loadConfig();
  const [startHour, endHour] = values.hours!.split('-').map(Number);
  const rows: Record<string, string | undefined>[] = values.csv
    ? parseCsv(readFileSync(values.csv, 'utf8'))
    : [{ to: values.to, name: values.name, booking: values.booking, slot: values.slot, tz: values.tz }];
  if (!values.csv && !values.to) throw new Error('give --to +E164 or --csv FILE');

  const redis = connectRedis(config.REDIS_URL, 'producer');
  redis.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', () => resolve());
    setTimeout(() => reject(new Error(`REDIS_URL: no Redis at ${config.REDIS_URL} within 5 s (is the fleet running?)`)), 5000).unref();
  });
  const queue = new Queue(CALLS_QUEUE, { connection: redis });
  let queued = 0;
  let duplicates = 0;
  const bad: string[] = [];
  for (const [i, row] of rows.entries()) {
    const request = {
      to: row.to,
      workflow: values.workflow,
      deployment: values.deployment,
      priority: Number(values.priority),
      context: {
        ...(row.name ? { contactName: row.name } : {}),
        ...(row.booking && row.slot ? { appointment: { bookingId: row.booking, slotId: row.slot } } : {}),
      },
      window: { timeZone: row.tz || values.tz, startHour, endHour, days: [1, 2, 3, 4, 5] },
    };
    try {
      const { jobId, duplicate } = await addDialJob(queue, request, { maxAttempts: config.VOICEFLEET_DIAL_MAX_ATTEMPTS, notBefore: values.at ? new Date(values.at) : undefined });
      if (duplicate) duplicates += 1;
      else queued += 1;
      if (!values.csv) console.log(duplicate ? `already queued for this number: job ${jobId}` : `queued: job ${jobId}`);
    } catch (error) {
      const reason = error instanceof ZodError ? error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ') : (error as Error).message;
      bad.push(`line ${i + 2}: ${reason}`);
    }
    if (values.csv) progress('dial', i + 1, rows.length);
  }
  await queue.close();
  if (values.csv) console.log(`${queued} queued, ${duplicates} already queued, ${bad.length} rejected`);
  for (const line of bad) console.error(line);
  process.exit(bad.length > 0 && queued === 0 ? 1 : 0);
}

function parseCsv(text: string): Record<string, string | undefined>[] {
  const [header, ...lines] = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const columns = header!.split(',').map((c) => c.trim());
  return lines.map((line) => {
    const cells = line.split(',').map((c) => c.trim());
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] || undefined]));
  });
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
