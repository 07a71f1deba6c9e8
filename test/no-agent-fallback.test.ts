import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Caller } from '../worker/testing/caller.js';
import { BookingCall } from './support/booking-call.js';
import { freePort, startTestStack, type TestStack } from './support/servers.js';
import { WorkerProcess } from './support/worker-process.js';

/**
 * No worker can take the call: livekit-server drops a dispatch no worker takes, so without the
 * supervisor the caller would sit in silence. The supervisor (crm-sync) notices a room with a
 * caller and no agent, joins it itself, apologises and takes the overflow path: a browser caller
 * has no number to call back, so they leave a voicemail.
 */
describe('no agent for a call', () => {
  let stack: TestStack;
  let crmSync: WorkerProcess;
  let dir: string;
  const agentName = `vf-noagent-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    stack = await startTestStack();
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-noagent-'));
    crmSync = await WorkerProcess.startCrmSync({
      ...stack.env,
      VOICEFLEET_AGENT_NAME: agentName,
      VOICEFLEET_WEBHOOK_PORT: String(await freePort()),
      VOICEFLEET_CRM: 'file',
      VOICEFLEET_CRM_FILE: join(dir, 'crm.jsonl'),
      VOICEFLEET_OUTBOX_DIR: join(dir, 'outbox'),
      VOICEFLEET_RECORDINGS_DIR: join(dir, 'recordings'),
      VOICEFLEET_VOICEMAIL_MAX_MS: '8000',
    });
  }, 60_000);

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
      // Apology, the voicemail prompt and the tone; then the caller speaks their message.
      // They play back to back, heard as one stretch of sound; it ends with the tone.
      await waitUntil(() => caller.backgroundBursts.at(-1)?.endedAt !== undefined, 40_000, 'the voicemail tone');
      await caller.say('this is ann, please call me back about my appointment');
      await crmSync.waitForEvent('voicemail_saved', 30_000, (l) => l.room === caller.roomName);
      await crmSync.waitForEvent('no_agent_call_ended', 30_000, (l) => l.room === caller.roomName && l.result === 'voicemail');
      await caller.waitForDisconnect(20_000);
      const saved = readdirSync(join(dir, 'recordings'));
      expect(saved.some((f) => f.endsWith('.wav') && f.includes(caller.roomName))).toBe(true);
      console.log(`no worker: join -> fallback heard ${Math.round(fallbackMs)} ms`);
    } catch (error) {
      console.log(`crm-sync:\n${crmSync.tail(20)}`);
      throw error;
    } finally {
      await caller.hangUp();
    }
  }, 120_000);

  it('answers a call whose agent died when no other worker takes it back', async () => {
    const worker = await WorkerProcess.startRegistered(stack, { VOICEFLEET_AGENT_NAME: agentName });
    const call = await BookingCall.join(stack, agentName);
    try {
      await call.greeting();
      await call.askForTimes();
      // The only worker dies with its job processes: the re-dispatch finds no one.
      const fault = call.fault();
      await worker.kill();
      await crmSync.waitForEvent('call_redispatched', 20_000, (l) => l.room === call.room);
      const line = await crmSync.waitForEvent('no_agent_fallback', 30_000, (l) => l.room === call.room);
      expect(line.kind).toBe('resume_not_taken');
      const heardAt = call.firstHeardAfter(fault.at);
      expect(heardAt).toBeDefined();
      console.log(`resume not taken: kill -> fallback heard ${Math.round(heardAt! - fault.at)} ms`);
      // The caller left no message: the box closes after its limit and the call ends.
      await crmSync.waitForEvent('no_agent_call_ended', 60_000, (l) => l.room === call.room);
      await call.caller.waitForDisconnect(20_000);
    } finally {
      await call.hangUp();
      await worker.stop();
    }
  }, 150_000);
});

async function waitUntil(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
