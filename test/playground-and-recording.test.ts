import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ParticipantKind, type RemoteParticipant, Room, RoomEvent } from '@livekit/rtc-node';
import { Queue } from 'bullmq';
import { TokenVerifier } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, DEFAULT_BUSINESS_PROFILE, knowledgeAnswer } from '../agents/workflows.js';
import { playgroundAccess } from '../scripts/playground-access.js';
import { parseJobMetadata } from '../worker/call-context.js';
import { loadConfig } from '../worker/config.js';
import type { CallRecord } from '../worker/crm/call-record.js';
import { callRecordJobId, QUEUES } from '../worker/queues/queues.js';
import { connectRedis } from '../worker/queues/redis.js';
import { decodeStereo, levels } from '../worker/recording/recording-audio.js';
import { Caller } from '../worker/testing/caller.js';
import { startTestStack, type TestStack } from './support/servers.js';
import { WorkerProcess } from './support/worker-process.js';

const CONSENT = 'This call is recorded for quality.';
const WINDOW_MS = 100;
/** About -40 dBFS: above it a window holds speech (as for voicemail). */
const SPEECH = 0.01;

/**
 * The playground token (`npm run token`) and call recording, against a real livekit-server and
 * agent worker: the token dispatches the agent, and a recorded call leaves a stereo file in the
 * store, caller left and agent right, that the call's record names.
 */
