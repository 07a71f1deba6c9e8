import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ParticipantKind } from '@livekit/rtc-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NO_AGENT_APOLOGY, RESUME_APOLOGY } from '../agents/workflow/phrases.js';
import type { CallRecord } from '../worker/crm/call-record.js';
import { Caller } from '../worker/testing/caller.js';
import { decodeStereo } from '../worker/recording/recording-audio.js';
import { BookingCall } from './support/booking-call.js';
import { freePort, startTestStack, type TestStack } from './support/servers.js';
import { WorkerProcess } from './support/worker-process.js';

/**
 * What happens to a call when its agent cannot carry it, on real livekit-server and Redis, with
 * the supervisor running in crm-sync as it does in production:
 *
 * - no worker when the call arrives: the supervisor answers it itself (apology, voicemail);
 * - the job process is killed mid-booking: a new agent resumes where the call was;
 * - the only worker dies: the re-dispatch finds no one, and the supervisor answers (and keeps
 *   what the dead agent recorded);
 * - a worker is told to stop (SIGTERM, as a container runtime sends it) and its drain timeout
 *   runs out with a call still running: the call is handed to another worker;
 * - SIGTERM to a worker whose call finishes in time, and a rolling restart of every worker with
 *   calls up. `npm run test:recovery` runs this file alone.
 *
 * One stack and one crm-sync for all of them; each test starts its own workers and stops them.
 */
