import { tokenize, tts } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';

/**
 * Words known before the session exists (the greeting), synthesized while the call is still being
 * set up: the slot, the background track and the session's own start take about as long as a
 * TTS's first audio, so the caller hears the greeting as soon as the agent can speak instead of a
 * synthesis delay after it.
 *
 * Synthesis goes the way the session's own would (sentence by sentence for a TTS that does not
 * stream, through the same fallback chain), so the first sentence is ready first.
 */
export class PrerenderedSpeech {
  readonly text: string;
  readonly #frames: AudioFrame[] = [];
  #done = false;
  #produced?: () => void;
  #stream?: tts.SynthesizeStream;
  #wrapper?: tts.TTS;
  #source?: tts.TTS;
  readonly #firstFrame: Promise<boolean>;

  private constructor(voice: tts.TTS, text: string) {
    this.text = text;
    let firstFrame!: (heard: boolean) => void;
    this.#firstFrame = new Promise((resolve) => (firstFrame = resolve));
    void this.#synthesize(voice, firstFrame);
  }

  static start(voice: tts.TTS, text: string): PrerenderedSpeech {
    return new PrerenderedSpeech(voice, text);
  }

  async #synthesize(voice: tts.TTS, firstFrame: (heard: boolean) => void): Promise<void> {
    try {
      this.#wrapper = voice.capabilities.streaming ? undefined : new tts.StreamAdapter(voice, new tokenize.basic.SentenceTokenizer());
      this.#source = this.#wrapper ?? voice;
      // A TTS reports a failed request as an 'error' event, which throws with no listener; the
      // session listens only once it has started.
      this.#source.on('error', ignoreError);
      const stream = this.#source.stream();
      this.#stream = stream;
      stream.pushText(this.text);
      stream.endInput();
      for await (const chunk of stream) {
        if (chunk === tts.SynthesizeStream.END_OF_STREAM) break;
        if (this.#done) break;
        this.#frames.push(chunk.frame);
        firstFrame(true);
        this.#produced?.();
      }
    } catch {
      // A failed synthesis (every provider of a fallback chain down) leaves what it made; with
      // nothing made, the agent falls back to the session's own synthesis of the text.
    } finally {
      this.#done = true;
      firstFrame(false);
      this.#produced?.();
      this.#release();
    }
  }

  /**
   * The audio to play, once its first frame exists; undefined when synthesis made none (the
   * caller then hears the session's own synthesis of `text`). One playing per instance.
   */
  async audio(): Promise<ReadableStream<AudioFrame> | undefined> {
    if (!(await this.#firstFrame)) return undefined;
    let next = 0;
    return new ReadableStream<AudioFrame>({
      pull: async (controller) => {
        while (next >= this.#frames.length && !this.#done) {
          await new Promise<void>((resolve) => (this.#produced = resolve));
        }
        if (next < this.#frames.length) controller.enqueue(this.#frames[next++]!);
        else controller.close();
      },
      // The caller talked over the greeting: stop making the rest of it.
      cancel: () => this.cancel(),
    });
  }

  /** Stops synthesis (the call never reached an agent, or the greeting was cut off). */
  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    this.#release();
  }

  #release(): void {
    this.#source?.off('error', ignoreError);
    this.#source = undefined;
    this.#stream?.close();
    this.#stream = undefined;
    void this.#wrapper?.close().catch(() => undefined);
    this.#wrapper = undefined;
  }
}

function ignoreError(): void {}
