import { readdirSync, readFileSync } from 'node:fs';
import { RESUME_APOLOGY } from '../../agents/workflow/phrases.js';
import { BookingCall } from '../../test/support/booking-call.js';
import type { DeepgramCompatibleServer } from '../../test/support/deepgram-compatible-server.js';
import type { OpenAICompatibleServer, StubMode } from '../../test/support/openai-compatible-server.js';
import type { WorkerProcess } from '../../test/support/worker-process.js';
import { Caller } from '../../worker/testing/caller.js';
import type { ChaosStack } from './chaos-stack.js';

export interface TrialResult {
  kind: string;
  agent: 'voicefleet' | 'stock';
  survived: boolean;
  contextKept: boolean;
  /** Worst silence at the caller after the fault (ms); undefined when the call never came back. */
  silenceMs?: number;
  note?: string;
}

/** How long a caller waits after a fault before the call counts as dropped. */
const GIVE_UP_MS = 30_000;
/** The pid a call's job process logged itself with. */
const jobPidOf = (worker: WorkerProcess, room: string) =>
  Number(worker.lines.find((l) => l.room === room && typeof l.pid === 'number' && l.pid !== worker.pid)?.pid);

/**
 * A booking with three caller turns (ask, a price question, an hours question), then the fault,
 * then the rest of the booking. Context is kept when the new agent's first words repeat the
 * question the caller was answering and the booking completes with the time first offered.
 */
export async function bookingThroughFault(
  stack: ChaosStack,
  agentName: string,
  kind: string,
  fault: (call: BookingCall) => Promise<void>,
  expectApology: boolean,
): Promise<TrialResult> {
  const call = await BookingCall.join(stack, agentName);
  try {
    await call.greeting();
    const offered = await call.askForTimes();
    await call.caller.turn('how much does it cost', 30_000);
    await call.caller.turn('what are your opening hours', 30_000);
    const mark = call.fault();
    await fault(call);
    let apologised = false;
    if (expectApology) {
      const apology = await call.resumed(mark.at, GIVE_UP_MS).catch(() => undefined);
      if (!apology) return { kind, agent: 'voicefleet', survived: false, contextKept: false, note: 'no agent came back' };
      apologised = /Which (of those times )?would you like/.test(apology.text);
    }
    const booked = await call.book().catch((error: Error) => error.message);
    const survived = booked.includes('You are booked for');
    return {
      kind,
      agent: 'voicefleet',
      survived,
      contextKept: survived && booked.includes(offered) && (apologised || !expectApology),
      silenceMs: call.worstSilenceMs(mark),
      note: survived ? undefined : booked.slice(0, 120),
    };
  } finally {
    await call.hangUp();
  }
}

/** kill -9 of the job process running the call, after three turns. */
export const killJob = (worker: () => WorkerProcess) => async (call: BookingCall) => {
  process.kill(jobPidOf(worker(), call.room), 'SIGKILL');
};

/**
 * kill -9 of the worker's parent process only (its job processes live on, orphaned). Afterwards
 * no process of the killed worker's group may be left running once the orphaned job has handed
 * its call over and exited. Zombies are counted apart: an exited orphan is reaped by PID 1, and a
 * container's PID 1 that reaps nothing (no --init) keeps them, whatever the worker does.
 */
export async function leftoversOf(pgid: number, timeoutMs = 20_000): Promise<{ running: number[]; zombies: number[] }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = processesInGroup(pgid);
    const running = left.filter((p) => p.state !== 'Z').map((p) => p.pid);
    if (running.length === 0 || performance.now() > deadline) return { running, zombies: left.filter((p) => p.state === 'Z').map((p) => p.pid) };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every process (zombies included) whose process group is `pgid`, from /proc. */
