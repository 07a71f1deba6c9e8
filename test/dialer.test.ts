import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedProcess } from '../scripts/fleet/managed-process.js';
import { freePort, startRedis } from '../scripts/fleet/servers.js';
import type { CallPlacer } from '../worker/dialer/call-placer.js';
import { nextWindowStart } from '../worker/dialer/dial-policy.js';
import type { DialOutcome, DialRequest } from '../worker/dialer/dial-request.js';
import { Dialer, type DialResult, scheduleRepeatingDial, stopRepeatingDial } from '../worker/dialer/dialer.js';
import { DoNotCallList } from '../worker/dialer/do-not-call.js';
import { CrmSyncWorker } from '../worker/crm/crm-sync-worker.js';
import { enqueueRecord } from '../worker/crm/record-publisher.js';
import { sampleCallRecord } from './support/call-records.js';

/**
 * The outbound dialer's rules against a real redis-server and BullMQ. Placing the call itself is
 * livekit-sip's job, which cannot be built here (issue 3); a scripted placer stands at that
 * boundary and answers as a trunk would (answered, busy, no answer, invalid number).
 */
class ScriptedTrunk implements CallPlacer {
  readonly placed: { to: string; at: number; workflow: string; context: DialRequest['context']; callRef: string }[] = [];
  /** Outcomes per number, in order; the last one repeats. */
  readonly script = new Map<string, DialOutcome[]>();
  holdMs = 0;

  async place(request: DialRequest, callRef: string): Promise<DialOutcome> {
    this.placed.push({ to: request.to, at: Date.now(), workflow: request.workflow, context: request.context, callRef });
    if (this.holdMs) await new Promise((resolve) => setTimeout(resolve, this.holdMs));
    const outcomes = this.script.get(request.to) ?? ['answered'];
    return outcomes.length > 1 ? outcomes.shift()! : outcomes[0]!;
  }
}

/** Always open: every day, all day, in the callee's zone. */
const ALWAYS = { timeZone: 'America/New_York', startHour: 0, endHour: 24, days: [0, 1, 2, 3, 4, 5, 6] };

function request(to: string, overrides: Partial<DialRequest> = {}): DialRequest {
  return {
    to,
    deployment: 'acme-dental-reminders',
    workflow: 'follow_up',
    context: { contactName: 'Ann', appointment: { bookingId: 'bk_1a2b3c4d', slotId: '2026-12-01T09:00' } },
    window: ALWAYS,
    priority: 5,
    ...overrides,
  };
}

