import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createWorkflow } from '../../agents/workflows.js';
import { startTestStack, type TestStack } from '../../test/support/servers.js';
import { OpenAICompatibleServer, type ProviderFailure, turnWhileProvidersFail } from '../../test/support/openai-compatible-server.js';
import { WorkerProcess } from '../../test/support/worker-process.js';
import { Caller } from '../../worker/testing/caller.js';
import type { Peer } from './latency.js';
import type { ProviderSet } from './latency-providers.js';
import { latencySuite } from './latency-suite.js';
import { queuesBench } from './queues.js';
import { figure, progress, writeResult } from './results.js';
import { stopChildrenOnSignal } from '../fleet/managed-process.js';

/**
 * `npm run bench`: suites that measure the real local fleet (livekit-server, an agent worker,
 * WebRTC callers on loopback) and write bench/results/<suite>-*.json.
 *
 *   npm run bench -- --suite barge-in --trials 20
 *   npm run bench -- --suite provider-failure --trials 3
 *   npm run bench -- --suite queues --trials 2000      (call records through CRM sync)
 *   npm run bench -- --suite latency --calls 10 --turns 3 --providers injected --sweep 1,4
 *        (voicefleet and the stock agents-js agent side by side; --peers voicefleet,stock;
 *        --rounds N runs each level N times in a row and pools the samples)
 *   npm run bench                      (every suite, default trials)
 */
