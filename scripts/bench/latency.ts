import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestStack } from '../../test/support/servers.js';
import { type LogLine, WorkerProcess } from '../../test/support/worker-process.js';
import { Caller } from '../../worker/testing/caller.js';
import { type BenchProviders, CALLER_LINES } from './latency-providers.js';
import { ProcessGroupSampler, type UsageSummary } from './process-usage.js';
import { progress } from './results.js';

export type Peer = 'voicefleet' | 'stock';

/** The samples of one agent at one concurrency. */
export interface LevelRun {
  peer: Peer;
  calls: number;
  /** Caller end of speech -> first agent audio at the caller, every turn of every call. */
  v2vMs: number[];
  /** Caller joined (answered) -> first greeting audio at the caller. */
  setupMs: number[];
  /** Per-stage latencies the agent's session measured (its `metrics` log lines). */
  stages: {
    /** Caller's last word -> turn committed: the end-of-turn decision. */
    endOfTurnMs: number[];
    /** Caller's last word -> final transcript. */
    transcriptionMs: number[];
    /** The LLM's and the TTS's own time to first token / byte, from their request. */
    llmFirstTokenMs: number[];
    ttsFirstAudioMs: number[];
    /** Caller's last word -> first answer audio published by the agent (its own clock). */
    agentSideV2vMs: number[];
    /**
     * The end-of-turn model's probability minus its threshold, per prediction: below zero the
     * model found the turn unfinished and endpointing waited its max delay, the ceiling of v2v.
     */
    eotMargin: number[];
  };
  /** v2v per caller line: which line's turns sit at the endpointing ceiling. */
  v2vByLine: Record<string, number[]>;
  /** The worker's process tree while the callers talked (greetings excluded). */
  usage: UsageSummary;
  failedTurns: number;
  failedCalls: number;
}

export interface LatencyOptions {
  stack: TestStack;
  providers: BenchProviders;
  /** Concurrency levels, ascending; each agent runs every one. */
  levels: number[];
  turns: number;
  peers: Peer[];
  /** Times each level runs, one after another, its samples pooled (a greeting is one sample per call). */
  rounds?: number;
  /** Called with each finished level (the CLI shows a progress line). */
  onLevel?: (run: LevelRun) => void;
}

/**
 * One worker process per agent, then, per concurrency level, that many WebRTC callers at once:
 * each is greeted, and once every caller has been greeted (so job start-up does not load the
 * turns), each says `turns` lines, a little staggered, as callers are.
 */
export async function runLatency(options: LatencyOptions): Promise<LevelRun[]> {
  const runs: LevelRun[] = [];
  const most = Math.max(...options.levels);
  for (const peer of options.peers) {
    const agentName = `vf-bench-${peer}-${randomUUID().slice(0, 6)}`;
    const env = { ...options.providers.env, VOICEFLEET_AGENT_NAME: agentName };
    const worker =
      peer === 'voicefleet'
        ? await WorkerProcess.startRegistered(options.stack, {
            ...env,
            // One worker process takes every caller of the run, each in a warm job process.
            VOICEFLEET_MAX_CALLS_PER_WORKER: String(most),
            VOICEFLEET_IDLE_PROCESSES: String(most),
          })
        : await WorkerProcess.startStock(options.stack, env);
    try {
      // The stock worker keeps the framework's default pool (min(cores, 4) in production).
      const pool = peer === 'voicefleet' ? most : 0;
      let callsSoFar = 0;
      for (const calls of options.levels) {
        let pooled: LevelRun | undefined;
        for (let round = 0; round < (options.rounds ?? 1); round++) {
          await warmProcesses(worker, pool + callsSoFar);
          callsSoFar += calls;
          const run = await runLevel(options, worker, peer, agentName, calls);
          pooled = pooled ? poolRuns(pooled, run) : run;
        }
        runs.push(pooled!);
        options.onLevel?.(pooled!);
      }
    } finally {
      await worker.stop();
    }
  }
  return runs;
}

/** Two rounds of one level as one: every sample of both, usage averaged over their time. */
export function poolRuns(a: LevelRun, b: LevelRun): LevelRun {
  const seconds = a.usage.seconds + b.usage.seconds;
  const mean = (x: number, y: number) => (seconds > 0 ? (x * a.usage.seconds + y * b.usage.seconds) / seconds : NaN);
  const stages = Object.fromEntries(Object.entries(a.stages).map(([k, v]) => [k, [...v, ...b.stages[k as keyof LevelRun['stages']]]])) as LevelRun['stages'];
  return {
    peer: a.peer,
    calls: a.calls,
    v2vMs: [...a.v2vMs, ...b.v2vMs],
    v2vByLine: Object.fromEntries([...new Set([...Object.keys(a.v2vByLine), ...Object.keys(b.v2vByLine)])].map((k) => [k, [...(a.v2vByLine[k] ?? []), ...(b.v2vByLine[k] ?? [])]])),
    setupMs: [...a.setupMs, ...b.setupMs],
    stages,
    usage: {
      cpuCores: mean(a.usage.cpuCores, b.usage.cpuCores),
      peakRssMiB: Math.max(a.usage.peakRssMiB, b.usage.peakRssMiB),
      addedRssMiB: Math.max(a.usage.addedRssMiB, b.usage.addedRssMiB),
      addedPssMiB: Math.max(a.usage.addedPssMiB, b.usage.addedPssMiB),
      machineLoad: mean(a.usage.machineLoad, b.usage.machineLoad),
      seconds,
    },
    failedTurns: a.failedTurns + b.failedTurns,
    failedCalls: a.failedCalls + b.failedCalls,
  };
}

