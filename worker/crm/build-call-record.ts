import type { llm } from '@livekit/agents';
import { redactSensitive } from '../../agents/guardrails/redact.js';
import type { CallOutcome } from '../../agents/workflow/outcome.js';
import type { CallStats } from '../session-observer.js';
import { summarize, type CallRecord } from './call-record.js';

/** Assembles a finished call's record from what the worker saw. */
export function buildCallRecord(args: {
  callId: string;
  room: string;
  deployment: string;
  businessName: string;
  direction: CallRecord['direction'];
  caller?: string;
  dialed?: string;
  externalId?: string;
  startedAt: Date;
  endedAt: Date;
  endReason: string;
  outcome: CallOutcome;
  history: readonly llm.ChatItem[];
  /** The session's turn measurements; a call no agent answered has none. */
  stats?: CallStats;
  /** Where the call's audio is kept (a voicemail), as a URI. */
  recording?: string;
  source?: CallRecord['source'];
}): CallRecord {
  const transcript = args.history.flatMap((item) =>
    item.type === 'message' && (item.role === 'user' || item.role === 'assistant') && item.textContent
      ? [{ role: item.role === 'user' ? ('caller' as const) : ('agent' as const), text: redactSensitive(item.textContent).slice(0, 2000) }]
      : [],
  );
  return {
    version: 1,
    callId: args.callId,
    room: args.room,
    deployment: args.deployment,
    direction: args.direction,
    ...(args.caller ? { caller: args.caller } : {}),
    ...(args.dialed ? { dialed: args.dialed } : {}),
    ...(args.externalId ? { externalId: args.externalId } : {}),
    startedAt: args.startedAt.toISOString(),
    endedAt: args.endedAt.toISOString(),
    durationMs: Math.max(0, args.endedAt.getTime() - args.startedAt.getTime()),
    endReason: args.endReason.slice(0, 64),
    source: args.source ?? 'worker',
    outcome: args.outcome,
    summary: summarize(args.outcome, args.businessName),
    transcript: transcript.slice(-500),
    recording: args.recording ? { uri: args.recording } : null,
    latency: args.stats
      ? {
          turns: args.stats.turns,
          ...spread('endOfTurnMs', args.stats.endOfTurnMs),
          ...spread('llmFirstTokenMs', args.stats.llmFirstTokenMs),
          ...spread('ttsFirstAudioMs', args.stats.ttsFirstAudioMs),
        }
      : { turns: 0 },
  };
}

function spread<K extends string>(key: K, samples: number[]): Partial<Record<K, { p50: number; max: number }>> {
  const valid = samples.filter((v) => Number.isFinite(v) && v >= 0).sort((a, b) => a - b);
  if (valid.length === 0) return {};
  return { [key]: { p50: Math.round(valid[Math.floor((valid.length - 1) / 2)]!), max: Math.round(valid.at(-1)!) } } as Partial<Record<K, { p50: number; max: number }>>;
}
