import { Queue } from 'bullmq';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ZodError } from 'zod';
import { loadConfig } from '../worker/config.js';
import { addDialJob, CALLS_QUEUE, type DialRepeat, scheduleRepeatingDial, stopRepeatingDial } from '../worker/dialer/dialer.js';
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
 *
 * Repeating calls (one number): `--every 7d` (or 12h, 30m) or `--cron "0 10 * * 1"` (in --tz),
 * optionally `--times 4`, under `--repeat-id ID` (default: the number); `--stop-repeat ID` ends one.
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
      every: { type: 'string' },
      cron: { type: 'string' },
      times: { type: 'string' },
      'repeat-id': { type: 'string' },
      'stop-repeat': { type: 'string' },
    },
  });
  const config = loadConfig();
  const [startHour, endHour] = values.hours!.split('-').map(Number);
  const requestFor = (row: Record<string, string | undefined>) => ({
    to: row.to,
    workflow: values.workflow,
    deployment: values.deployment,
    priority: Number(values.priority),
    context: {
      ...(row.name ? { contactName: row.name } : {}),
      ...(row.booking && row.slot ? { appointment: { bookingId: row.booking, slotId: row.slot } } : {}),
    },
    window: { timeZone: row.tz || values.tz, startHour, endHour, days: [1, 2, 3, 4, 5] },
  });
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
  if (values['stop-repeat']) {
    const stopped = await stopRepeatingDial(queue, values['stop-repeat']);
    console.log(stopped ? `stopped repeating calls ${values['stop-repeat']}` : `no repeating calls named ${values['stop-repeat']}`);
    await queue.close();
    process.exit(stopped ? 0 : 1);
  }
  if (values.every || values.cron) {
    if (values.csv) throw new Error('--every/--cron repeat one number: give --to, not --csv');
    const repeat: DialRepeat = values.every ? { everyMs: parseInterval(values.every) } : { cron: values.cron!, timeZone: rows[0]!.tz || values.tz! };
    const id = values['repeat-id'] ?? `repeat-${rows[0]!.to}`;
    await scheduleRepeatingDial(queue, id, requestFor(rows[0]!), repeat, { maxAttempts: config.VOICEFLEET_DIAL_MAX_ATTEMPTS, limit: values.times ? Number(values.times) : undefined });
    console.log(`repeating calls scheduled as ${id} (stop with --stop-repeat ${id})`);
    await queue.close();
    process.exit(0);
  }
  let queued = 0;
  let duplicates = 0;
  const bad: string[] = [];
  for (const [i, row] of rows.entries()) {
    const request = requestFor(row);
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

/** "7d", "12h", "30m", "45s" -> ms. */
function parseInterval(text: string): number {
  const match = /^(\d+)\s*(d|h|m|s)$/.exec(text.trim());
  if (!match) throw new Error(`--every: "${text}" is not an interval such as 7d, 12h or 30m`);
  return Number(match[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[match[2] as 'd' | 'h' | 'm' | 's'];
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
