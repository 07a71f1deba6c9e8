import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, DEFAULT_BUSINESS_PROFILE, knowledgeAnswer } from '../agents/workflows.js';
import { rmsLevel } from '../worker/providers/local/wav.js';
import { Caller, type TurnReport } from '../worker/testing/caller.js';
import { OtlpReceiver } from './support/otlp-receiver.js';
import { startTestStack, type TestStack } from './support/servers.js';
import { WorkerProcess } from './support/worker-process.js';

/**
 * The whole loop against real servers: livekit-server, an agent worker process with the offline
 * speech stack, and a WebRTC caller that hears the agent through the room like a person would.
 */
describe('agent worker answering WebRTC callers', () => {
  let stack: TestStack;
  let worker: WorkerProcess;
  let otlp: OtlpReceiver;
  const agentName = `vf-test-${randomUUID().slice(0, 8)}`;
  const receptionist = createWorkflow('receptionist');

  const join = (metadata = '{"workflow":"receptionist"}') =>
    Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName, metadata });

  beforeAll(async () => {
    stack = await startTestStack();
    otlp = await new OtlpReceiver().start();
    worker = await WorkerProcess.startRegistered(stack, { VOICEFLEET_AGENT_NAME: agentName, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint });
  }, 150_000);

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
    await otlp?.stop();
  });

  it('greets the caller, answers from the business profile and books a free time', async () => {
    const caller = await join();
    try {
      const greeting = await caller.greeting(30_000);
      expect(greeting.text).toBe(receptionist.greeting());
      expect(rmsLevel(caller.recording())).toBeGreaterThan(0.005);

      const hours = await caller.turn('what are your opening hours', 30_000);
      expect(hours.agentTranscript).toContain(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'hours'));

      // The receptionist hands the call to the booking agent, which answers the same words with
      // a filler while the calendar tool runs, then the free times as a further utterance.
      const booking = await caller.turn("I'd like to book an appointment", 30_000);
      expect(booking.agentTranscript).toContain('Sure, I can help with your appointment.');
      await caller.waitForAgentTranscript('Let me check the calendar.', 30_000);
      const offer = await caller.waitForAgentTranscript('Which would you like?', 30_000);
      await caller.waitForAgentToFinish();
      const offered = offer.text.match(/I have (.+?)(?:,| or )/)![1]!;

      const choice = await caller.turn('the first one', 30_000);
      expect(choice.agentTranscript).toBe(`To confirm: ${offered}. Shall I book it?`);
      const booked = await caller.turn('yes please', 30_000);
      await caller.waitForAgentTranscript(`You are booked for ${offered}.`, 30_000);
      await caller.waitForAgentToFinish();
      const calendar = JSON.parse(readFileSync(worker.env.VOICEFLEET_CALENDAR_FILE!, 'utf8'));
      expect(calendar.bookings).toHaveLength(1);

      // Generous sanity bounds only; the latency goals live in the benchmarks.
      for (const turn of [hours, booking, choice, booked]) {
        expect(turn.firstAgentAudioMs).toBeGreaterThan(0);
        expect(turn.firstAgentAudioMs).toBeLessThan(10_000);
      }
      expect(greeting.joinToGreetingMs).toBeGreaterThan(0);
      expect(greeting.joinToGreetingMs).toBeLessThan(15_000);

      const intents = worker.lines.filter((l) => l.event === 'workflow_reply' && l.room === caller.roomName);
      expect(intents.map((l) => `${l.workflow}:${l.intent}`)).toEqual([
        'receptionist:faq:hours',
        'receptionist:handoff:booking',
        'booking:book',
        'booking:offer_slots',
        'booking:confirm_slot',
        'booking:book_slot',
        'booking:booked',
      ]);
      // Transcripts are personal data: none at info level.
      expect(worker.lines.filter((l) => l.room === caller.roomName).some((l) => 'pii' in l)).toBe(false);

      mkdirSync('test-artifacts', { recursive: true });
      writeFileSync('test-artifacts/agent-call-latency.json', JSON.stringify(caller.report(), null, 2));
    } finally {
      await caller.hangUp();
    }
    // The hang-up closes the session, and the call's outcome is recorded before call_ended.
    const outcome = await worker.waitForEvent('call_outcome', 30_000, (l) => l.room === caller.roomName);
    expect(outcome.outcome).toMatchObject({
      workflows: ['receptionist', 'booking'],
      disposition: 'resolved',
      booking: { action: 'booked' },
      faq: { answered: ['hours'] },
    });
    // ...and its record is on its way to the CRM: queued in Redis, not left in the outbox.
    await worker.waitForEvent('call_record_queued', 30_000, (l) => l.room === caller.roomName);
  }, 180_000);

  it('stops talking when the caller barges in, and answers the new request instead', async () => {
    const caller = await join();
    try {
      await caller.greeting(30_000);
      await caller.say('what are your opening hours');
      const { stopMs, reply } = await caller.bargeIn('where are you located', 1000, 30_000);
      expect(reply.agentTranscript).toContain(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'location'));
      expect(stopMs).toBeGreaterThan(0);
      expect(stopMs).toBeLessThan(3000);
      const hoursTurn = await worker.waitFor(
        (l) => l.event === 'agent_turn' && l.room === caller.roomName && l.interrupted === true,
        10_000,
        'the interrupted agent turn',
      );
      expect(hoursTurn).toBeDefined();
      mkdirSync('test-artifacts', { recursive: true });
      writeFileSync('test-artifacts/barge-in.json', JSON.stringify({ stopMs, reply }, null, 2));
    } finally {
      await caller.hangUp();
    }
  });

  it('carries on after a cough: a short noise pauses the agent at most, and the answer is finished', async () => {
    const dir = mkdtempSync(joinPath(tmpdir(), 'voicefleet-cough-'));
    const cough = joinPath(dir, 'cough.wav');
    // 250 ms of loud pink noise with a fast decay: a cough or a bump of the handset.
    execFileSync('sox', ['-D', '-n', '-r', '16000', '-b', '16', '-c', '1', cough, 'synth', '0.25', 'pinknoise', 'fade', 'q', '0.01', '0.25', '0.2', 'vol', '0.6']);
    const caller = await join();
    try {
      await caller.greeting(30_000);
      await caller.waitForAgentToFinish();
      await caller.say('what are your opening hours');
      await caller.waitForAgentSpeech(30_000);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      await caller.say(cough);
      // The whole answer is still heard, and nothing else is said in between.
      await caller.waitForAgentTranscript(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'hours'), 30_000);
      await caller.waitForAgentToFinish(30_000);
      const replies = worker.lines.filter((l) => l.event === 'workflow_reply' && l.room === caller.roomName).map((l) => l.intent);
      expect(replies).toEqual(['faq:hours']);
      const turns = worker.lines.filter((l) => l.event === 'agent_turn' && l.room === caller.roomName);
      expect(turns.at(-1)?.interrupted).toBe(false);
    } finally {
      await caller.hangUp();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never starts talking over a caller who pauses mid-sentence and starts again, and answers the whole request', async () => {
    const caller = await join();
    try {
      await caller.greeting(30_000);
      await caller.waitForAgentToFinish();
      // "What are your ... opening hours on Saturday": a pause longer than the shortest endpointing
      // delay, after words that do not end a request.
      const spans: { from: number; to: number }[] = [];
      for (const [i, part] of ['what are your', 'opening hours on saturday'].entries()) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 700));
        let from = 0;
        const to = await caller.say(part, (t) => {
          from = t;
        });
        spans.push({ from, to });
      }
      const answer = await caller.waitForAgentTranscript(knowledgeAnswer(DEFAULT_BUSINESS_PROFILE, 'hours'), 30_000);
      await caller.waitForAgentToFinish(30_000);
      const heard = [...caller.agentBursts, ...caller.backgroundBursts];
      const detail = JSON.stringify({ spans, voice: caller.agentBursts, background: caller.backgroundBursts });
      // Once the caller has been talking again for a second (time for their voice to reach the
      // agent and be detected, even on a loaded machine), the agent does not start.
      const started = heard.filter((b) => spans.some((s) => b.startedAt > s.from + 1000 && b.startedAt < s.to));
      expect(started, detail).toEqual([]);
      // A reply already on its way when the caller started again yields at once (barge-in).
      const overCaller = heard.filter((b) => spans.some((s) => b.startedAt >= s.from - 100 && b.startedAt <= s.to));
      for (const burst of overCaller) expect(burst.endedAt! - burst.startedAt, detail).toBeLessThan(1000);
      // The answer is to the whole request, and comes after the caller finished.
      expect(answer.at).toBeGreaterThan(spans[1]!.to);
    } finally {
      await caller.hangUp();
    }
  });

  it('greets a call with malformed metadata generically and logs the error, without crashing', async () => {
    const caller = await join('{"workflow": "receptionist", +1555');
    try {
      const greeting = await caller.greeting(30_000);
      expect(greeting.text).toBe(receptionist.genericGreeting());
      const logged = await worker.waitForEvent('metadata_invalid', 5_000, (l) => l.room === caller.roomName);
      expect(logged.level).toBe(50);
      expect(String(logged.reason)).toMatch(/not JSON/);
      expect(JSON.stringify(logged)).not.toContain('+1555');
    } finally {
      await caller.hangUp();
    }
  });

  it('ends the session cleanly when the caller hangs up mid-sentence, then takes the next call', async () => {
    const first = await join();
    await first.waitForAgentSpeech(30_000);
    await first.hangUp();
    const ended = await worker.waitForEvent('call_ended', 30_000, (l) => l.room === first.roomName);
    expect(ended.reason).toBe('participant_disconnected');

    const next = await join();
    try {
      const greeting = await next.greeting(30_000);
      expect(greeting.text).toBe(receptionist.greeting());
    } finally {
      await next.hangUp();
    }
    expect(worker.lines.some((l) => l.level === 60 || /uncaught|unhandled/i.test(String(l.msg)))).toBe(false);
  });

  it("traces each turn (log line, text stream, OTLP span) and exports latency histograms, call counts and active calls at the worker's /metrics", async () => {
    const caller = await join();
    let heard: TurnReport | undefined;
    try {
      await caller.greeting(30_000);
      await caller.waitForAgentToFinish();
      heard = await caller.turn('where are you located', 30_000);
      const deadline = Date.now() + 10_000;
      const answered = () => caller.turnTraces.some((t) => !t.interrupted && t.totalMs !== undefined);
      while (!answered() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await caller.hangUp();
    }
    // One `turn` line per answered turn, numbered in order. A loaded machine's VAD may hear the
    // line as two turns (the first then cut off by the second): the answer is the one that played.
    await worker.waitForEvent('turn', 10_000, (l) => l.room === caller.roomName);
    const lines = worker.lines.filter((l) => l.event === 'turn' && l.room === caller.roomName);
    expect(lines.map((l) => l.turn)).toEqual(lines.map((_, i) => i + 1));
    const line = lines.find((l) => l.interrupted === false && typeof l.firstAudioPublishedMs === 'number')!;
    expect(line, JSON.stringify(lines)).toBeDefined();
    const stage = (name: string) => line[name] as number;
    for (const name of ['eouDecisionMs', 'sttFinalMs', 'llmFirstTokenMs', 'ttsFirstAudioMs', 'firstAudioPublishedMs', 'totalMs']) {
      expect(typeof line[name], name).toBe('number');
    }
    expect(stage('eouDecisionMs')).toBeGreaterThanOrEqual(0);
    expect(stage('sttFinalMs')).toBeGreaterThanOrEqual(0);
    expect(stage('ttsFirstAudioMs')).toBeGreaterThanOrEqual(stage('llmFirstTokenMs'));
    expect(stage('firstAudioPublishedMs')).toBeGreaterThanOrEqual(stage('ttsFirstAudioMs'));
    expect(stage('firstAudioPublishedMs')).toBeGreaterThanOrEqual(stage('eouDecisionMs'));
    expect(stage('totalMs')).toBe(stage('firstAudioPublishedMs'));
    expect(stage('totalMs')).toBeLessThan(60_000);
    expect(line.llmTtftMs).toBeLessThanOrEqual(stage('llmFirstTokenMs'));
    // The same traces reached the caller on the voicefleet.turn text stream, with its own ear's figure.
    expect(caller.turnTraces.length).toBeGreaterThan(0);
    expect(lines.map((l) => l.speechId)).toEqual(expect.arrayContaining(caller.turnTraces.map((t) => t.speechId)));
    const trace = caller.turnTraces.find((t) => t.speechId === line.speechId)!;
    expect(trace.stages.firstAudioPublishedMs).toBe(stage('firstAudioPublishedMs'));
    expect(trace.stages.firstAudioAtCallerMs).toBeGreaterThanOrEqual(trace.stages.firstAudioPublishedMs!);
    expect(trace.stages.firstAudioAtCallerMs).toBeLessThan(heard!.firstAgentAudioMs + 2000);
    // ...and the collector got the turn span, beside the framework's own, with no personal data.
    const span = await otlp.waitForSpan((s) => s.name === 'voicefleet.turn' && s.attributes['lk.speech_id'] === trace.speechId, 30_000);
    expect(span.attributes['voicefleet.call_id']).toBe(trace.callId);
    expect(span.attributes['voicefleet.stage.first_audio_published_ms']).toBe(stage('firstAudioPublishedMs'));
    expect(span.endMs - span.startMs).toBe(stage('totalMs'));
    const names = new Set(otlp.spans.filter((s) => s.attributes['voicefleet.call_id'] === trace.callId).map((s) => s.name));
    expect([...names]).toEqual(expect.arrayContaining(['agent_turn', 'user_turn', 'tts_node']));
    expect(otlp.spans.some((s) => Object.keys(s.attributes).some((k) => k.includes('.pii.')))).toBe(false);
    expect(Buffer.concat(otlp.bodies).includes('where are you located')).toBe(false);
    mkdirSync('test-artifacts', { recursive: true });
    writeFileSync('test-artifacts/turn-trace.json', JSON.stringify({ heardAtCaller: heard, traces: caller.turnTraces, agentBursts: caller.agentBursts, perfToWallMs: Date.now() - performance.now() }, null, 2));
    const { port } = await worker.waitForEvent('metrics_listening', 5000);
    const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const deadline = Date.now() + 15_000;
    let text = '';
    // The call's end reaches the worker a moment after the caller hangs up.
    while (Date.now() < deadline) {
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      if (value(text, 'voicefleet_active_calls{activity="talking"}') === 0 && text.includes('voicefleet_calls_total{')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    for (const stage of ['end_of_turn', 'transcription', 'llm_first_token', 'tts_first_audio', 'voice_to_voice']) {
      expect(value(text, `voicefleet_turn_stage_seconds_count{stage="${stage}"}`), stage).toBeGreaterThan(0);
    }
    expect(text).toMatch(/^voicefleet_calls_total\{disposition="[a-z_]+"\} [1-9]/m);
    expect(value(text, 'voicefleet_active_calls{activity="talking"}')).toBe(0);
    expect(text).toContain('voicefleet_worker_process_resident_memory_bytes');
  }, 150_000);
});
