import { z } from 'zod';

/** Text stream topic each TurnTrace is published on, as JSON, into the call's room. */
export const TURN_TRACE_TOPIC = 'voicefleet.turn';

const ms = z.number().finite();

/**
 * One turn of a call, caller end of speech to the agent's first audio, as one record: the
 * `turn` log line, the `voicefleet.turn` span and the JSON on {@link TURN_TRACE_TOPIC} all carry
 * this shape.
 *
 * Every `stages` figure is milliseconds after `speechEndedAt` (the caller's end of speech as the
 * VAD saw it). A stage the turn never reached (an interrupted reply, a tool call that produced no
 * speech) is absent.
 */
export const turnTraceSchema = z.object({
  callId: z.string(),
  /** 1-based count of answered caller turns in this call. */
  turn: z.number().int().positive(),
  /** The framework's speech handle id of the reply. */
  speechId: z.string(),
  /** The caller talked over the reply and it was cut off. */
  interrupted: z.boolean(),
  /** Wall clock (ms since the epoch) of the caller's end of speech. */
  speechEndedAt: ms,
  stages: z.object({
    /** End-of-turn decision (VAD silence + end-of-turn model). */
    eouDecisionMs: ms.optional(),
    /** Final transcript of the caller's words. */
    sttFinalMs: ms.optional(),
    /** First token of the reply from the LLM (negative if preemptive generation started early). */
    llmFirstTokenMs: ms.optional(),
    /** First synthesized audio of the reply. */
    ttsFirstAudioMs: ms.optional(),
    /** First agent audio frame pushed to the published track (the framework's `playbackStarted`). */
    firstAudioPublishedMs: ms.optional(),
    /**
     * First agent audio heard by the caller. Only the scripted test caller fills this in (it
     * shares the worker's clock); the worker never knows it.
     */
    firstAudioAtCallerMs: ms.optional(),
  }),
  /** LLM time to first token from its own request start (the framework's `ttftMs`). */
  llmTtftMs: ms.optional(),
  /** TTS time to first byte from its own request start (the framework's `ttfbMs`). */
  ttsTtfbMs: ms.optional(),
  /** Voice to voice at the agent: caller end of speech to first agent audio published. */
  totalMs: ms.optional(),
});
export type TurnTrace = z.infer<typeof turnTraceSchema>;
export type TurnStageName = keyof TurnTrace['stages'];

/** The parts of the framework's metrics events (`MetricsCollected`) a trace is built from. */
export type TraceMetrics =
  | {
      type: 'eou_metrics';
      timestamp: number;
      endOfUtteranceDelayMs: number;
      transcriptionDelayMs: number;
      lastSpeakingTimeMs: number;
      speechId?: string;
    }
  | { type: 'llm_metrics'; timestamp: number; durationMs: number; ttftMs: number; speechId?: string }
  | { type: 'tts_metrics'; timestamp: number; durationMs: number; ttfbMs: number; speechId?: string }
  | { type: string; speechId?: string };

interface OpenTurn {
  speechIds: Set<string>;
  running: Set<string>;
  speechEndedAt: number;
  eouDecisionMs?: number;
  sttFinalMs?: number;
  llmFirstTokenAt?: number;
  llmTtftMs?: number;
  ttsFirstAudioAt?: number;
  ttsTtfbMs?: number;
  publishedAt?: number;
  interrupted: boolean;
}

/**
 * Assembles one {@link TurnTrace} per answered caller turn from the framework's events, keyed by
 * speech handle: the end-of-turn metrics open a turn for the reply's speech, LLM and TTS metrics
 * of that speech (or of a tool response it started) add their first token and first audio, and
 * the speech's end closes it with the first frame published. The framework stamps LLM and TTS
 * metrics when their request ends, so their first output is `timestamp - durationMs + ttft`.
 */
export class TurnTraceAssembler {
  readonly #callId: string;
  readonly #onTurn: (trace: TurnTrace) => void;
  readonly #turns = new Map<string, OpenTurn>();
  #latest?: OpenTurn;
  #count = 0;

  constructor(callId: string, onTurn: (trace: TurnTrace) => void) {
    this.#callId = callId;
    this.#onTurn = onTurn;
  }

