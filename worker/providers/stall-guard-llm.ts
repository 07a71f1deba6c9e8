import { APIConnectionError, DEFAULT_API_CONNECT_OPTIONS, llm, type APIConnectOptions } from '@livekit/agents';
import { providerDeadline } from './provider-deadline.js';

/**
 * Wraps a streaming LLM so that a stream that stops mid-answer fails instead of hanging. The
 * framework's FallbackAdapter times out only the start of an attempt; a provider that sends a
 * few tokens and then goes quiet would otherwise leave the caller in silence indefinitely.
 */
export class StallGuardLLM extends llm.LLM {
  readonly inner: llm.LLM;
  readonly idleTimeoutMs: number;

  constructor(inner: llm.LLM, idleTimeoutMs: number) {
    super();
    this.inner = inner;
    this.idleTimeoutMs = idleTimeoutMs;
  }

  label(): string {
    return this.inner.label();
  }

  override get model(): string {
    return this.inner.model;
  }

  override get provider(): string {
    return this.inner.provider;
  }

  chat(params: {
    chatCtx: llm.ChatContext;
    toolCtx?: llm.ToolContextLike;
    connOptions?: APIConnectOptions;
    parallelToolCalls?: boolean;
    toolChoice?: llm.ToolChoice;
    extraKwargs?: Record<string, unknown>;
  }): llm.LLMStream {
    const connOptions = params.connOptions ?? DEFAULT_API_CONNECT_OPTIONS;
    return new StallGuardStream(this, this.inner.chat({ ...params, connOptions }), {
      chatCtx: params.chatCtx,
      toolCtx: params.toolCtx,
      connOptions,
    });
  }

  override async aclose(): Promise<void> {
    await this.inner.aclose();
  }
}

class StallGuardStream extends llm.LLMStream {
  readonly #inner: llm.LLMStream;
  readonly #innerLLM: llm.LLM;
  readonly #idleTimeoutMs: number;

  constructor(
    owner: StallGuardLLM,
    inner: llm.LLMStream,
    params: { chatCtx: llm.ChatContext; toolCtx?: llm.ToolContextLike; connOptions: APIConnectOptions },
  ) {
    super(owner, params);
    this.#inner = inner;
    this.#innerLLM = owner.inner;
    this.#idleTimeoutMs = owner.idleTimeoutMs;
  }

  protected async run(): Promise<void> {
    // A failed inner stream ends quietly and reports on its LLM's 'error' event; the failure has
    // to surface here, or the fallback adapter would take the silence for an answer.
    let failure: Error | undefined;
    const onError = (ev: { error: Error }) => {
      failure = ev.error;
    };
    this.#innerLLM.on('error', onError);
    const iterator = this.#inner[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await this.#nextWithin(iterator);
        if (next.done) break;
        this.queue.put(next.value);
      }
      if (failure) throw failure;
    } finally {
      this.#innerLLM.off('error', onError);
      this.#inner.close();
    }
  }

  #nextWithin(iterator: AsyncIterator<llm.ChatChunk>): Promise<IteratorResult<llm.ChatChunk>> {
    const deadline = providerDeadline(this.#idleTimeoutMs);
    const stalled = deadline.expired.then(() => {
      throw new APIConnectionError({ message: `LLM stream stalled: no data for ${this.#idleTimeoutMs} ms` });
    });
    return Promise.race([iterator.next(), stalled]).finally(() => deadline.cancel());
  }
}
