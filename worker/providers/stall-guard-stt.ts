import { APIConnectionError, DEFAULT_API_CONNECT_OPTIONS, stt, type APIConnectOptions } from '@livekit/agents';
import type { AudioBuffer } from '@livekit/agents';

/**
 * The caller's speech as the session's VAD hears it (the job feeds it from the session's user
 * state). A streaming STT is held to it: speech it was sent must come back as words.
 */
export class CallerSpeech {
  speaking = false;
  readonly #listeners = new Set<(speaking: boolean) => void>();

  set(speaking: boolean): void {
    if (speaking === this.speaking) return;
    this.speaking = speaking;
    for (const listener of this.#listeners) listener(speaking);
  }

  subscribe(listener: (speaking: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * Speech shorter than this is not owed a transcript: a cough or a click the VAD let through may
 * rightly come back as nothing.
 */
const MIN_OWED_SPEECH_MS = 250;

/**
 * Wraps a streaming cloud STT so that a stream that stops answering fails instead of going deaf.
 * The Deepgram plugin (1.9.0) never surfaces a WebSocket that closes under it: its monitor's
 * rejection is held by a task nobody awaits, so the stream keeps sending into a dead socket and
 * the framework's FallbackAdapter, which only moves on when a stream errors, never does. A
 * provider that accepts audio and goes quiet looks the same. With the guard, once the caller has
 * stopped speaking, the provider has `finalTimeoutMs` to close the utterance (a final transcript
 * or an end of speech); otherwise the stream fails and the FallbackAdapter moves to the local
 * recognizer. `ReplayingFallbackSTT` then gives the local recognizer the words the cloud lost.
 */
export class StallGuardSTT extends stt.STT {
  readonly inner: stt.STT;
  override label: string;

  constructor(
    inner: stt.STT,
    readonly options: { speech: CallerSpeech; finalTimeoutMs: number },
  ) {
    super(inner.capabilities);
    this.inner = inner;
    this.label = inner.label;
    inner.on('metrics_collected', (metrics) => this.emit('metrics_collected', metrics));
  }

  override get model(): string {
    return this.inner.model;
  }

  override get provider(): string {
    return this.inner.provider;
  }

  protected async _recognize(frame: AudioBuffer, abortSignal?: AbortSignal): Promise<stt.SpeechEvent> {
    return this.inner.recognize(frame, abortSignal);
  }

  stream(options?: { connOptions?: APIConnectOptions }): stt.SpeechStream {
    return new GuardedSpeechStream(this, options?.connOptions ?? DEFAULT_API_CONNECT_OPTIONS);
  }

  override async close(): Promise<void> {
    await this.inner.close();
  }
}

class GuardedSpeechStream extends stt.SpeechStream {
  override label: string;
  readonly #guard: StallGuardSTT;
  readonly #connOptions: APIConnectOptions;

  constructor(guard: StallGuardSTT, connOptions: APIConnectOptions) {
    super(guard, undefined, connOptions);
    this.#guard = guard;
    this.#connOptions = connOptions;
    this.label = `${guard.label}.guarded`;
  }

  protected async run(): Promise<void> {
    const { speech, finalTimeoutMs } = this.#guard.options;
    // Retries are the plugin's own and the FallbackAdapter's; one attempt here.
    const child = this.#guard.inner.stream({ connOptions: this.#connOptions });
    /** Start of the earliest speech the provider has not closed yet. */
    let owedSince: number | undefined = speech.speaking ? performance.now() : undefined;
    let deadline: NodeJS.Timeout | undefined;
    let stalled: (error: Error) => void = () => undefined;
    const stall = new Promise<never>((_, reject) => (stalled = reject));
    stall.catch(() => undefined);
    const unsubscribe = speech.subscribe((speaking) => {
      clearTimeout(deadline);
      if (speaking) {
        owedSince ??= performance.now();
        return;
      }
      if (owedSince === undefined || performance.now() - owedSince < MIN_OWED_SPEECH_MS) {
        owedSince = undefined;
        return;
      }
      deadline = setTimeout(() => {
        stalled(
          new APIConnectionError({
            message: `${this.#guard.label} sent no transcript ${finalTimeoutMs} ms after the caller stopped speaking`,
            options: { retryable: false },
          }),
        );
      }, finalTimeoutMs);
    });

    const forward = (async () => {
      for await (const item of this.input) {
        try {
          if (typeof item === 'symbol') child.flush();
          else child.pushFrame(item);
        } catch {
          return; // the child is closed; its events loop below ends too
        }
      }
      try {
        child.endInput();
      } catch {
        // already closed
      }
    })();

    const relay = (async () => {
      for await (const event of child) {
        if (event.type === stt.SpeechEventType.FINAL_TRANSCRIPT || event.type === stt.SpeechEventType.END_OF_SPEECH) {
          // Closes what was said so far, even while the VAD still hears the caller: a cloud
          // endpointer often finalizes before the VAD's own end of speech. Speech that goes on
          // in the same VAD segment is owed again only from the next one; the replay buffer
          // still holds it if the provider drops it.
          clearTimeout(deadline);
          owedSince = undefined;
        }
        if (!this.queue.closed) this.queue.put(event);
      }
      if (child._failed && !this.abortSignal.aborted) throw new APIConnectionError({ message: `${this.#guard.label} stream failed`, options: { retryable: false } });
    })();

    const aborted = new Promise<void>((resolve) => this.abortSignal.addEventListener('abort', () => resolve(), { once: true }));
    try {
      await Promise.race([relay, stall, aborted]);
    } finally {
      clearTimeout(deadline);
      unsubscribe();
      child.close();
      void forward;
    }
  }
}
