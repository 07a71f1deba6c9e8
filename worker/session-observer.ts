import { voice } from '@livekit/agents';
import type { MetricsReporter } from './metrics/metrics-reporter.js';
import { traceTurns } from './metrics/turn-trace-session.js';
import type { TurnTrace } from './metrics/turn-trace.js';
import type { Logger } from 'pino';
import { redactSensitive } from '../agents/guardrails/redact.js';

/**
 * Turns a session's events into one structured log line per call event. Transcripts go under
 * `pii`, which the logger drops at info level.
 */
/** Per-call latency figures, for the call record. */
export interface CallStats {
  turns: number;
  endOfTurnMs: number[];
  llmFirstTokenMs: number[];
  ttsFirstAudioMs: number[];
}

export function observeSession(args: {
  session: voice.AgentSession;
  log: Logger;
  startedAt: number;
  /** Runs before the call_ended line, so a call's outcome is logged (and queued) first. */
  onClose?: (reason: string) => void;
  /** Per-stage latencies and errors, for the worker's Prometheus metrics. */
  metrics?: MetricsReporter;
  /** The call's id, carried by its turn traces. */
  callId?: string;
  /** Each answered caller turn, after its `turn` line is logged (published to the room, traced). */
  onTurn?: (trace: TurnTrace) => void;
}): CallStats {
  const { session, log, startedAt, onClose, metrics, onTurn } = args;
  const stats: CallStats = { turns: 0, endOfTurnMs: [], llmFirstTokenMs: [], ttsFirstAudioMs: [] };
  let turns = 0;
  const E = voice.AgentSessionEventTypes;

  // One line per answered turn replaces a line per framework metric.
  traceTurns(session, args.callId ?? 'unknown', (trace) => {
    const { stages } = trace;
    if (trace.totalMs !== undefined) metrics?.report({ kind: 'stage', stage: 'voice_to_voice', seconds: trace.totalMs / 1000 });
    log.info(
      { event: 'turn', turn: trace.turn, speechId: trace.speechId, interrupted: trace.interrupted, ...stages, llmTtftMs: trace.llmTtftMs, ttsTtfbMs: trace.ttsTtfbMs, totalMs: trace.totalMs },
      'turn measured',
    );
    onTurn?.(trace);
  }, (error) => log.warn({ event: 'turn_trace_failed', error: error.message }, 'turn could not be traced'));

  session.on(E.UserInputTranscribed, (ev) => {
    if (!ev.isFinal) return;
    turns += 1;
    stats.turns = turns;
    log.info({ event: 'user_turn', turn: turns, pii: { transcript: redactSensitive(ev.transcript) } }, 'caller turn transcribed');
  });

  session.on(E.ConversationItemAdded, (ev) => {
    const item = ev.item;
    if (item.type !== 'message' || item.role !== 'assistant') return;
    log.info(
      { event: 'agent_turn', interrupted: item.interrupted, pii: { text: redactSensitive(item.textContent ?? '') } },
      'agent turn spoken',
    );
  });

  session.on(E.AgentStateChanged, (ev) => {
    log.debug({ event: 'agent_state', from: ev.oldState, to: ev.newState }, 'agent state changed');
  });

  session.on(E.EotPrediction, (ev) => {
    log.info(
      { event: 'eot_prediction', probability: Number(ev.probability.toFixed(3)), threshold: ev.threshold, delayMs: Math.round(ev.delayMs) },
      'end-of-turn model predicted',
    );
  });

  session.on(E.MetricsCollected, (ev) => {
    const m = ev.metrics;
    switch (m.type) {
      case 'eou_metrics':
        stats.endOfTurnMs.push(m.endOfUtteranceDelayMs);
        metrics?.report({ kind: 'stage', stage: 'end_of_turn', seconds: m.endOfUtteranceDelayMs / 1000 });
        metrics?.report({ kind: 'stage', stage: 'transcription', seconds: m.transcriptionDelayMs / 1000 });
        break;
      case 'llm_metrics':
        stats.llmFirstTokenMs.push(m.ttftMs);
        metrics?.report({ kind: 'stage', stage: 'llm_first_token', seconds: m.ttftMs / 1000 });
        break;
      case 'tts_metrics':
        stats.ttsFirstAudioMs.push(m.ttfbMs);
        metrics?.report({ kind: 'stage', stage: 'tts_first_audio', seconds: m.ttfbMs / 1000 });
        break;
      default:
        break;
    }
  });

  session.on(E.Error, (ev) => {
    const error = ev.error as { label?: string; recoverable?: boolean; error?: Error } | undefined;
    metrics?.report({ kind: 'error', source: error?.label ?? 'session' });
    log.warn(
      { event: 'provider_error', provider: error?.label, recoverable: error?.recoverable, error: error?.error?.message },
      'provider error',
    );
  });

  session.on(E.Close, (ev) => {
    try {
      onClose?.(String(ev.reason));
    } catch (error) {
      log.error({ event: 'call_outcome_failed', error: (error as Error).message }, 'call outcome could not be recorded');
    }
    log.info(
      { event: 'call_ended', reason: ev.reason, turns, durationMs: Date.now() - startedAt, error: describeError(ev.error) },
      'call ended',
    );
  });
  return stats;
}

function describeError(error: unknown): string | undefined {
  if (!error) return undefined;
  if (error instanceof Error) return error.message;
  const inner = (error as { error?: unknown }).error;
  return inner instanceof Error ? inner.message : String(inner);
}
