import { stt } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import type { EventEmitter } from 'node:events';

/** The most caller audio kept for a replay: a long utterance and the pause before it. */
const MAX_REPLAY_SECONDS = 15;

/**
 * The framework's STT FallbackAdapter, except that a provider failing mid-utterance does not
 * take the caller's words with it. The adapter hands only audio that arrives after a switch to
 * the next provider; here each stream keeps the audio it was given since its last final
 * transcript, and when a provider is taken out of service that audio is given again, ahead of
 * the live audio, so the next provider hears the whole utterance the last one dropped.
 */
export class ReplayingFallbackSTT extends stt.FallbackAdapter {
  override stream(options?: Parameters<stt.FallbackAdapter['stream']>[0]): stt.SpeechStream {
    const stream = super.stream(options);
    const push = stream.pushFrame.bind(stream);
    const next = stream.next.bind(stream);
    const close = stream.close.bind(stream);
    const pending: AudioFrame[] = [];
    let pendingSeconds = 0;

    stream.pushFrame = (frame: AudioFrame) => {
      pending.push(frame);
      pendingSeconds += frame.samplesPerChannel / frame.sampleRate;
      while (pendingSeconds > MAX_REPLAY_SECONDS && pending.length > 1) {
        const old = pending.shift()!;
        pendingSeconds -= old.samplesPerChannel / old.sampleRate;
      }
      push(frame);
    };
    stream.next = async () => {
      const result = await next();
      if (!result.done && result.value.type === stt.SpeechEventType.FINAL_TRANSCRIPT && result.value.alternatives?.[0]?.text) {
        pending.length = 0;
        pendingSeconds = 0;
      }
      return result;
    };
    // Emitted inside the adapter's switch, before it starts the next provider's stream: frames
    // pushed now are queued and reach that stream first.
    const onAvailability = (event: { available: boolean }) => {
      if (event.available) return;
      for (const frame of [...pending]) {
        try {
          push(frame);
        } catch {
          return; // the stream itself is closed
        }
      }
    };
    // Not in the typed STT callbacks; the adapter emits it on itself.
    const events = this as unknown as EventEmitter;
    events.on('stt_availability_changed', onAvailability);
    stream.close = () => {
      events.off('stt_availability_changed', onAvailability);
      close();
    };
    return stream;
  }
}