/**
 * Waits (bounded) until the worker has logged `ready` job processes in all: a job process takes
 * one call and exits, and the worker starts a new one in its place, so after the callers of the
 * levels so far the warm pool is whole again at pool size + calls so far.
 */
async function warmProcesses(worker: WorkerProcess, ready: number): Promise<void> {
  const deadline = performance.now() + 90_000;
  while (worker.countEvents('job_process_ready') < ready && performance.now() < deadline) await sleep(250);
  // Let the last process finish settling (its first inference, its log lines).
  await sleep(1000);
}

async function runLevel(options: LatencyOptions, worker: WorkerProcess, peer: Peer, agentName: string, calls: number): Promise<LevelRun> {
  const { stack, turns } = options;
  const firstLine = worker.lines.length;
  const label = `${peer} x${calls}`;
  const total = calls * (turns + 1);
  let done = 0;
  const tick = () => progress(label, ++done, total);
  progress(label, 0, total);

  const sampler = worker.pid ? new ProcessGroupSampler(worker.pid) : undefined;
  sampler?.markIdle();
  const joined = await Promise.allSettled(
    Array.from({ length: calls }, () => Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName })),
  );
  const callers = joined.flatMap((j) => (j.status === 'fulfilled' ? [j.value] : []));
  const setupMs: number[] = [];
  const greeted: Caller[] = [];
  await Promise.all(
    callers.map(async (caller) => {
      try {
        setupMs.push((await caller.greeting(120_000)).joinToGreetingMs);
        greeted.push(caller);
      } catch (error) {
        // counted as a failed call below
        console.error(`\n${label}: no greeting: ${(error as Error).message}\n${telling(worker.lines.slice(firstLine), 12)}`);
      }
      tick();
    }),
  );

  sampler?.start();
  const v2vMs: number[] = [];
  const v2vByLine: Record<string, number[]> = {};
  let failedTurns = 0;
  await Promise.all(
    greeted.map(async (caller, index) => {
      // Real callers do not speak in lockstep; spread the first lines over about a second.
      await sleep((index * 1000) / Math.max(1, greeted.length));
      for (let t = 0; t < turns; t++) {
        try {
          const line = CALLER_LINES[t % CALLER_LINES.length]!;
          const report = await caller.turn(line, 60_000);
          v2vMs.push(report.firstAgentAudioMs);
          (v2vByLine[line] ??= []).push(report.firstAgentAudioMs);
        } catch (error) {
          failedTurns += 1;
          console.error(`\n${label}: turn ${t + 1} failed: ${(error as Error).message}`);
        }
        tick();
      }
    }),
  );
  const usage = sampler?.stop() ?? { cpuCores: NaN, peakRssMiB: NaN, addedRssMiB: NaN, addedPssMiB: NaN, machineLoad: NaN, seconds: 0 };
  await Promise.all(callers.map((c) => c.hangUp().catch(() => undefined)));
  progress(label, total, total);
  if (failedTurns > 0 || greeted.length < calls) {
    // The worker's whole log of the level, to find out why: the console gets only its tail.
    const path = join(mkdtempSync(join(tmpdir(), 'voicefleet-bench-')), `${peer}-x${calls}.jsonl`);
    writeFileSync(path, worker.lines.slice(firstLine).map((l) => JSON.stringify(l)).join('\n'));
    console.error(`\n${label}: ${calls - greeted.length} calls not greeted, ${failedTurns} turns failed; worker log: ${path}`);
  }

  return {
    peer,
    calls,
    v2vMs,
    v2vByLine,
    setupMs,
    stages: stagesOf(worker.lines.slice(firstLine)),
    usage,
    failedTurns: failedTurns + (callers.length - greeted.length) * turns,
    failedCalls: calls - greeted.length,
  };
}

/**
 * The session's own stage measurements, as both agents log them (worker/session-observer.ts):
 * one `turn` line per answered turn, or the older one `metrics` line per framework metric.
 */
export function stagesOf(lines: readonly LogLine[]): LevelRun['stages'] {
  const stages: LevelRun['stages'] = { endOfTurnMs: [], transcriptionMs: [], llmFirstTokenMs: [], ttsFirstAudioMs: [], agentSideV2vMs: [], eotMargin: [] };
  const push = (list: number[], value: unknown) => {
    if (typeof value === 'number' && Number.isFinite(value)) list.push(value);
  };
  for (const line of lines) {
    if (line.event === 'turn') {
      push(stages.endOfTurnMs, line.eouDecisionMs);
      push(stages.transcriptionMs, line.sttFinalMs);
      push(stages.llmFirstTokenMs, line.llmTtftMs);
      push(stages.ttsFirstAudioMs, line.ttsTtfbMs);
      push(stages.agentSideV2vMs, line.totalMs);
    } else if (line.event === 'eot_prediction') {
      if (typeof line.probability === 'number' && typeof line.threshold === 'number') push(stages.eotMargin, Number((line.probability - line.threshold).toFixed(3)));
    } else if (line.event === 'metrics') {
      if (line.kind === 'eou') {
        push(stages.endOfTurnMs, line.endOfUtteranceDelayMs);
        push(stages.transcriptionMs, line.transcriptionDelayMs);
      } else if (line.kind === 'llm') push(stages.llmFirstTokenMs, line.ttftMs);
      else if (line.kind === 'tts') push(stages.ttsFirstAudioMs, line.ttfbMs);
    }
  }
  return stages;
}

/** A machine this busy floods the log with the same warnings; what is left tells what happened. */
const NOISE = /slower than realtime|event loop blocked|process not scheduled/;

function telling(lines: readonly LogLine[], n: number): string {
  return lines
    .filter((l) => !NOISE.test(String(l.msg ?? '')))
    .slice(-n)
    .map((l) => JSON.stringify(l).slice(0, 300))
    .join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
