import { APIConnectionError, DEFAULT_API_CONNECT_OPTIONS, tokenize, tts, type APIConnectOptions } from '@livekit/agents';
import { providerDeadline } from './provider-deadline.js';

/**
 * Wraps a non-streaming cloud TTS so that an answer that does not come fails fast instead of
 * hanging. The framework's TTS FallbackAdapter has no attempt timeout, and the OpenAI plugin
 * waits for the whole response body: an endpoint that accepts the request and then goes quiet
 * would leave the caller in silence for the SDK's timeout (minutes). With the guard, the
 * FallbackAdapter sees a failure after `firstAudioTimeoutMs` and the local TTS speaks instead. The
 * deadline does not count time this process itself was stalled (provider-deadline.ts).
 *
 * It presents itself as a streaming TTS (sentence by sentence, through the framework's
 * StreamAdapter) because the FallbackAdapter wraps each non-streaming provider in a new
 * StreamAdapter per stream, and that adapter re-emits the provider's errors with no listener:
 * the first provider error would throw out of the emitting stream as an unhandled error.
 */
export class StallGuardTTS extends tts.TTS {
  readonly inner: tts.TTS;
  override label: string;
  readonly #guarded: GuardedTTS;
  readonly #sentences: tts.StreamAdapter;

  constructor(inner: tts.TTS, options: { firstAudioTimeoutMs: number }) {
    super(inner.sampleRate, inner.numChannels, { streaming: true });
    this.inner = inner;
    this.label = inner.label;
    this.#guarded = new GuardedTTS(inner, options.firstAudioTimeoutMs);
    this.#sentences = new tts.StreamAdapter(this.#guarded, new tokenize.basic.SentenceTokenizer());
    this.#sentences.on('error', (error) => this.emit('error', error));
    this.#sentences.on('metrics_collected', (metrics) => this.emit('metrics_collected', metrics));
  }

  /**
   * Every error of a guarded provider is recoverable: a fallback stands behind it. The session
   * closes after a few unrecoverable TTS errors in a row while the agent is not speaking, and the
   * fallback adapter's background recovery probes of a dead provider would otherwise count, one
   * or two a second, until the session hung up on a caller the local TTS was serving fine.
   */
  override emit: tts.TTS['emit'] = (event, ...args) => {
    if (event === 'error') {
      const [error] = args as unknown as [Record<string, unknown>];
      return super.emit('error', { ...error, recoverable: true } as never);
    }
    return super.emit(event, ...args);
  };

  override get model(): string {
    return this.inner.model;
  }

  override get provider(): string {
    return this.inner.provider;
  }

  synthesize(text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal): tts.ChunkedStream {
    return this.#guarded.synthesize(text, connOptions, abortSignal);
  }

  stream(options?: { connOptions?: APIConnectOptions }): tts.SynthesizeStream {
    return this.#sentences.stream(options);
  }

  override async close(): Promise<void> {
    await this.#sentences.close();
    await this.inner.close();
  }
}

/** The non-streaming half: one sentence, one request, a deadline for its first audio. */
class GuardedTTS extends tts.TTS {
  readonly inner: tts.TTS;
  readonly firstAudioTimeoutMs: number;
  /**
   * After a failure, the next sentences fail at once until then: a reply of three sentences
   * would otherwise wait out the deadline three times before the fallback adapter moves on.
   */
  trippedUntil = 0;
  override label: string;

  constructor(inner: tts.TTS, firstAudioTimeoutMs: number) {
    super(inner.sampleRate, inner.numChannels, { streaming: false });
    this.inner = inner;
    this.label = inner.label;
    this.firstAudioTimeoutMs = firstAudioTimeoutMs;
    // Errors of the wrapped provider are this provider's errors, for the session's logs.
    inner.on('error', (error) => this.emit('error', error));
  }

  synthesize(text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal): tts.ChunkedStream {
    return withoutStrayRejection(new GuardedChunkedStream(this, text, connOptions ?? DEFAULT_API_CONNECT_OPTIONS, abortSignal));
  }

  stream(): tts.SynthesizeStream {
    throw new Error('GuardedTTS is non-streaming; StallGuardTTS streams it');
  }
}

/** How long a failed cloud TTS is skipped; the fallback adapter's recovery probes continue. */
const TRIP_MS = 10_000;

class GuardedChunkedStream extends tts.ChunkedStream {
  label = 'voicefleet.StallGuardTTS';
  readonly #owner: GuardedTTS;

  constructor(owner: GuardedTTS, text: string, connOptions: APIConnectOptions, abortSignal?: AbortSignal) {
    super(text, owner, connOptions, abortSignal);
    this.#owner = owner;
  }

  protected async run(): Promise<void> {
    if (Date.now() < this.#owner.trippedUntil) {
      throw new APIConnectionError({ message: `${this.#owner.label}: skipped, it failed moments ago` });
    }
    try {
      await this.#synthesize();
    } catch (error) {
      this.#owner.trippedUntil = Date.now() + TRIP_MS;
      throw error;
    }
  }

  async #synthesize(): Promise<void> {
    // Aborting this controller cancels the provider's HTTP request, not only our reading of it.
    const cancel = new AbortController();
    const signal = AbortSignal.any([this.abortSignal, cancel.signal]);
    const inner = withoutStrayRejection(this.#owner.inner.synthesize(this.inputText, { ...DEFAULT_API_CONNECT_OPTIONS, maxRetry: 0 }, signal));
    const deadline = providerDeadline(this.#owner.firstAudioTimeoutMs);
    try {
      const first = await Promise.race([inner.next(), deadline.expired.then(() => 'stalled' as const)]);
      if (first === 'stalled') {
        throw new APIConnectionError({ message: `${this.#owner.label}: no audio within ${this.#owner.firstAudioTimeoutMs} ms` });
      }
      deadline.cancel();
      if (first.done) throw new APIConnectionError({ message: `${this.#owner.label}: finished without audio` });
      this.queue.put(first.value);
      for await (const audio of inner) this.queue.put(audio);
    } finally {
      deadline.cancel();
      cancel.abort();
      inner.close();
    }
  }
}

/**
 * A ChunkedStream that fails reports the failure twice: as an 'error' event on its TTS (which
 * the fallback adapter and the session act on) and as a rejection of a promise nobody holds.
 * Job processes log such rejections at debug level; elsewhere (tests, tools) they are reported
 * as crashes. The event carries everything, so the stray rejection is dropped here.
 */
function withoutStrayRejection<T extends tts.ChunkedStream>(stream: T): T {
  const target = stream as unknown as { mainTask: () => Promise<unknown> };
  const mainTask = target.mainTask.bind(stream);
  // The stream starts its main task on the next microtask, after this patch is in place.
  target.mainTask = () => mainTask().catch(() => undefined);
  return stream;
}
