import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESUME_APOLOGY } from '../agents/workflow/phrases.js';
import { BookingCall } from './support/booking-call.js';
import { freePort, startTestStack, type TestStack } from './support/servers.js';
import { WorkerProcess } from './support/worker-process.js';

/**
 * Graceful drain on real livekit-server and Redis. SIGTERM goes to the worker's own pid, as a
 * container runtime sends it: the worker takes no new call, lets its calls finish, and when its
 * drain timeout runs out hands the calls still running to the supervisor (crm-sync), which gives
 * them to another worker that apologises and carries on.
 */
describe('graceful drain', () => {
  let stack: TestStack;
  let crmSync: WorkerProcess;
  let dir: string;
  const workers: WorkerProcess[] = [];
  const agentName = `vf-drain-${randomUUID().slice(0, 8)}`;
  // One call per worker and no hold line, so a worker with a call is full and the next call
  // lands on another: which worker has which call is then known.
  const oneCall = { VOICEFLEET_MAX_CALLS_PER_WORKER: '1', VOICEFLEET_MAX_HELD_CALLS_PER_WORKER: '0' };

  const startWorker = async (env: Record<string, string> = {}) => {
    const worker = await WorkerProcess.startRegistered(stack, {
      VOICEFLEET_AGENT_NAME: agentName,
      VOICEFLEET_IDLE_PROCESSES: '1',
      // Every worker books in the same calendar, as a fleet shares one.
      VOICEFLEET_CALENDAR_FILE: join(dir, 'calendar.json'),
      ...oneCall,
      ...env,
    });
    workers.push(worker);
    return worker;
  };
  const callOn = (worker: WorkerProcess, call: BookingCall) => worker.lines.some((l) => l.event === 'call_started' && l.room === call.room);
  const sigterm = (worker: WorkerProcess) => {
    try {
      process.kill(worker.pid!, 'SIGTERM');
    } catch {
      // already exited
    }
  };

  beforeAll(async () => {
    stack = await startTestStack();
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-drain-'));
    crmSync = await WorkerProcess.startCrmSync({
      ...stack.env,
      VOICEFLEET_AGENT_NAME: agentName,
      VOICEFLEET_WEBHOOK_PORT: String(await freePort()),
      VOICEFLEET_CRM: 'file',
      VOICEFLEET_CRM_FILE: join(dir, 'crm.jsonl'),
      VOICEFLEET_OUTBOX_DIR: join(dir, 'outbox'),
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await crmSync?.stop();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('hands a call still running at the drain timeout to another worker, which carries on', async () => {
    const draining = await startWorker({ VOICEFLEET_DRAIN_TIMEOUT_MS: '3000' });
    const call = await BookingCall.join(stack, agentName);
    try {
      await call.greeting();
      const offered = await call.askForTimes();
      expect(callOn(draining, call)).toBe(true);
      const other = await startWorker();

      const stoppedAt = performance.now();
      sigterm(draining);
      await draining.waitForEvent('call_handed_over', 20_000);
      const redispatched = await crmSync.waitForEvent('call_redispatched', 20_000, (l) => l.room === call.room);
      const apology = await call.resumed(stoppedAt);
      // The new agent repeats the question the caller was answering.
      expect(apology.text).toContain('Which would you like?');
      expect(callOn(other, call)).toBe(true);
      expect(await call.book()).toBe(`You are booked for ${offered}.`);
      expect((await draining.exited).code).toBe(143);
      // Handed over, not ended: the old worker wrote no record and the supervisor resumed it once.
      expect(draining.countEvents('call_record_queued') + draining.countEvents('call_record_outboxed')).toBe(0);
      expect(redispatched.resume).toBe(1);
      console.log(`drain handover gap (SIGTERM -> apology heard): ${Math.round(apology.at - stoppedAt)} ms`);
    } catch (error) {
      console.log(`worker:\n${draining.tail(40)}\ncrm-sync:\n${crmSync.tail(20)}`);
      throw error;
    } finally {
      await call.hangUp();
    }
  }, 240_000);

  it('takes no new call after SIGTERM and lets its running call finish', async () => {
    // Workers left from the test above stop, so the call lands on this one; it drains with time to spare.
    const leftOver = [...workers];
    for (const w of leftOver) sigterm(w);
    await Promise.all(leftOver.map((w) => w.exited));
    const draining = await startWorker({ VOICEFLEET_DRAIN_TIMEOUT_MS: '120000', VOICEFLEET_MAX_CALLS_PER_WORKER: '2' });
    const call = await BookingCall.join(stack, agentName);
    try {
      await call.greeting();
      await call.askForTimes();
      expect(callOn(draining, call)).toBe(true);
      const fresh = await startWorker();
      sigterm(draining);
      await draining.waitForEvent('worker_draining', 10_000);

      // A new call goes to the fresh worker, though the draining one still has a free slot.
      const next = await BookingCall.join(stack, agentName);
      try {
        await next.greeting();
        expect(callOn(fresh, next)).toBe(true);
        expect(callOn(draining, next)).toBe(false);
      } finally {
        await next.hangUp();
      }

      // The running call finishes on the draining worker, which then exits.
      expect(await call.book()).toContain('You are booked for');
      expect(call.caller.transcripts.some((t) => t.text.includes(RESUME_APOLOGY))).toBe(false);
      await call.hangUp();
      expect((await draining.exited).code).toBe(143);
      expect(draining.countEvents('call_handed_over')).toBe(0);
    } finally {
      await call.hangUp().catch(() => undefined);
    }
  }, 240_000);

  it('drops no call in a rolling restart of every worker under load', async () => {
    // Two workers with a call each; each is restarted in turn: SIGTERM, start its replacement,
    // wait until the replacement is ready. The calls carry on meanwhile.
    const leftOver = [...workers];
    for (const w of leftOver) sigterm(w);
    await Promise.all(leftOver.map((w) => w.exited));
    const fleet = [await startWorker({ VOICEFLEET_DRAIN_TIMEOUT_MS: '120000' }), await startWorker({ VOICEFLEET_DRAIN_TIMEOUT_MS: '120000' })];
    const calls = [await BookingCall.join(stack, agentName), await BookingCall.join(stack, agentName)];
    try {
      await Promise.all(calls.map((c) => c.greeting()));
      await Promise.all(calls.map((c) => c.askForTimes()));
      expect(calls.map((c) => fleet.findIndex((w) => callOn(w, c))).sort()).toEqual([0, 1]);
      for (const old of fleet) {
        sigterm(old);
        await startWorker({ VOICEFLEET_DRAIN_TIMEOUT_MS: '120000' });
      }
      const booked = await Promise.all(calls.map((c) => c.book()));
      for (const text of booked) expect(text).toContain('You are booked for');
      await Promise.all(calls.map((c) => c.hangUp()));
      for (const old of fleet) {
        expect((await old.exited).code).toBe(143);
        expect(old.countEvents('call_handed_over')).toBe(0);
      }
      expect(crmSync.countEvents('call_without_agent')).toBe(0);
    } finally {
      await Promise.all(calls.map((c) => c.hangUp().catch(() => undefined)));
    }
  }, 300_000);
});
