import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, DEFAULT_BUSINESS_PROFILE, knowledgeAnswer } from '../agents/workflows.js';
import { Caller } from '../worker/testing/caller.js';
import { startTestStack, type TestStack } from './support/servers.js';
import { WorkerProcess } from './support/worker-process.js';

/** The silence ladder heard through real audio: reprompts, reset on speech, goodbye, hang-up. */
describe('caller silence', () => {
  let stack: TestStack;
  let worker: WorkerProcess;
  const agentName = `vf-silence-${randomUUID().slice(0, 8)}`;
  const { reprompts, goodbye } = createWorkflow('receptionist').silencePrompts();

  beforeAll(async () => {
    stack = await startTestStack();
    worker = await WorkerProcess.startRegistered(stack, {
      VOICEFLEET_AGENT_NAME: agentName,
      VOICEFLEET_SILENCE_PROMPT_AFTER_MS: '2500',
    });
  }, 150_000);

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  it('reprompts a silent caller, starts over when they speak, then says goodbye and hangs up', async () => {
    const caller = await Caller.join({
      url: stack.livekitUrl,
      apiKey: stack.apiKey,
      apiSecret: stack.apiSecret,
      agentName,
      metadata: '{"workflow":"receptionist"}',
    });
    try {
      await caller.greeting(30_000);
      const firstPrompt = await caller.waitForAgentTranscript(reprompts[0]!, 20_000);
      await caller.waitForAgentToFinish();

      const answer = await caller.turn('what are your opening hours', 30_000);
      expect(answer.agentTranscript).toContain(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'hours'));

      // Back on the first rung after the caller spoke.
      const again = await caller.waitForAgentTranscript(reprompts[0]!, 20_000, firstPrompt.at + 1);
      await caller.waitForAgentTranscript(reprompts[1]!, 20_000, again.at);
      await caller.waitForAgentTranscript(goodbye, 20_000, again.at);
      await caller.waitForDisconnect(20_000);

      const rungs = worker.lines.filter((l) => l.event === 'silence_prompt' && l.room === caller.roomName);
      expect(rungs.map((l) => `${l.rung}:${l.kind}`)).toEqual(['1:reprompt', '1:reprompt', '2:reprompt', '3:goodbye']);
      await worker.waitForEvent('call_ended', 20_000, (l) => l.room === caller.roomName);
    } finally {
      await caller.hangUp();
    }
  });
});