describe('playground token and call recording', () => {
  let stack: TestStack;
  let worker: WorkerProcess;
  const agentName = `vf-test-${randomUUID().slice(0, 8)}`;
  const recordingsDir = mkdtempSync(join(tmpdir(), 'voicefleet-recordings-'));

  beforeAll(async () => {
    stack = await startTestStack();
    worker = await WorkerProcess.startRegistered(stack, {
      VOICEFLEET_AGENT_NAME: agentName,
      VOICEFLEET_RECORDING: 'on',
      VOICEFLEET_RECORDING_CONSENT: CONSENT,
      VOICEFLEET_RECORDINGS_DIR: recordingsDir,
      // Not under test here: a reprompt during a slow greeting (the ladder counts TTS time as
      // caller silence) would talk over the caller's question on a loaded machine.
      VOICEFLEET_SILENCE_PROMPT_AFTER_MS: '120000',
    });
  }, 150_000);

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  // First: the call whose audio is checked, while no job process is being started beside it.
  it('records the call in stereo after the consent notice: caller left, agent right, on one clock', async () => {
    const receptionist = createWorkflow('receptionist');
    const caller = await Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName, metadata: '{"workflow":"receptionist"}' });
    let spoke = { start: 0, end: 0 };
    let greetingHeardAt = 0;
    try {
      // The consent notice is the first thing the caller hears, before the greeting.
      const greeting = await caller.greeting(90_000);
      expect(greeting.text).toBe(`${CONSENT} ${receptionist.greeting()}`);
      greetingHeardAt = caller.joinedAt + greeting.joinToGreetingMs;
      await new Promise((resolve) => setTimeout(resolve, 800));
      let start = 0;
      const end = await caller.say('what are your opening hours', (t) => {
        start = t;
      });
      spoke = { start, end };
      // Generous: on a shared 2-core machine the agent's VAD has run tens of seconds behind.
      await caller.waitForAgentTranscript(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'hours'), 90_000);
      await caller.waitForAgentToFinish(60_000);
    } finally {
      await caller.hangUp();
    }

    const saved = await worker.waitForEvent('recording_saved', 60_000, (l) => l.room === caller.roomName);
    const callId = String(saved.callId);
    const path = join(recordingsDir, 'calls', `${callId}.ogg`);
    expect(saved.bytes).toBeGreaterThan(1000);

    // The record sent to the CRM names the recording.
    await worker.waitForEvent('call_record_queued', 30_000, (l) => l.room === caller.roomName);
    const redis = connectRedis(stack.redisUrl, 'producer');
    const queue = new Queue(QUEUES.crmSync, { connection: redis });
    try {
      const job = await queue.getJob(callRecordJobId(callId));
      expect((job!.data as CallRecord).recording).toEqual({ uri: `file://${path}` });
    } finally {
      await queue.close();
      await redis.quit();
    }

    const pcm = await decodeStereo(path);
    expect(pcm.channels).toBe(2);
    const left = levels(pcm.left, pcm.sampleRate, WINDOW_MS);
    const right = levels(pcm.right, pcm.sampleRate, WINDOW_MS);
    const agentFirst = right.findIndex((l) => l > SPEECH);
    const callerFirst = left.findIndex((l) => l > SPEECH);
    expect(agentFirst).toBeGreaterThanOrEqual(0);
    expect(callerFirst).toBeGreaterThan(agentFirst);
    // The caller's words sit on the left where they were said: as long after the greeting's start
    // as the caller heard it, and about as long as the caller spoke.
    const expectedOffsetMs = spoke.start - greetingHeardAt;
    expect(Math.abs((callerFirst - agentFirst) * WINDOW_MS - expectedOffsetMs)).toBeLessThan(700);
    const callerWindows = Math.round((spoke.end - spoke.start) / WINDOW_MS);
    const callerSpeech = left.slice(callerFirst, callerFirst + callerWindows);
    expect(callerSpeech.filter((l) => l > SPEECH).length).toBeGreaterThan(callerWindows * 0.5);
    // Agent silent while the caller asked; its answer on the right afterwards, and no agent on the left.
    expect(Math.max(...right.slice(callerFirst + 2, callerFirst + callerWindows - 2))).toBeLessThan(SPEECH);
    expect(right.slice(callerFirst + callerWindows).filter((l) => l > SPEECH).length).toBeGreaterThan(10);
    expect(Math.max(...left.slice(agentFirst, agentFirst + 10))).toBeLessThan(SPEECH);
  }, 300_000);

  it('mints a token that verifies, names the workflow, and dispatches the agent when used', async () => {
    const config = loadConfig({ ...stack.env, VOICEFLEET_AGENT_NAME: agentName });
    const access = await playgroundAccess(config, { workflow: 'booking', room: `pg-${randomUUID().slice(0, 6)}`, identity: 'pg-user', ttl: '10m' });
    expect(access.url).toBe(stack.livekitUrl);
    expect(access.lines[0]).toBe(`LIVEKIT_URL=${stack.livekitUrl}`);
    expect(access.lines[1]).toBe(`TOKEN=${access.token}`);

    const claims = await new TokenVerifier(stack.apiKey, stack.apiSecret).verify(access.token);
    expect(claims.sub).toBe('pg-user');
    expect(claims.video).toMatchObject({ roomJoin: true, room: access.room, canPublish: true, canSubscribe: true });
    const agents = (claims.roomConfig as { agents?: { agentName: string; metadata?: string }[] }).agents!;
    expect(agents).toHaveLength(1);
    expect(agents[0]!.agentName).toBe(agentName);
    expect(parseJobMetadata(agents[0]!.metadata)).toEqual({ ok: true, metadata: { workflow: 'booking' } });
    await expect(new TokenVerifier(stack.apiKey, 'x'.repeat(40)).verify(access.token)).rejects.toThrow();

    // What the playground does with it: join the room; the agent is dispatched and joins too.
    const room = new Room();
    const agentJoined = new Promise<RemoteParticipant>((resolve) => {
      room.on(RoomEvent.ParticipantConnected, (p: RemoteParticipant) => {
        if (p.kind === ParticipantKind.AGENT) resolve(p);
      });
    });
    await room.connect(access.url, access.token, { autoSubscribe: false, dynacast: false });
    try {
      const already = [...room.remoteParticipants.values()].find((p) => p.kind === ParticipantKind.AGENT);
      const agent = already ?? (await withTimeout(agentJoined, 30_000, 'the agent to join'));
      expect(agent.identity).toBeTruthy();
      const started = await worker.waitForEvent('call_started', 30_000, (l) => l.room === access.room);
      expect(started.workflow).toBe('booking');
    } finally {
      await room.disconnect();
    }
  }, 90_000);
});

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))]);
}
