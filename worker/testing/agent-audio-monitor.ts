import { AudioStream, type AudioFrame, type RemoteTrack } from '@livekit/rtc-node';
import { concatSamples, rmsLevel } from '../providers/local/wav.js';

/** What the caller heard: every agent speech burst, with arrival times (performance.now() ms). */
export interface SpeechBurst {
  startedAt: number;
  endedAt?: number;
}

export interface AgentAudioMonitorOptions {
  sampleRate: number;
  /** RMS (0..1 of full scale) above which a 10-20 ms frame counts as speech: about -40 dBFS. */
  speechThreshold: number;
  /** Silence that ends a burst; shorter gaps (between words and sentences) do not. */
  burstGapMs: number;
}

/**
 * Listens to the agent's audio track like an ear: records it and marks where audible speech
 * starts and stops, so latency is measured at the caller, not inside the agent.
 */
export class AgentAudioMonitor {
  readonly bursts: SpeechBurst[] = [];
  readonly #recorded: Int16Array[] = [];
  readonly #options: AgentAudioMonitorOptions;
  #lastSpeechAt = 0;
  #stopped = false;
  readonly #listeners = new Set<() => void>();

  constructor(options: AgentAudioMonitorOptions) {
    this.#options = options;
  }

  get speaking(): boolean {
    const last = this.bursts.at(-1);
    return last !== undefined && last.endedAt === undefined;
  }

  /** Consumes the track until it ends or stop() is called. */
  async listen(track: RemoteTrack): Promise<void> {
    const stream = new AudioStream(track, { sampleRate: this.#options.sampleRate, numChannels: 1 });
    for await (const frame of stream) {
      if (this.#stopped) break;
      this.#onFrame(frame, performance.now());
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#closeBurst(performance.now());
  }

  /** Calls back on every frame, so waits can be written as polls of the state above. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  recording(): Int16Array {
    return concatSamples(this.#recorded);
  }

  #onFrame(frame: AudioFrame, now: number): void {
    this.#recorded.push(frame.data.slice());
    if (rmsLevel(frame.data) >= this.#options.speechThreshold) {
      if (!this.speaking) this.bursts.push({ startedAt: now });
      this.#lastSpeechAt = now;
    } else if (this.speaking && now - this.#lastSpeechAt >= this.#options.burstGapMs) {
      this.#closeBurst(this.#lastSpeechAt);
    }
    for (const listener of this.#listeners) listener();
  }

  #closeBurst(at: number): void {
    const last = this.bursts.at(-1);
    if (last && last.endedAt === undefined) last.endedAt = at;
  }
}