describe('outbound dialer', () => {
  let redis: ManagedProcess;
  let dir: string;
  let port: number;
  let dialer: Dialer | undefined;
  let trunk: ScriptedTrunk;

  beforeAll(async () => {
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-dialer-'));
    redis = await startRedis({ port, dataDir: dir, onLine: () => undefined });
  });
  afterAll(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await dialer?.queue.obliterate({ force: true });
    await dialer?.close();
    dialer = undefined;
  });

  function start(overrides: Partial<ConstructorParameters<typeof Dialer>[0]> = {}): Dialer {
    trunk = new ScriptedTrunk();
    dialer = new Dialer({
      redisUrl: `redis://127.0.0.1:${port}`,
      placer: trunk,
      log: pino({ level: 'silent' }),
      concurrency: 4,
      rate: { max: 100, windowMs: 1000 },
      allowPrefixes: ['+1'],
      maxAttempts: 3,
      retryBaseMs: 100,
      ...overrides,
    });
    dialer.start();
    return dialer;
  }

  async function finished(jobId: string, timeoutMs = 15_000): Promise<{ state: string; result?: DialResult; reason?: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await dialer!.queue.getJob(jobId);
      const state = job ? await job.getState() : 'missing';
      if (state === 'completed' || state === 'failed') {
        // Read again: the job fetched before it finished has no result yet.
        const done = (await dialer!.queue.getJob(jobId))!;
        return { state, result: done.returnvalue as DialResult, reason: done.failedReason };
      }
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${state}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('never dials again a callee who opted out on a follow-up call (through crm-sync, even with the CRM failing)', async () => {
    const d = start();
    const { jobId } = await d.dial(request('+15550000077'));
    expect((await finished(jobId)).result).toMatchObject({ result: 'answered' });
    // The follow-up call's record reaches crm-sync; the CRM itself is down.
    const crm = new CrmSyncWorker({
      redisUrl: `redis://127.0.0.1:${port}`,
      adapter: { name: 'down', deliver: async () => Promise.reject(new Error('503 from the CRM')) },
      log: pino({ level: 'silent' }),
      concurrency: 1,
      lockDurationMs: 5000,
      backoff: { baseMs: 60_000, maxDelayMs: 60_000 },
      staleCallMs: 60_000,
      maintenanceEveryMs: 60_000,
    });
    crm.start();
    const lookup = new Redis(`redis://127.0.0.1:${port}`);
    try {
      const record = sampleCallRecord('opt-out-1', {
        room: `out-${trunk.placed[0]!.callRef}`,
        direction: 'outbound',
        outcome: { workflows: ['follow_up'], disposition: 'resolved', intents: ['opt_out'], followUp: { appointment: 'opted_out' } },
      });
      await enqueueRecord(crm.queue, record);
      const deadline = Date.now() + 10_000;
      while (!(await new DoNotCallList(lookup).has('+15550000077'))) {
        if (Date.now() > deadline) throw new Error('the opt-out never reached the do-not-call list');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      lookup.disconnect();
      await crm.queue.obliterate({ force: true });
      await crm.close();
    }
    const again = await d.dial(request('+15550000077'));
    expect((await finished(again.jobId)).result).toMatchObject({ result: 'blocked_dnc' });
    expect(trunk.placed).toHaveLength(1);
  });

  it('repeats a scheduled follow-up until the callee opts out, and stops when the schedule is removed', async () => {
    const d = start();
    const to = '+15550000055';
    await scheduleRepeatingDial(d.queue, 'check-in-ann', request(to), { everyMs: 300 }, { maxAttempts: 1 });
    const placedTo = () => trunk.placed.filter((p) => p.to === to).length;
    const deadline = Date.now() + 10_000;
    while (placedTo() < 3) {
      if (Date.now() > deadline) throw new Error(`only ${placedTo()} repeats placed`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The callee opts out: the schedule keeps producing jobs, and each is blocked before dialing.
    await d.doNotCall(to);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const placedBefore = placedTo();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(placedTo()).toBe(placedBefore);
    const blocked = (await d.queue.getJobs(['completed'])).filter((j) => (j.returnvalue as DialResult | undefined)?.result === 'blocked_dnc');
    expect(blocked.length).toBeGreaterThan(0);
    expect(await stopRepeatingDial(d.queue, 'check-in-ann')).toBe(true);
    expect(await d.queue.getJobSchedulers()).toEqual([]);
  });

  it('places a call with its workflow and context, and is done when it is answered', async () => {
    const d = start();
    const { jobId } = await d.dial(request('+15550000001'));
    const done = await finished(jobId);
    expect(done, JSON.stringify(done)).toMatchObject({ state: 'completed', result: { result: 'answered', attempts: 1 } });
    expect(trunk.placed).toEqual([expect.objectContaining({ to: '+15550000001', workflow: 'follow_up', context: expect.objectContaining({ contactName: 'Ann' }) })]);
  });

  it('retries busy and no answer with growing delays, then stops when answered', async () => {
    const d = start();
    trunk.script.set('+15550000002', ['busy', 'no_answer', 'answered']);
    const { jobId } = await d.dial(request('+15550000002'));
    expect(await finished(jobId)).toMatchObject({ state: 'completed', result: { result: 'answered', attempts: 3 } });
    const [a, b, c] = trunk.placed.map((p) => p.at);
    expect(b! - a!).toBeGreaterThanOrEqual(90); // base delay 100 ms
    expect(c! - b!).toBeGreaterThanOrEqual(380); // then 4x
  });

  it('gives up after the last attempt, and never retries an invalid number', async () => {
    const d = start();
    trunk.script.set('+15550000003', ['voicemail']);
    trunk.script.set('+15550000004', ['invalid_number']);
    const gaveUp = await d.dial(request('+15550000003'));
    const invalid = await d.dial(request('+15550000004'));
    expect(await finished(gaveUp.jobId)).toMatchObject({ state: 'failed', reason: 'call voicemail' });
    expect(await finished(invalid.jobId)).toMatchObject({ state: 'completed', result: { result: 'invalid_number' } });
    expect(trunk.placed.filter((p) => p.to === '+15550000003')).toHaveLength(3);
    expect(trunk.placed.filter((p) => p.to === '+15550000004')).toHaveLength(1);
  });

  it('checks the do-not-call list and the allow-list right before dialing', async () => {
    const d = start();
    await d.doNotCall('+15550000005');
    const dnc = await d.dial(request('+15550000005'));
    const abroad = await d.dial(request('+445550000006'));
    const dncResult = await finished(dnc.jobId);
    expect(dncResult, JSON.stringify(dncResult)).toMatchObject({ result: { result: 'blocked_dnc' } });
    expect(await finished(abroad.jobId)).toMatchObject({ result: { result: 'blocked_not_allowed' } });
    expect(trunk.placed).toEqual([]);
  });

  it('keeps one live call per number: a second request while the first is waiting or running is dropped', async () => {
    const d = start();
    trunk.holdMs = 500;
    const first = await d.dial(request('+15550000007'));
    const second = await d.dial(request('+15550000007'));
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    await finished(first.jobId);
    expect(trunk.placed.filter((p) => p.to === '+15550000007')).toHaveLength(1);
    // Once it is over, the number can be called again.
    const later = await d.dial(request('+15550000007'));
    expect(later.duplicate).toBe(false);
  });

  it("holds the trunk's rate: 6 calls at 2 per second take over 2 seconds", async () => {
    const d = start({ rate: { max: 2, windowMs: 1000 } });
    const jobs = await Promise.all(Array.from({ length: 6 }, (_, i) => d.dial(request(`+1555000010${i}`))));
    for (const { jobId } of jobs) await finished(jobId);
    const times = trunk.placed.map((p) => p.at).sort((a, b) => a - b);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(1900);
    // BullMQ's limiter counts in fixed 1-second windows: 2 at the end of one window and 2 at the
    // start of the next may fall close together, but no window starts a third, so any five starts
    // cover three windows: more than a whole second.
    for (let i = 4; i < times.length; i++) expect(times[i]! - times[i - 4]!).toBeGreaterThanOrEqual(900);
  });

  it("waits for the callee's calling window instead of dialing outside it", async () => {
    const d = start();
    // A window that is closed now in the callee's zone: the hour after the current one, today only.
    const hour = Number(new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Tokyo', hour: 'numeric', hourCycle: 'h23' }).format(new Date()));
    const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Tokyo', weekday: 'short' }).format(new Date()));
    const window = { timeZone: 'Asia/Tokyo', startHour: (hour + 2) % 24, endHour: ((hour + 2) % 24) + 1, days: [day] };
    const { jobId } = await d.dial(request('+15550000008', { window }));
    const deadline = Date.now() + 10_000;
    let job = await d.queue.getJob(jobId);
    while ((await job!.getState()) !== 'delayed' || trunk.placed.length > 0) {
      if (Date.now() > deadline) throw new Error('job was not deferred');
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await d.queue.getJob(jobId);
    }
    const expected = nextWindowStart(new Date(), window)!.getTime();
    expect(Math.abs(job!.timestamp + job!.delay - expected)).toBeLessThan(60_000);
    expect(trunk.placed).toEqual([]);
  });

  it('refuses a malformed request when it is enqueued, naming the field', async () => {
    const d = start();
    await expect(d.dial({ ...request('+15550000009'), to: '555-0100' })).rejects.toThrow(/to.*E\.164/s);
    await expect(d.dial({ ...request('+15550000009'), window: { ...ALWAYS, timeZone: 'Mars/Olympus' } })).rejects.toThrow(/IANA time zone/);
  });

  it('imports a CSV campaign with `npm run dial`, reporting bad rows by line and skipping numbers already queued', async () => {
    const d = start();
    const csv = join(dir, 'campaign.csv');
    writeFileSync(csv, 'to,name,booking,slot,tz\n+15550000201,Ann,bk_aaaa1111,2026-12-01T09:00,America/New_York\n555-0100,Bob,,,\n+15550000202,Cy,,,Europe/London\n+15550000201,Ann again,,,\n');
    const run = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/dial.ts', '--csv', csv, '--at', new Date(Date.now() + 3_600_000).toISOString()], {
      env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}` },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(run).toContain('2 queued, 1 already queued, 1 rejected');
    const waiting = await d.queue.getJobs(['delayed']);
    expect(waiting.map((j) => j.data.to).sort()).toEqual(['+15550000201', '+15550000202']);
    expect(waiting.find((j) => j.data.to === '+15550000201')?.data.context).toEqual({ contactName: 'Ann', appointment: { bookingId: 'bk_aaaa1111', slotId: '2026-12-01T09:00' } });
  });

  it('the dialer process refuses to start without an outbound trunk, naming the key', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}` };
    delete env.VOICEFLEET_SIP_OUTBOUND_TRUNK_ID;
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'worker/dialer-main.ts'], { env, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^VOICEFLEET_SIP_OUTBOUND_TRUNK_ID: required to place calls/);
  });

  it('cancels a waiting call', async () => {
    const d = start();
    const { jobId } = await d.dial(request('+15550000010'), { notBefore: new Date(Date.now() + 60_000) });
    expect(await d.cancel(jobId)).toBe(true);
    expect(await d.queue.getJob(jobId)).toBeUndefined();
  });
});