export function processesInGroup(pgid: number): { pid: number; state: string }[] {
  const found: { pid: number; state: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) found.push({ pid: Number(entry), state: fields[0]! });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/**
 * The stock starter agent through a job kill: three receptionist questions, kill -9 of its job,
 * then the caller waits and asks again. Nothing brings a stock agent back.
 */
export async function stockThroughKill(stack: ChaosStack, agentName: string, kind: string, kill: (room: string) => Promise<void>): Promise<TrialResult> {
  const caller = await Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName });
  try {
    await caller.greeting(30_000);
    await caller.waitForAgentToFinish(30_000);
    for (const line of ['what are your opening hours', 'where are you located', 'how much does it cost']) await caller.turn(line, 30_000);
    const at = performance.now();
    await kill(caller.roomName);
    await new Promise((r) => setTimeout(r, 10_000));
    const again = await caller.turn('are you still there', GIVE_UP_MS).catch(() => undefined);
    const heard = [...caller.agentBursts, ...caller.backgroundBursts].find((b) => b.startedAt >= at);
    const survived = Boolean(again?.agentTranscript);
    return {
      kind,
      agent: 'stock',
      survived,
      contextKept: survived && (again?.agentTranscript.includes(RESUME_APOLOGY) ?? false),
      silenceMs: heard ? Math.round(heard.startedAt - at) : undefined,
      note: survived ? undefined : 'silence until the caller gave up',
    };
  } finally {
    await caller.hangUp();
  }
}

export { jobPidOf };

/** The caller's questions around a provider outage, and what a right answer to each contains. */
const OUTAGE_LINES = [
  { line: 'what are your opening hours', answer: 'Monday to Friday' },
  { line: 'where are you located', answer: 'Main Street' },
  { line: 'how much does it cost', answer: '95' },
] as const;

export interface ProviderFailure {
  llm: StubMode;
  speech: OpenAICompatibleServer['speechMode'];
  /** Deepgram cuts its live stream and refuses to reconnect. */
  sttDown?: boolean;
}

/**
 * A call on the cloud stack (Deepgram STT, OpenAI LLM and TTS, all local stubs) whose LLM, TTS or
 * STT fails after its first turn: the fallbacks must answer every later question, and answer it
 * right (the facts asked for, not a reprompt). The first turn proves the cloud provider served
 * the call before it failed.
 */
export async function providerOutage(
  stack: ChaosStack,
  stubs: { openai: OpenAICompatibleServer; deepgram: DeepgramCompatibleServer },
  agentName: string,
  kind: string,
  failure: ProviderFailure,
): Promise<TrialResult> {
  const { openai, deepgram } = stubs;
  openai.mode = 'workflow';
  openai.speechMode = 'tone';
  deepgram.restore();
  deepgram.phrases = OUTAGE_LINES.map((l) => l.line);
  const finalsBefore = deepgram.finals;
  const caller = await Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName });
  try {
    await caller.greeting(30_000);
    await caller.waitForAgentToFinish(30_000);
    const [first, ...rest] = OUTAGE_LINES;
    const before = await caller.turn(first.line, 30_000);
    if (deepgram.finals === finalsBefore) return { kind, agent: 'voicefleet', survived: false, contextKept: false, note: 'Deepgram did not serve the call before the outage' };
    if (!before.agentTranscript.includes(first.answer)) return { kind, agent: 'voicefleet', survived: false, contextKept: false, note: `before the outage: "${before.agentTranscript.slice(0, 80)}"` };
    openai.mode = failure.llm;
    openai.speechMode = failure.speech;
    if (failure.sttDown) deepgram.goDown();
    const turns = [];
    for (const { line } of rest) turns.push(await caller.turn(line, 30_000).catch(() => undefined));
    const answered = turns.every((t) => t?.agentTranscript);
    const right = turns.every((t, i) => t?.agentTranscript.includes(rest[i]!.answer));
    return {
      kind,
      agent: 'voicefleet',
      survived: answered,
      contextKept: right,
      silenceMs: answered ? Math.round(Math.max(...turns.map((t) => t!.firstHeardMs))) : undefined,
      note: right ? undefined : `after the outage: ${turns.map((t) => JSON.stringify(t?.agentTranscript.slice(0, 60) ?? null)).join(', ')}`,
    };
  } finally {
    openai.mode = 'workflow';
    openai.speechMode = 'tone';
    deepgram.restore();
    await caller.hangUp();
  }
}

/** No worker registered when the call arrives: the supervisor's apology must come within 10 s. */
export async function noWorkerAtArrival(stack: ChaosStack, agentName: string): Promise<TrialResult> {
  const caller = await Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName, metadata: '{"workflow":"booking"}' });
  try {
    const heard = await caller.waitForBackgroundAudio(GIVE_UP_MS).catch(() => undefined);
    const ms = heard ? Math.round(heard.startedAt - caller.joinedAt) : undefined;
    return { kind: 'no-worker-at-arrival', agent: 'voicefleet', survived: ms !== undefined && ms <= 10_000, contextKept: false, silenceMs: ms, note: 'fallback apology, then voicemail' };
  } finally {
    await caller.hangUp();
  }
}
