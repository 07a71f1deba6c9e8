import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ParticipantKind } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESUME_APOLOGY } from '../agents/workflow/phrases.js';
import { Caller } from '../worker/testing/caller.js';
import { freePort } from './support/servers.js';
import { startTestStack, type TestStack } from './support/servers.js';
import { WorkerProcess } from './support/worker-process.js';

/**
 * A call survives the death of its agent: kill -9 of the job process mid-booking, on real
 * livekit-server and Redis. The supervisor (in the crm-sync process) notices the job's alive lease
 * run out, removes the dead agent from the room and dispatches a new one, which loads the call's
 * saved state, apologises, repeats its last question and finishes the booking.
 */
describe('call supervisor', () => {
  let stack: TestStack;
  let worker: WorkerProcess;
  let crmSync: WorkerProcess;
  let dir: string;
  const agentName = `vf-resume-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    stack = await startTestStack();
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-resume-'));
    worker = await WorkerProcess.startRegistered(stack, { VOICEFLEET_AGENT_NAME: agentName, VOICEFLEET_IDLE_PROCESSES: '2' });
    crmSync = await WorkerProcess.startCrmSync({
      ...stack.env,
      VOICEFLEET_AGENT_NAME: agentName,
      VOICEFLEET_WEBHOOK_PORT: String(await freePort()),
      VOICEFLEET_CRM: 'file',
      VOICEFLEET_CRM_FILE: join(dir, 'crm.jsonl'),
      VOICEFLEET_OUTBOX_DIR: join(dir, 'outbox'),
    });
  }, 150_000);

  afterAll(async () => {
    await crmSync?.stop();
    await worker?.stop();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('resumes a booking where it was after kill -9 of the job process, with one agent in the room', async () => {
    const caller = await Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName, metadata: '{"workflow":"booking"}' });
    try {
      await caller.greeting(30_000);
      await caller.waitForAgentToFinish();
      await caller.say("I'd like to book an appointment");
      const offer = await caller.waitForAgentTranscript('Which would you like?', 30_000);
      await caller.waitForAgentToFinish();
      const offered = offer.text.match(/I have (.+?)(?:,| or )/)![1]!;

      // The job process running this call dies without a word.
      const started = worker.lines.find((l) => l.event === 'call_started' && l.room === caller.roomName)!;
      const callId = String(started.callId);
      const killedAt = performance.now();
      process.kill(Number(started.pid), 'SIGKILL');

      const redispatched = await crmSync.waitForEvent('call_redispatched', 20_000, (l) => l.callId === callId);
      expect(redispatched.room).toBe(caller.roomName);
      const apology = await caller.waitForAgentTranscript(RESUME_APOLOGY, 30_000, killedAt);
      // The new agent repeats the question the caller was answering.
      expect(apology.text).toContain('Which would you like?');
      const silenceMs = apology.at - killedAt;
      await caller.waitForAgentToFinish(30_000);
      const agents = [...caller.room.remoteParticipants.values()].filter((p) => p.kind === ParticipantKind.AGENT);
      expect(agents).toHaveLength(1);

      // The call carries on from the saved step: the offered times are still the ones on offer.
      const choice = await caller.turn('the first one', 30_000);
      expect(choice.agentTranscript).toBe(`To confirm: ${offered}. Shall I book it?`);
      await caller.say('yes please');
      await caller.waitForAgentTranscript(`You are booked for ${offered}.`, 30_000);
      const resumedLine = await worker.waitForEvent('call_resumed', 5000, (l) => l.callId === callId);
      expect(resumedLine.workflow).toBe('booking');
      const calendar = JSON.parse(readFileSync(worker.env.VOICEFLEET_CALENDAR_FILE!, 'utf8'));
      expect(calendar.bookings).toHaveLength(1);
      // Generous sanity bound; the chaos suite measures the gap.
      expect(silenceMs).toBeLessThan(20_000);
      console.log(`resume gap (kill -9 -> apology heard): ${Math.round(silenceMs)} ms`);
    } finally {
      await caller.hangUp();
    }
  }, 150_000);
});
