import { describe, expect, it } from 'vitest';
import { TurnTraceAssembler, turnTraceSchema, type TurnTrace } from './turn-trace.js';

/** The caller stopped speaking here (ms since the epoch); every figure below counts from it. */
const T0 = 1_800_000_000_000;

function assembler() {
  const traces: TurnTrace[] = [];
  return { traces, turns: new TurnTraceAssembler('call-1', (t) => traces.push(t)) };
}

/** What the framework emits for one answered turn, in its order. */
function answeredTurn(turns: TurnTraceAssembler, speechId: string, at = T0) {
  turns.speechCreated(speechId, 'generate_reply');
  turns.metrics({ type: 'eou_metrics', timestamp: at + 420, endOfUtteranceDelayMs: 410, transcriptionDelayMs: 180, lastSpeakingTimeMs: at, speechId });
  // LLM: started at +420, first token 30 ms later, stamped when its stream ended at +500.
  turns.metrics({ type: 'llm_metrics', timestamp: at + 500, durationMs: 80, ttftMs: 30, speechId });
  // Two TTS segments; the first audio is the earlier one's (+460 + 25), not the later.
  turns.metrics({ type: 'tts_metrics', timestamp: at + 900, durationMs: 300, ttfbMs: 40, speechId });
  turns.metrics({ type: 'tts_metrics', timestamp: at + 560, durationMs: 100, ttfbMs: 25, speechId });
  turns.metrics({ type: 'vad_metrics', speechId });
}

describe('TurnTraceAssembler', () => {
  it('builds one trace per answered turn, each stage counted from the caller end of speech', () => {
    const { traces, turns } = assembler();
    answeredTurn(turns, 'speech_a');
    expect(traces).toEqual([]);
    turns.speechDone('speech_a', { interrupted: false, startedSpeakingAt: T0 + 497 });
    expect(traces).toHaveLength(1);
    const trace = turnTraceSchema.parse(traces[0]);
    expect(trace).toEqual({
      callId: 'call-1',
      turn: 1,
      speechId: 'speech_a',
      interrupted: false,
      speechEndedAt: T0,
      stages: { eouDecisionMs: 410, sttFinalMs: 180, llmFirstTokenMs: 450, ttsFirstAudioMs: 485, firstAudioPublishedMs: 497 },
      llmTtftMs: 30,
      ttsTtfbMs: 25,
      totalMs: 497,
    });
  });

  it('ignores speech that answers no caller turn (greeting, silence prompt) and numbers turns in order', () => {
    const { traces, turns } = assembler();
    turns.speechCreated('greeting', 'say');
    turns.metrics({ type: 'tts_metrics', timestamp: T0 - 5000, durationMs: 50, ttfbMs: 20, speechId: 'greeting' });
    turns.speechDone('greeting', { interrupted: false, startedSpeakingAt: T0 - 4900 });
    answeredTurn(turns, 'speech_a');
    turns.speechDone('speech_a', { interrupted: false, startedSpeakingAt: T0 + 500 });
    answeredTurn(turns, 'speech_b', T0 + 10_000);
    turns.speechDone('speech_b', { interrupted: false, startedSpeakingAt: T0 + 10_600 });
    expect(traces.map((t) => [t.turn, t.speechId, t.totalMs])).toEqual([
      [1, 'speech_a', 500],
      [2, 'speech_b', 600],
    ]);
  });

  it('follows a reply into the tool response it started, and closes the turn when both have ended', () => {
    const { traces, turns } = assembler();
    turns.speechCreated('reply', 'generate_reply');
    turns.metrics({ type: 'eou_metrics', timestamp: T0 + 400, endOfUtteranceDelayMs: 400, transcriptionDelayMs: 100, lastSpeakingTimeMs: T0, speechId: 'reply' });
    // The reply is only a tool call: a first token, no audio.
    turns.metrics({ type: 'llm_metrics', timestamp: T0 + 450, durationMs: 40, ttftMs: 20, speechId: 'reply' });
    turns.speechCreated('tool', 'tool_response');
    turns.metrics({ type: 'llm_metrics', timestamp: T0 + 700, durationMs: 100, ttftMs: 50, speechId: 'tool' });
    turns.speechDone('reply', { interrupted: false });
    expect(traces).toEqual([]);
    turns.metrics({ type: 'tts_metrics', timestamp: T0 + 800, durationMs: 60, ttfbMs: 30, speechId: 'tool' });
    turns.speechDone('tool', { interrupted: false, startedSpeakingAt: T0 + 790 });
    expect(traces).toHaveLength(1);
    expect(traces[0]!.stages).toEqual({ eouDecisionMs: 400, sttFinalMs: 100, llmFirstTokenMs: 430, ttsFirstAudioMs: 770, firstAudioPublishedMs: 790 });
  });

  it('reports an interrupted reply that never played with the stages it reached', () => {
    const { traces, turns } = assembler();
    turns.speechCreated('cut', 'generate_reply');
    turns.metrics({ type: 'eou_metrics', timestamp: T0 + 400, endOfUtteranceDelayMs: 400, transcriptionDelayMs: 90, lastSpeakingTimeMs: T0, speechId: 'cut' });
    turns.speechDone('cut', { interrupted: true });
    expect(traces[0]).toMatchObject({ interrupted: true, stages: { eouDecisionMs: 400, sttFinalMs: 90 } });
    expect(traces[0]!.stages.firstAudioPublishedMs).toBeUndefined();
    expect(traces[0]!.totalMs).toBeUndefined();
    expect(() => turnTraceSchema.parse(traces[0])).not.toThrow();
  });

  it('opens no turn for end-of-turn metrics without an end of speech (the framework sends 0 then)', () => {
    const { traces, turns } = assembler();
    turns.metrics({ type: 'eou_metrics', timestamp: T0, endOfUtteranceDelayMs: 0, transcriptionDelayMs: 0, lastSpeakingTimeMs: 0, speechId: 'x' });
    turns.speechDone('x', { interrupted: false, startedSpeakingAt: T0 });
    expect(traces).toEqual([]);
  });
});