describe('call recovery', () => {
  let stack: TestStack;
  let crmSync: WorkerProcess;
  let dir: string;
  /** Each test books in its own calendar; the workers of one test share it, as a fleet does. */
  let calendar: string;
  let workers: WorkerProcess[] = [];
  const agentName = `vf-recovery-${randomUUID().slice(0, 8)}`;
  // One call per worker and no hold line, so a worker with a call is full and the next call
  // lands on another: which worker has which call is then known.
  const PICKUP_TIMEOUT_MS = 6000;
  const oneCall = { VOICEFLEET_MAX_CALLS_PER_WORKER: '1', VOICEFLEET_MAX_HELD_CALLS_PER_WORKER: '0' };
  // The callers wait in silence while a test starts workers (10 to 25 s each on this machine with
  // calls running); the silence ladder would reprompt them and hang up at 24 s.
  const patientCallers = { VOICEFLEET_SILENCE_PROMPT_AFTER_MS: '90000' };

  const startWorker = async (env: Record<string, string> = {}) => {
    const worker = await WorkerProcess.startRegistered(stack, {
      VOICEFLEET_AGENT_NAME: agentName,
      VOICEFLEET_IDLE_PROCESSES: '1',
      VOICEFLEET_CALENDAR_FILE: calendar,
      ...patientCallers,
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
  /** The call record the CRM got for a room (the file CRM: one delivered record per line). */
  const crmRecordsFor = (room: string): CallRecord[] =>
    readFileSync(join(dir, 'crm.jsonl'), { encoding: 'utf8', flag: 'a+' })
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { record: CallRecord }).record)
      .filter((record) => record.room === room);
  const deliveredRecord = async (room: string): Promise<CallRecord> => {
    await crmSync.waitForEvent('crm_delivered', 20_000, () => crmRecordsFor(room).length > 0);
    return crmRecordsFor(room)[0]!;
  };
  const diagnose = (error: unknown) => {
    for (const [i, w] of workers.entries()) console.log(`worker ${i}:\n${w.tail(20)}`);
    console.log(`crm-sync:\n${crmSync.tail(20)}`);
    throw error;
  };

  beforeAll(async () => {
    stack = await startTestStack();
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-recovery-'));
    crmSync = await WorkerProcess.startCrmSync({
      ...stack.env,
      VOICEFLEET_AGENT_NAME: agentName,
      VOICEFLEET_WEBHOOK_PORT: String(await freePort()),
      VOICEFLEET_CRM: 'file',
      VOICEFLEET_CRM_FILE: join(dir, 'crm.jsonl'),
      VOICEFLEET_OUTBOX_DIR: join(dir, 'outbox'),
      VOICEFLEET_RECORDINGS_DIR: join(dir, 'recordings'),
      VOICEFLEET_VOICEMAIL_MAX_MS: '8000',
      VOICEFLEET_AGENT_PICKUP_TIMEOUT_MS: String(PICKUP_TIMEOUT_MS),
    });
  }, 120_000);

  beforeEach((context) => {
    calendar = join(dir, `calendar-${context.task.id}.json`);
  });

  // Whatever a test left running stops before the next, which may need no worker at all.
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [];
  });

  afterAll(async () => {
    await crmSync?.stop();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives a caller who arrives with no worker registered an apology within 10 s, then voicemail', async () => {
    const caller = await Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName, metadata: '{"workflow":"booking"}' });
    try {
      const heard = await caller.waitForBackgroundAudio(15_000);
      const fallbackMs = heard.startedAt - caller.joinedAt;
      expect(fallbackMs).toBeLessThan(10_000);
      const line = await crmSync.waitForEvent('no_agent_fallback', 15_000, (l) => l.room === caller.roomName);
      expect(line.kind).toBe('no_worker');
      // No worker beating: the supervisor did not sit out the whole pickup timeout first.
      const answered = await crmSync.waitForEvent('call_without_agent', 1000, (l) => l.room === caller.roomName);
      expect(answered.noWorkerUp).toBe(true);
      expect(Number(answered.waitedMs)).toBeLessThan(PICKUP_TIMEOUT_MS);
      // Apology, the voicemail prompt and the tone; then the caller speaks their message.
      // They play back to back, heard as one stretch of sound; it ends with the tone.
      await waitUntil(() => caller.backgroundBursts.at(-1)?.endedAt !== undefined, 40_000, 'the voicemail tone');
      await caller.say('this is ann, please call me back about my appointment');
      await crmSync.waitForEvent('voicemail_saved', 30_000, (l) => l.room === caller.roomName);
      await crmSync.waitForEvent('no_agent_call_ended', 30_000, (l) => l.room === caller.roomName && l.result === 'voicemail');
      await caller.waitForDisconnect(20_000);
      const saved = readdirSync(join(dir, 'recordings'));
      expect(saved.some((f) => f.endsWith('.wav') && f.includes(caller.roomName))).toBe(true);
      // The CRM hears of the call and its message like any other call's.
      const record = await deliveredRecord(caller.roomName);
      expect(record).toMatchObject({ source: 'supervisor', endReason: 'no_agent', direction: 'web', outcome: { disposition: 'voicemail_left' } });
      expect(record.recording?.uri).toContain(caller.roomName);
      expect(record.durationMs).toBeGreaterThan(5000);
      console.log(`no worker: join -> fallback heard ${Math.round(fallbackMs)} ms`);
    } catch (error) {
      diagnose(error);
    } finally {
      await caller.hangUp().catch(() => undefined);
    }
  }, 120_000);

  it('resumes a booking where it was after kill -9 of the job process, with one agent in the room and the whole call recorded', async () => {
    // A second warm process takes the re-dispatch on the same worker.
    const worker = await startWorker({ VOICEFLEET_IDLE_PROCESSES: '2', VOICEFLEET_RECORDING: 'on', VOICEFLEET_RECORDINGS_DIR: join(dir, 'recordings') });
    const call = await BookingCall.join(stack, agentName);
    try {
      await call.greeting();
      const greetedAt = performance.now();
      const offered = await call.askForTimes();

      // The job process running this call dies without a word.
      const started = worker.lines.find((l) => l.event === 'call_started' && l.room === call.room)!;
      const callId = String(started.callId);
      const killedAt = performance.now();
      process.kill(Number(started.pid), 'SIGKILL');

      const redispatched = await crmSync.waitForEvent('call_redispatched', 20_000, (l) => l.callId === callId);
      expect(redispatched.room).toBe(call.room);
      // Found by its lease holder's connection, which died with the process, not by the lease's
      // lapse up to three seconds later.
      expect(redispatched.foundBy).toBe('connection');
      const apology = await call.resumed(killedAt);
      // The new agent repeats the question the caller was answering.
      expect(apology.text).toContain('Which would you like?');
      const silenceMs = apology.at - killedAt;
      const agents = [...call.caller.room.remoteParticipants.values()].filter((p) => p.kind === ParticipantKind.AGENT);
      expect(agents).toHaveLength(1);

      // The call carries on from the saved step: the offered times are still the ones on offer.
      expect(await call.book()).toContain(`You are booked for ${offered}.`);
      const resumedLine = await worker.waitForEvent('call_resumed', 5000, (l) => l.callId === callId);
      expect(resumedLine.workflow).toBe('booking');
      expect(JSON.parse(readFileSync(calendar, 'utf8')).bookings).toHaveLength(1);
      // Generous sanity bound; the chaos suite measures the gap.
      expect(silenceMs).toBeLessThan(20_000);
      console.log(`resume gap (kill -9 -> apology heard): ${Math.round(silenceMs)} ms`);

      // One recording of the whole call: the dead agent's part (greeting, the offer), the
      // hand-over, the resumed part; not only what came after the resume.
      const hungUpAt = performance.now();
      await call.hangUp();
      const joined = await worker.waitForEvent('recording_parts_joined', 30_000, (l) => l.callId === callId);
      expect(joined.parts).toBe(2);
      const record = await deliveredRecord(call.room);
      expect(record.recording?.uri).toBeDefined();
      const stored = readdirSync(join(dir, 'recordings', 'calls')).find((f) => f.startsWith(callId) && f.endsWith('.ogg'));
      const pcm = await decodeStereo(join(dir, 'recordings', 'calls', stored!));
      const recordedS = pcm.left.length / pcm.sampleRate;
      const resumedOnlyS = (hungUpAt - killedAt) / 1000;
      expect(recordedS).toBeGreaterThan((hungUpAt - greetedAt) / 1000 - 1.5);
      expect(recordedS).toBeGreaterThan(resumedOnlyS + 2);
      console.log(`recording of the resumed call: ${recordedS.toFixed(1)} s, gaps ${JSON.stringify(joined.gapsMs)} ms`);
    } catch (error) {
      diagnose(error);
    } finally {
      await call.hangUp().catch(() => undefined);
    }
  }, 150_000);

  it('answers a call whose agent died when no other worker takes it back, and keeps what its agent recorded', async () => {
    const worker = await startWorker({ VOICEFLEET_RECORDING: 'on', VOICEFLEET_RECORDINGS_DIR: join(dir, 'recordings') });
    const call = await BookingCall.join(stack, agentName);
    try {
      await call.greeting();
      await call.askForTimes();
      const callId = String(worker.lines.find((l) => l.event === 'call_started' && l.room === call.room)!.callId);
      // The only worker dies with its job processes: the re-dispatch finds no one.
      const fault = call.fault();
      await worker.kill();
      await crmSync.waitForEvent('call_redispatched', 20_000, (l) => l.room === call.room);
      const line = await crmSync.waitForEvent('no_agent_fallback', 30_000, (l) => l.room === call.room);
      expect(line.kind).toBe('resume_not_taken');
      // The dead worker's beat outlives it, its Redis connection does not: no worker is up, so
      // the supervisor did not sit out the whole pickup timeout after the re-dispatch.
      const answered = await crmSync.waitForEvent('call_without_agent', 1000, (l) => l.room === call.room);
      expect(answered.noWorkerUp).toBe(true);
      const heardAt = call.firstHeardAfter(fault.at);
      expect(heardAt).toBeDefined();
      console.log(`resume not taken: kill -> fallback heard ${Math.round(heardAt! - fault.at)} ms`);
      // The caller left no message: the box closes after its limit and the call ends.
      await crmSync.waitForEvent('no_agent_call_ended', 60_000, (l) => l.room === call.room);
      await call.caller.waitForDisconnect(20_000);
      // The call's record is the supervisor's, with what the dead agent had said.
      const record = await deliveredRecord(call.room);
      expect(record).toMatchObject({ source: 'supervisor', endReason: 'agent_lost', outcome: { disposition: 'voicemail_left', workflows: ['booking'] } });
      const agentSaid = record.transcript.filter((t) => t.role === 'agent').map((t) => t.text);
      expect(agentSaid.some((text) => text.includes('Which would you like?'))).toBe(true);
      expect(agentSaid.at(-1)).toBe(NO_AGENT_APOLOGY);
      // What the dead agent recorded (greeting, the offer) is the call's recording in the store,
      // its files gone from the job's folder; the voicemail message stays the record's recording.
      const saved = await crmSync.waitForEvent('recording_saved', 5000, (l) => l.callId === callId);
      expect(saved.parts).toBe(1);
      expect(record.recording?.uri).toMatch(/^file:.*voicemail/);
      // All but its last moments: ffmpeg died with the job, and with it the last Ogg page (about a second).
      const pcm = await decodeStereo(join(dir, 'recordings', 'calls', `${callId}.ogg`));
      const recordedS = pcm.left.length / pcm.sampleRate;
      expect(recordedS).toBeGreaterThan((fault.at - call.caller.joinedAt) / 1000 - 3);
      console.log(`recording kept from the dead agent: ${recordedS.toFixed(1)} s of ${((fault.at - call.caller.joinedAt) / 1000).toFixed(1)} s from join to kill`);
    } catch (error) {
      diagnose(error);
    } finally {
      await call.hangUp().catch(() => undefined);
    }
  }, 150_000);

  it('hands a call still running at the drain timeout to another worker, which carries on', async () => {
    const draining = await startWorker({ ...oneCall, VOICEFLEET_DRAIN_TIMEOUT_MS: '3000' });
    const call = await BookingCall.join(stack, agentName);
    try {
      await call.greeting();
      const offered = await call.askForTimes();
      expect(callOn(draining, call)).toBe(true);
      const other = await startWorker(oneCall);

      const stoppedAt = performance.now();
      sigterm(draining);
      await draining.waitForEvent('call_handed_over', 20_000);
      const redispatched = await crmSync.waitForEvent('call_redispatched', 20_000, (l) => l.room === call.room);
      const apology = await call.resumed(stoppedAt);
      // The new agent repeats the question the caller was answering.
      expect(apology.text).toContain('Which would you like?');
      expect(callOn(other, call)).toBe(true);
      expect(await call.book()).toContain(`You are booked for ${offered}.`);
      expect((await draining.exited).code).toBe(143);
      // Handed over, not ended: the old worker wrote no record and the supervisor resumed it once.
      expect(draining.countEvents('call_record_queued') + draining.countEvents('call_record_outboxed')).toBe(0);
      expect(redispatched.resume).toBe(1);
      console.log(`drain handover gap (SIGTERM -> apology heard): ${Math.round(apology.at - stoppedAt)} ms`);
    } catch (error) {
      diagnose(error);
    } finally {
      await call.hangUp().catch(() => undefined);
    }
  }, 240_000);

  it('takes no new call after SIGTERM and lets its running call finish', async () => {
    const draining = await startWorker({ ...oneCall, VOICEFLEET_DRAIN_TIMEOUT_MS: '120000', VOICEFLEET_MAX_CALLS_PER_WORKER: '2' });
    const call = await BookingCall.join(stack, agentName);
    try {
      await call.greeting();
      await call.askForTimes();
      expect(callOn(draining, call)).toBe(true);
      const fresh = await startWorker(oneCall);
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
    } catch (error) {
      diagnose(error);
    } finally {
      await call.hangUp().catch(() => undefined);
    }
  }, 240_000);

  it('drops no call in a rolling restart of every worker with calls up', async () => {
    const patient = { ...oneCall, VOICEFLEET_DRAIN_TIMEOUT_MS: '120000' };
    const fallbacksBefore = crmSync.countEvents('call_without_agent');
    const fleet = [await startWorker(patient), await startWorker(patient)];
    const calls: BookingCall[] = [];
    try {
      // One call after the other: two offline call starts at once starve this 2-core machine
      // (the job loops block for seconds and a greeting can take over 30 s).
      for (let i = 0; i < 2; i++) {
        calls.push(await BookingCall.join(stack, agentName));
        await calls[i]!.greeting();
      }
      await Promise.all(calls.map((c) => c.askForTimes()));
      expect(calls.map((c) => fleet.findIndex((w) => callOn(w, c))).sort()).toEqual([0, 1]);
      // The callers book while their workers are restarted under them: SIGTERM, then the
      // replacement, one worker after the other. Two callers in one calendar pick different times.
      const restarted = (async () => {
        for (const old of fleet) {
          sigterm(old);
          await startWorker(patient);
        }
      })();
      const booked = await Promise.all(calls.map((c, i) => c.book(30_000, i === 0 ? 'first' : 'second')));
      await restarted;
      for (const text of booked) expect(text).toContain('You are booked for');
      await Promise.all(calls.map((c) => c.hangUp()));
      for (const old of fleet) {
        expect((await old.exited).code).toBe(143);
        expect(old.countEvents('call_handed_over')).toBe(0);
      }
      expect(crmSync.countEvents('call_without_agent')).toBe(fallbacksBefore);
    } catch (error) {
      diagnose(error);
    } finally {
      await Promise.all(calls.map((c) => c.hangUp().catch(() => undefined)));
    }
  }, 300_000);
});

async function waitUntil(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