const SUITES = ['barge-in', 'provider-failure', 'queues', 'latency'] as const;
type Suite = (typeof SUITES)[number];
const DEFAULT_TRIALS: Record<Suite, number> = { 'barge-in': 20, 'provider-failure': 3, queues: 2000, latency: 0 };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      suite: { type: 'string' },
      trials: { type: 'string' },
      calls: { type: 'string', default: '10' },
      turns: { type: 'string', default: '3' },
      providers: { type: 'string', default: 'injected' },
      sweep: { type: 'string', default: '1,4' },
      peers: { type: 'string', default: 'voicefleet,stock' },
      rounds: { type: 'string', default: '1' },
    },
  });
  const latencyOptions = {
    calls: positiveInt(values.calls!, '--calls'),
    turns: positiveInt(values.turns!, '--turns'),
    providers: oneOf(values.providers!, ['injected', 'offline'] as const, '--providers') as ProviderSet,
    sweep: values.sweep ? values.sweep.split(',').map((v) => positiveInt(v, '--sweep')) : [],
    peers: values.peers!.split(',').map((p) => oneOf(p, ['voicefleet', 'stock'] as const, '--peers')) as Peer[],
    rounds: positiveInt(values.rounds!, '--rounds'),
  };
  const suites: Suite[] = values.suite ? [values.suite as Suite] : [...SUITES];
  for (const suite of suites) {
    if (!SUITES.includes(suite)) throw new Error(`--suite must be one of ${SUITES.join(', ')}`);
  }
  // The queue suite needs only Redis (it starts its own); the others need the whole stack.
  const stack = suites.some((s) => s !== 'queues') ? await startTestStack() : undefined;
  try {
    for (const suite of suites) {
      const trials = Number(values.trials ?? DEFAULT_TRIALS[suite]);
      const path =
        suite === 'barge-in'
          ? await bargeIn(stack!, trials)
          : suite === 'provider-failure'
            ? await providerFailure(stack!, trials)
            : suite === 'latency'
              ? await latencySuite(stack!, latencyOptions)
              : await queuesBench(trials, 8);
      console.log(`${suite}: ${path}`);
    }
  } finally {
    await stack?.stop();
  }
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive whole number, got "${value}"`);
  return n;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!allowed.includes(value as T)) throw new Error(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** Barge-in stop time: caller starts talking over the agent -> the agent's audio stops at the caller. */
async function bargeIn(stack: TestStack, trials: number): Promise<string> {
  const agentName = `vf-bench-${randomUUID().slice(0, 8)}`;
  const worker = await WorkerProcess.startRegistered(stack, { VOICEFLEET_AGENT_NAME: agentName });
  const stopMs: number[] = [];
  const replyMs: number[] = [];
  let failed = 0;
  try {
    for (let i = 0; i < trials; i++) {
      progress('barge-in', i, trials, stopMs.length ? `last ${Math.round(stopMs.at(-1)!)} ms` : '');
      const caller = await Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName });
      try {
        await caller.greeting(30_000);
        await caller.say('what are your opening hours');
        const { stopMs: stop, reply } = await caller.bargeIn('where are you located', 1000, 30_000);
        stopMs.push(stop);
        replyMs.push(reply.firstAgentAudioMs);
      } catch (error) {
        failed += 1;
        console.error(`\ntrial ${i + 1} failed: ${(error as Error).message}`);
      } finally {
        await caller.hangUp();
      }
    }
    progress('barge-in', trials, trials);
  } finally {
    await worker.stop();
  }
  return writeResult({
    suite: 'barge-in',
    config: { trials, transport: 'webrtc', providers: 'offline (silero VAD, pocketsphinx, workflow engine, flite)', bargeInAfterMs: 1000 },
    figures: { stop_ms: figure(stopMs), reply_after_barge_in_ms: figure(replyMs) },
    faults: { trials, failed },
    notes:
      'stop_ms: from the first sample of the caller speaking over the agent to the last audible agent sample at the caller. Includes VAD speech detection and the minimum interruption duration (turn-handling.ts), which phone audio needs to ignore clicks and coughs.',
  });
}

/**
 * The longest silence a caller hears when a cloud provider fails: OpenAI (LLM and TTS) pointed at
 * a local endpoint that errors or stalls, the offline stack behind it. Figures: caller end of
 * speech -> first thing heard, and -> the answer, per failure mode, against the healthy endpoint.
 */
async function providerFailure(stack: TestStack, trials: number): Promise<string> {
  const receptionist = createWorkflow('receptionist');
  const stub = await OpenAICompatibleServer.start(receptionist);
  const agentName = `vf-bench-${randomUUID().slice(0, 8)}`;
  const worker = await WorkerProcess.startRegistered(stack, {
    VOICEFLEET_AGENT_NAME: agentName,
    OPENAI_API_KEY: 'sk-local-bench',
    OPENAI_BASE_URL: stub.baseURL,
  });
  const modes: (ProviderFailure & { name: string })[] = [
    { name: 'healthy', llm: 'workflow', speech: 'tone' },
    { name: 'llm_error500', llm: 'error500', speech: 'tone' },
    { name: 'llm_stall_before_headers', llm: 'stallBeforeHeaders', speech: 'tone' },
    { name: 'llm_stall_mid_stream', llm: 'stallMidStream', speech: 'tone' },
    { name: 'tts_error500', llm: 'workflow', speech: 'error500' },
    { name: 'tts_stall', llm: 'workflow', speech: 'stallBeforeHeaders' },
    { name: 'llm_and_tts_stall', llm: 'stallBeforeHeaders', speech: 'stallBeforeHeaders' },
  ];
  const figures: Record<string, ReturnType<typeof figure>> = {};
  let failed = 0;
  const total = modes.length * trials;
  let done = 0;
  try {
    for (const mode of modes) {
      const gaps: number[] = [];
      const heard: number[] = [];
      for (let i = 0; i < trials; i++) {
        progress('provider-failure', done, total, mode.name);
        try {
          const turn = await turnWhileProvidersFail(stack, stub, agentName, mode, 'where are you located');
          gaps.push(turn.firstAgentAudioMs);
          heard.push(turn.firstHeardMs);
        } catch (error) {
          failed += 1;
          console.error(`\n${mode.name} trial ${i + 1} failed: ${(error as Error).message}`);
        }
        done += 1;
      }
      figures[`${mode.name}_heard_ms`] = figure(heard);
      figures[`${mode.name}_answer_ms`] = figure(gaps);
    }
    progress('provider-failure', total, total);
  } finally {
    await worker.stop();
    await stub.close();
  }
  return writeResult({
    suite: 'provider-failure',
    config: { trialsPerMode: trials, transport: 'webrtc', providers: 'OpenAI plugin -> local endpoint, offline stack as fallback' },
    figures,
    faults: { trials: total, failed },
    notes:
      'heard: caller end of speech -> the first agent audio the caller hears on either track (the holding phrase on the background track when the answer is slow: VOICEFLEET_DEAD_AIR_BUDGET_MS, 1200 ms after the VAD end of speech, at least 200 ms of thinking). answer: caller end of speech -> first audible answer on the agent track. Both include the end-of-turn delay. The LLM attempt timeout is VOICEFLEET_LLM_ATTEMPT_TIMEOUT_MS (1200), the TTS one VOICEFLEET_TTS_ATTEMPT_TIMEOUT_MS (1500).',
  });
}

stopChildrenOnSignal();
main()
  // The callers' rtc-node rooms keep native handles open: exit once the results are written.
  .then(() => process.exit(0))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
