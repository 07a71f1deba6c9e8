import { voice } from '@livekit/agents';
import { TurnTraceAssembler, type TraceMetrics, type TurnTrace } from './turn-trace.js';

/**
 * Feeds a session's events to a {@link TurnTraceAssembler}: metrics, speech creation, and each
 * speech's end. The first published frame comes from the assistant message's
 * `metrics.startedSpeakingAt`, which the framework takes from the audio output's
 * `playbackStarted` event (the room output fires it as the first frame is captured into the
 * published track); it is the same instant the framework's own `e2eLatency` counts to.
 */
export function traceTurns(
  session: voice.AgentSession,
  callId: string,
  onTurn: (trace: TurnTrace) => void,
  onError: (error: Error) => void = () => undefined,
): TurnTraceAssembler {
  const assembler = new TurnTraceAssembler(callId, onTurn);
  const E = voice.AgentSessionEventTypes;
  // Measuring must never break the call: these run inside the framework's emits and timers.
  const guarded = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      onError(error as Error);
    }
  };
  session.on(E.MetricsCollected, (ev) => guarded(() => assembler.metrics(ev.metrics as TraceMetrics)));
  session.on(E.SpeechCreated, (ev) =>
    guarded(() => {
      const handle = ev.speechHandle;
      assembler.speechCreated(handle.id, ev.source);
      handle.addDoneCallback(() => {
        // Metrics of the speech's last TTS segment can land just after the speech ends.
        setImmediate(() => guarded(() => assembler.speechDone(handle.id, { interrupted: handle.interrupted, startedSpeakingAt: firstSpokenAt(handle) })));
      });
    }),
  );
  return assembler;
}

function firstSpokenAt(handle: voice.SpeechHandle): number | undefined {
  for (const item of handle.chatItems) {
    if (item.type !== 'message' || item.role !== 'assistant') continue;
    const startedAt = item.metrics?.startedSpeakingAt;
    if (startedAt !== undefined) return startedAt * 1000;
  }
  return undefined;
}
