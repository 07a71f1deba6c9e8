import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, DEFAULT_BUSINESS_PROFILE, knowledgeAnswer } from '../agents/workflows.js';
import { decodeStereo, levels } from '../worker/recording/recording-audio.js';
import { OpenAICompatibleServer, type ProviderFailure, turnWhileProvidersFail } from './support/openai-compatible-server.js';
import { startTestStack, type TestStack } from './support/servers.js';
import { WorkerProcess } from './support/worker-process.js';

/**
 * Dead air under provider failure, heard at the caller: OpenAI (LLM and TTS) pointed at a local
 * endpoint that stalls or errors, the offline stack behind it, livekit-server in between. Whatever
 * fails, the caller hears the holding phrase before the slow answer, and then the answer. The
 * 2-second goal itself is measured on a quiet machine by `npm run bench -- --suite
 * provider-failure`; here, with other test files sharing two cores, only a generous bound holds.
 */
const WINDOW_MS = 100;
/** About -40 dBFS: above it a window holds sound. */
const SPEECH = 0.01;

describe('a caller never sits in dead air while providers fail', () => {
  let stack: TestStack;
  let stub: OpenAICompatibleServer;
  let worker: WorkerProcess;
  const agentName = `vf-dead-air-${randomUUID().slice(0, 8)}`;
  const location = knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'location');
  const recordingsDir = mkdtempSync(join(tmpdir(), 'voicefleet-recordings-'));

  beforeAll(async () => {
    stack = await startTestStack();
    stub = await OpenAICompatibleServer.start(createWorkflow('receptionist'));
    worker = await WorkerProcess.startRegistered(stack, {
      VOICEFLEET_AGENT_NAME: agentName,
      OPENAI_API_KEY: 'sk-local-test',
      OPENAI_BASE_URL: stub.baseURL,
      // The recording holds what the caller heard, the holding phrase on the second track included.
      VOICEFLEET_RECORDING: 'on',
      VOICEFLEET_RECORDINGS_DIR: recordingsDir,
    });
  }, 150_000);

  afterAll(async () => {
    await worker?.stop();
    await stub?.close();
    await stack?.stop();
  });

  const failures: (ProviderFailure & { name: string })[] = [
    { name: 'the LLM stalls before answering', llm: 'stallBeforeHeaders', speech: 'tone' },
    { name: 'the LLM stalls mid-answer', llm: 'stallMidStream', speech: 'tone' },
    { name: 'the TTS stalls', llm: 'workflow', speech: 'stallBeforeHeaders' },
    { name: 'the LLM and the TTS both stall', llm: 'stallBeforeHeaders', speech: 'stallBeforeHeaders' },
  ];

  for (const failure of failures) {
    it(`${failure.name}: a holding phrase first, then the answer`, async () => {
      const filledBefore = worker.countEvents('dead_air_filled');
      const turn = await turnWhileProvidersFail(stack, stub, agentName, failure, 'where are you located');
      expect(turn.agentTranscript).toContain(location);
      // The answer itself comes late (the attempt timeouts run out first)...
      expect(turn.firstAgentAudioMs).toBeGreaterThan(turn.firstHeardMs);
      // ...but the caller heard the holding phrase well before.
      expect(turn.firstHeardMs).toBeLessThan(3500);
      expect(worker.countEvents('dead_air_filled')).toBe(filledBefore + 1);
      const filled = worker.lines.filter((l) => l.event === 'dead_air_filled').at(-1)!;
      expect(filled.thinkingMs).toBeGreaterThanOrEqual(200);

      // The call's recording has the holding phrase where the caller heard it, before the answer.
      const saved = await worker.waitForEvent('recording_saved', 60_000, (l) => l.room === turn.room);
      expect(worker.lines.some((l) => l.event === 'recording_background_mixed' && l.room === turn.room)).toBe(true);
      const pcm = await decodeStereo(join(recordingsDir, 'calls', `${String(saved.callId)}.ogg`));
      const caller = levels(pcm.left, pcm.sampleRate, WINDOW_MS);
      const agent = levels(pcm.right, pcm.sampleRate, WINDOW_MS);
      // The question is the caller's last speech; the agent's first sound after it is the phrase.
      const questionEnd = caller.findLastIndex((l) => l > SPEECH) + 1;
      const firstAfter = agent.findIndex((l, i) => i >= questionEnd && l > SPEECH);
      const heardAt = (firstAfter - questionEnd) * WINDOW_MS;
      console.log(`recording: agent sound ${heardAt} ms after the question (caller heard the phrase at ${turn.firstHeardMs} ms, the answer at ${turn.firstAgentAudioMs} ms)`);
      expect(firstAfter).toBeGreaterThan(questionEnd);
      // Only with both stalled is the answer (about 2 s) far enough behind the phrase for the two
      // to be told apart in 100 ms windows; otherwise it follows in 300-900 ms.
      if (failure.llm === 'stallBeforeHeaders' && failure.speech === 'stallBeforeHeaders') {
        // Without the phrase in the recording the answer would be its first sound, 850 ms or more off.
        expect(turn.firstAgentAudioMs - turn.firstHeardMs).toBeGreaterThan(1000);
        expect(Math.abs(heardAt - turn.firstHeardMs)).toBeLessThan(400);
      }
    }, 90_000);
  }
});