  /** A speech started; a tool response joins the turn whose reply asked for it. */
  speechCreated(speechId: string, source: string): void {
    const turn = this.#turns.get(speechId) ?? (source === 'tool_response' && this.#latest?.running.size ? this.#latest : undefined);
    if (!turn) return;
    turn.speechIds.add(speechId);
    turn.running.add(speechId);
    this.#turns.set(speechId, turn);
  }

  metrics(m: TraceMetrics): void {
    if (m.type === 'eou_metrics') {
      const eou = m as Extract<TraceMetrics, { type: 'eou_metrics' }>;
      if (!eou.speechId || !eou.lastSpeakingTimeMs) return;
      // The reply's speech was created just before its end-of-turn metrics were emitted.
      const turn: OpenTurn = this.#turns.get(eou.speechId) ?? {
        speechIds: new Set([eou.speechId]),
        running: new Set([eou.speechId]),
        speechEndedAt: eou.lastSpeakingTimeMs,
        interrupted: false,
      };
      turn.speechEndedAt = eou.lastSpeakingTimeMs;
      turn.eouDecisionMs = eou.endOfUtteranceDelayMs;
      turn.sttFinalMs = eou.transcriptionDelayMs;
      this.#turns.set(eou.speechId, turn);
      this.#latest = turn;
      return;
    }
    const turn = m.speechId ? this.#turns.get(m.speechId) : undefined;
    if (!turn) return;
    if (m.type === 'llm_metrics') {
      const llm = m as Extract<TraceMetrics, { type: 'llm_metrics' }>;
      if (llm.ttftMs < 0 || turn.llmFirstTokenAt !== undefined) return;
      turn.llmFirstTokenAt = llm.timestamp - llm.durationMs + llm.ttftMs;
      turn.llmTtftMs = llm.ttftMs;
    } else if (m.type === 'tts_metrics') {
      const tts = m as Extract<TraceMetrics, { type: 'tts_metrics' }>;
      const at = tts.timestamp - tts.durationMs + tts.ttfbMs;
      if (tts.ttfbMs < 0 || (turn.ttsFirstAudioAt !== undefined && turn.ttsFirstAudioAt <= at)) return;
      turn.ttsFirstAudioAt = at;
      turn.ttsTtfbMs = tts.ttfbMs;
    }
  }

  /**
   * A speech ended. `startedSpeakingAt` is when its first audio frame was published (ms since the
   * epoch; the assistant message's `metrics.startedSpeakingAt`), absent if none was.
   */
  speechDone(speechId: string, result: { interrupted: boolean; startedSpeakingAt?: number }): void {
    const turn = this.#turns.get(speechId);
    if (!turn) return;
    turn.running.delete(speechId);
    turn.interrupted ||= result.interrupted;
    if (result.startedSpeakingAt !== undefined && (turn.publishedAt === undefined || result.startedSpeakingAt < turn.publishedAt)) {
      turn.publishedAt = result.startedSpeakingAt;
    }
    if (turn.running.size > 0) return;
    for (const id of turn.speechIds) this.#turns.delete(id);
    if (this.#latest === turn) this.#latest = undefined;
    this.#count += 1;
    this.#onTurn(this.#build(turn, speechId));
  }

  #build(turn: OpenTurn, speechId: string): TurnTrace {
    const since = (at?: number) => (at === undefined ? undefined : Math.round(at - turn.speechEndedAt));
    const firstAudioPublishedMs = since(turn.publishedAt);
    return {
      callId: this.#callId,
      turn: this.#count,
      speechId: [...turn.speechIds][0] ?? speechId,
      interrupted: turn.interrupted,
      speechEndedAt: turn.speechEndedAt,
      stages: dropUndefined({
        eouDecisionMs: round(turn.eouDecisionMs),
        sttFinalMs: round(turn.sttFinalMs),
        llmFirstTokenMs: since(turn.llmFirstTokenAt),
        ttsFirstAudioMs: since(turn.ttsFirstAudioAt),
        firstAudioPublishedMs,
      }),
      ...dropUndefined({ llmTtftMs: round(turn.llmTtftMs), ttsTtfbMs: round(turn.ttsTtfbMs), totalMs: firstAudioPublishedMs }),
    };
  }
}

function round(value?: number): number | undefined {
  return value === undefined ? undefined : Math.round(value);
}

function dropUndefined<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
