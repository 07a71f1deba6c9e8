import { AudioFrame, AudioSource } from '@livekit/rtc-node';

const FRAME_MS = 20;

/**
 * A microphone that never stops sending, like a real one: silence between utterances, speech
 * when asked. Frames are paced by the audio source's small queue, i.e. in real time.
 */
export class CallerMicrophone {
  readonly source: AudioSource;
  readonly #sampleRate: number;
  readonly #samplesPerFrame: number;
  #pending: Int16Array[] = [];
  #onSpoken?: (endOfSpeechAt: number) => void;
  #onStarted?: (startOfSpeechAt: number) => void;
  #running = true;
  readonly #loop: Promise<void>;

  constructor(sampleRate: number) {
    this.#sampleRate = sampleRate;
    this.#samplesPerFrame = (sampleRate * FRAME_MS) / 1000;
    this.source = new AudioSource(sampleRate, 1, 100);
    this.#loop = this.#pump();
  }

  /**
   * Queues speech; resolves with the moment (performance.now()) its last sample plays out.
   * `onStarted` gets the moment its first sample does.
   */
  speak(samples: Int16Array, onStarted?: (startOfSpeechAt: number) => void): Promise<number> {
    this.#onStarted = onStarted;
    if (this.#onSpoken) return Promise.reject(new Error('the caller is already speaking'));
    for (let i = 0; i < samples.length; i += this.#samplesPerFrame) {
      const chunk = new Int16Array(this.#samplesPerFrame);
      chunk.set(samples.subarray(i, i + this.#samplesPerFrame));
      this.#pending.push(chunk);
    }
    return new Promise((resolve) => {
      this.#onSpoken = resolve;
    });
  }

  async close(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.source.close();
  }

  async #pump(): Promise<void> {
    const silence = new Int16Array(this.#samplesPerFrame);
    while (this.#running) {
      const speech = this.#pending.shift();
      const data = speech ?? silence;
      if (speech && this.#onStarted) {
        const started = this.#onStarted;
        this.#onStarted = undefined;
        started(performance.now() + this.source.queuedDuration);
      }
      await this.source.captureFrame(new AudioFrame(data, this.#sampleRate, 1, this.#samplesPerFrame));
      if (speech && this.#pending.length === 0 && this.#onSpoken) {
        const done = this.#onSpoken;
        this.#onSpoken = undefined;
        // What is still queued has yet to leave the "mouth": count it into the end of speech.
        done(performance.now() + this.source.queuedDuration);
      }
    }
  }
}
