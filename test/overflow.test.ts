import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow } from '../agents/workflows.js';
import type { CallRecord } from '../worker/crm/call-record.js';
import { parseWav } from '../worker/providers/local/wav.js';
import { decodeStereo, levels } from '../worker/recording/recording-audio.js';
import { callRecordJobId, QUEUES } from '../worker/queues/queues.js';
import { Caller } from '../worker/testing/caller.js';
import { startTestStack, type TestStack } from './support/servers.js';
import { WorkerProcess } from './support/worker-process.js';

/**
 * Inbound overflow against real servers: one worker with a single conversation slot, so the
 * second and third callers wait on hold. They hear the queue message and hold music at once,
 * never silence, and are answered strictly in the order they called; a caller whose wait runs
 * out leaves a voicemail that is kept on disk and in the call record.
 */
describe('callers beyond the fleet capacity wait on hold, in order', () => {
  let stack: TestStack;
  let worker: WorkerProcess;
  let dir: string;
  let crmQueue: Queue;
  const agentName = `vf-overflow-${randomUUID().slice(0, 8)}`;
  const greeting = createWorkflow('receptionist').greeting();

  const call = (metadata = '{"workflow":"receptionist"}') =>
    Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName, metadata });

  beforeAll(async () => {
    stack = await startTestStack();
    dir = mkdtempSync(joinPath(tmpdir(), 'voicefleet-overflow-'));
    // The shipped deployments, plus one whose callers may wait 5 s before the voicemail box.
    const deployments = JSON.parse(readFileSync('config/deployments.json', 'utf8'));
    deployments.deployments['short-wait'] = { ...deployments.deployments['acme-dental'], numbers: [], overflow: { maxWaitSeconds: 5, then: 'voicemail' } };
    writeFileSync(joinPath(dir, 'deployments.json'), JSON.stringify(deployments));
    worker = await WorkerProcess.startRegistered(stack, {
      VOICEFLEET_AGENT_NAME: agentName,
      VOICEFLEET_DEPLOYMENTS_FILE: joinPath(dir, 'deployments.json'),
      VOICEFLEET_MAX_CALLS_PER_WORKER: '1',
      VOICEFLEET_MAX_HELD_CALLS_PER_WORKER: '3',
      VOICEFLEET_IDLE_PROCESSES: '3',
      VOICEFLEET_HOLD_ANNOUNCE_EVERY_MS: '4000',
      VOICEFLEET_RECORDINGS_DIR: joinPath(dir, 'recordings'),
      // Held callers' recordings keep what they heard on hold.
      VOICEFLEET_RECORDING: 'on',
    });
    crmQueue = new Queue(QUEUES.crmSync, { connection: { url: stack.redisUrl } });
  }, 150_000);

  afterAll(async () => {
    await crmQueue?.close();
    await worker?.stop();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the second and third callers with a message and music, then answers them in arrival order', async () => {
    const first = await call();
    const callers = [first];
    try {
      expect((await first.greeting(30_000)).text).toBe(greeting);

      const second = await call();
      callers.push(second);
      // Waits as long as the bound below allows, so a slow start fails on the bound, with its figure.
      const secondHeld = await second.waitForBackgroundAudio(15_000);
      const third = await call();
      callers.push(third);
      const thirdHeld = await third.waitForBackgroundAudio(15_000);
      // Held callers hear the queue soon after joining, and no agent yet. (A generous bound: with
      // other test files on two cores, a job process can take seconds to start.)
      expect(secondHeld.startedAt - second.joinedAt).toBeLessThan(15_000);
      expect(thirdHeld.startedAt - third.joinedAt).toBeLessThan(15_000);
      await worker.waitForEvent('call_queued', 10_000, (l) => l.position === 2);
      // Music plays under the whole wait: the background track is never quiet for long.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      for (const held of [second, third]) {
        const bursts = held.backgroundBursts;
        expect(bursts.length).toBeGreaterThan(0);
        expect(bursts.at(-1)!.endedAt === undefined || performance.now() - bursts.at(-1)!.endedAt! < 2000).toBe(true);
      }
      expect(worker.lines.some((l) => l.event === 'call_queued' && l.position === 1)).toBe(true);
      // The agent's voice is published while the caller holds, ahead of its session, so the
      // greeting waits on no track negotiation once a slot frees.
      for (const held of [second, third]) expect(held.agentTracks.map((t) => t.kind).sort()).toEqual(['background', 'voice']);

      // The first caller hangs up: the second (who called earlier) is answered, not the third.
      await first.hangUp();
      const secondGreeting = await second.greeting(30_000);
      expect(secondGreeting.text).toBe(greeting);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(third.report().greeting).toBeUndefined();
      expect(third.transcripts.filter((t) => t.speaker === 'agent' && t.text === greeting)).toHaveLength(0);

      await second.hangUp();
      expect((await third.greeting(30_000)).text).toBe(greeting);
      const dequeued = worker.lines.filter((l) => l.event === 'call_dequeued').map((l) => l.result);
      expect(dequeued).toEqual(['answered', 'answered']);

      // The second caller's recording begins with their wait: the queue message and music on the
      // agent's channel (nobody records a held caller), then the session.
      const ended = await worker.waitForEvent('call_ended', 30_000, (l) => l.room === second.roomName);
      const record = (await waitForJob(crmQueue, callRecordJobId(String(ended.callId)))).data as CallRecord;
      const joined = worker.lines.find((l) => l.event === 'recording_parts_joined' && l.callId === ended.callId);
      expect(joined).toMatchObject({ parts: 2, hold: true });
      const pcm = await decodeStereo(record.recording!.uri.replace(/^file:\/\//, ''));
      const heldSeconds = secondGreeting.joinToGreetingMs / 1000;
      expect(pcm.right.length / pcm.sampleRate).toBeGreaterThan(heldSeconds);
      const right = levels(pcm.right, pcm.sampleRate, 1000);
      const left = levels(pcm.left, pcm.sampleRate, 1000);
      // Seconds 1-4 of the wait: sound on the agent's side, none on the caller's.
      for (const s of [1, 2, 3]) expect([right[s]! > 0.005, left[s]! < 0.01]).toEqual([true, true]);
    } finally {
      for (const caller of callers) await caller.hangUp().catch(() => undefined);
      // The next test needs the slot back: wait for these calls to end (and release it).
      await Promise.all(callers.map((c) => worker.waitForEvent('call_ended', 30_000, (l) => l.room === c.roomName).catch(() => undefined)));
    }
  }, 180_000);

  it("takes a voicemail when the caller's wait runs out, and keeps it with the call record", async () => {
    const talking = await call();
    try {
      await talking.greeting(30_000);
      const waiting = await call('{"workflow":"receptionist","deployment":"short-wait"}');
      try {
        await waiting.waitForBackgroundAudio(10_000);
        const saved = worker.waitForEvent('voicemail_saved', 60_000);
        // The voicemail prompt and tone follow the 5 s wait; the message is spoken after them.
        await worker.waitForEvent('call_dequeued', 20_000, (l) => l.result === 'timed_out');
        await new Promise((resolve) => setTimeout(resolve, 9000));
        await waiting.say('this is Sam, please call me back about my crown');
        expect((await saved).spoken).toBe(true);
        await waiting.waitForDisconnect(20_000);
      } finally {
        await waiting.hangUp();
      }
      const ended = await worker.waitForEvent('call_ended', 10_000, (l) => l.reason === 'voicemail');
      const callId = String(ended.callId);
      const job = await waitForJob(crmQueue, callRecordJobId(callId));
      const record = job.data as CallRecord;
      expect(record.outcome.disposition).toBe('voicemail_left');
      expect(record.outcome.overflow).toMatchObject({ position: 1, result: 'voicemail' });
      expect(record.outcome.overflow!.waitedMs).toBeGreaterThanOrEqual(5000);
      const path = record.recording!.uri.replace(/^file:\/\//, '');
      expect(existsSync(path)).toBe(true);
      const wav = parseWav(readFileSync(path));
      expect(wav.samples.length / wav.sampleRate).toBeGreaterThan(1);
    } finally {
      await talking.hangUp();
    }
  }, 150_000);
});

async function waitForJob(queue: Queue, id: string) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const job = await queue.getJob(id);
    if (job) return job;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no crm-sync job ${id}`);
}
