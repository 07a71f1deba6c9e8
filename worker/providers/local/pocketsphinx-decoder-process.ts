import { APIConnectionError, APIError, APITimeoutError } from '@livekit/agents';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const DECODER_SCRIPT = fileURLToPath(new URL('./pocketsphinx_decoder.py', import.meta.url));
/** Debian's python3-pocketsphinx is importable only by the system interpreter, not pyenv's. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** What the decoder process is told to load; exactly one of `lm`, `jsgf` and `corpus` is set. */
export interface DecoderConfig {
  hmm: string;
  dict: string;
  samprate: 8000 | 16000;
  nfft?: number;
  lm?: string;
  jsgf?: string;
  corpus?: readonly string[];
}

export interface DecoderReady {
  /** Words in the corpus language model (null for the stock model or a grammar). */
  vocabulary: number | null;
  /** Corpus words the dictionary does not know, left out of the language model. */
  dropped: string[];
}

export interface Hypothesis {
  /** Lower-case words, '' when nothing was recognized. */
  text: string;
  /** Mean word posterior, 0..1 (0 for no words). */
  confidence: number;
  /** Decoder path score (log domain, more negative is worse). */
  score: number;
  ms: number;
}

export interface DecoderProcessOptions {
  python?: string;
  /** Loading the stock 130k-word model takes a few seconds on a busy 2-core machine. */
  startTimeoutMs?: number;
}

type Reply = Record<string, unknown>;

interface Running {
  child: ChildProcess;
  ready: Promise<DecoderReady>;
  /** The one request awaiting a reply: requests are strictly one at a time. */
  waiter?: { resolve: (reply: Reply) => void; reject: (error: Error) => void };
  stderr: string;
  closing: boolean;
}

/**
 * One long-lived pocketsphinx decoder (a Python child process). The model loads once; each
 * utterance then costs only its decode. Utterances are decoded one at a time in call order; a
 * caller that gives up still lets its utterance finish, so replies never get out of step.
 */
export class DecoderProcess {
  readonly #config: DecoderConfig;
  readonly #python: string;
  readonly #startTimeoutMs: number;
  #running?: Running;
  #turn: Promise<unknown> = Promise.resolve();

  constructor(config: DecoderConfig, options: DecoderProcessOptions = {}) {
    this.#config = config;
    this.#python = options.python ?? SYSTEM_PYTHON;
    this.#startTimeoutMs = options.startTimeoutMs ?? 30_000;
  }

  get pid(): number | undefined {
    return this.#running?.child.pid;
  }

  /** Starts the process if it is not running and resolves once its model is loaded. */
  start(): Promise<DecoderReady> {
    return (this.#running ?? this.#spawn()).ready;
  }

  decode(
    pcm: Int16Array,
    { signal, timeoutMs }: { signal?: AbortSignal; timeoutMs: number },
  ): Promise<Hypothesis> {
    return this.#exclusive(async () => {
      const stale = this.#running !== undefined;
      try {
        return await this.#decodeOnce(pcm, timeoutMs, signal);
      } catch (error) {
        // A decoder that was already running may have died since its last reply: a fresh one gets
        // one try, so the caller does not lose this utterance to it.
        if (!stale || !(error instanceof DecoderGoneError) || error.closed) throw error;
        return await this.#decodeOnce(pcm, timeoutMs, signal);
      }
    }, signal);
  }

  /** Kills the process and waits until it is gone; a later decode starts a new one. */
  async close(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (!running) return;
    running.closing = true;
    const child = running.child;
    // No pid: spawning failed, and such a child never emits 'exit'.
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  async #decodeOnce(pcm: Int16Array, timeoutMs: number, signal?: AbortSignal): Promise<Hypothesis> {
    await this.start();
    signal?.throwIfAborted(); // given up while the model loaded
    const running = this.#running;
    if (!running) throw new DecoderGoneError('pocketsphinx decoder exited right after loading', false);
    const header = Buffer.alloc(4);
    header.writeUInt32LE(pcm.byteLength, 0);
    const reply = this.#reply(running, timeoutMs, 'decoding');
    running.child.stdin!.write(
      Buffer.concat([header, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)]),
    );
    const answer = await reply;
    if (typeof answer.error === 'string')
      throw new APIError(`pocketsphinx could not decode: ${answer.error}`);
    return {
      text: String(answer.text ?? '').toLowerCase(),
      confidence: Number(answer.confidence ?? 0),
      score: Number(answer.score ?? 0),
      ms: Number(answer.ms ?? 0),
    };
  }

  /** Runs `work` after every earlier request has settled. */
  #exclusive<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const result = this.#turn.then(() => {
      signal?.throwIfAborted(); // given up while queued: the decoder never sees it
      return work();
    });
    this.#turn = result.catch(() => undefined);
    return signal ? abortable(result, signal) : result;
  }

  #spawn(): Running {
    const child = spawn(this.#python, [DECODER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    const running: Running = {
      child,
      ready: Promise.resolve({ vocabulary: null, dropped: [] }),
      stderr: '',
      closing: false,
    };
    this.#running = running;

    child.stdin!.on('error', () => undefined); // a dead child is reported by 'exit' below
    child.stderr!.on('data', (chunk: Buffer) => {
      running.stderr = (running.stderr + chunk.toString('utf8')).slice(-4000);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const waiter = running.waiter;
      running.waiter = undefined;
      if (!waiter) return;
      try {
        waiter.resolve(JSON.parse(line) as Reply);
      } catch {
        waiter.reject(
          new APIConnectionError({ message: `pocketsphinx decoder sent garbage: ${line.slice(0, 200)}` }),
        );
      }
    });
    const gone = (why: string) => {
      if (this.#running === running) this.#running = undefined;
      const detail = running.stderr.trim().split('\n').slice(-3).join(' | ');
      const message = running.closing
        ? 'pocketsphinx decoder closed'
        : `pocketsphinx decoder ${why}${detail ? `: ${detail}` : ''}`;
      running.waiter?.reject(new DecoderGoneError(message, running.closing));
      running.waiter = undefined;
    };
    child.on('error', (error) =>
      gone(`could not start (${error.message}); is python3-pocketsphinx installed?`),
    );
    child.on('exit', (code, signal) => gone(`exited (${signal ?? `code ${code}`})`));

    running.ready = this.#reply(running, this.#startTimeoutMs, 'loading its model').then((reply) => {
      if (reply.ready === true) {
        return {
          vocabulary: typeof reply.vocabulary === 'number' ? reply.vocabulary : null,
          dropped: (reply.dropped as string[] | undefined) ?? [],
        };
      }
      throw new APIError(
        `pocketsphinx decoder rejected its configuration: ${String(reply.fatal ?? JSON.stringify(reply))}`,
        { retryable: false },
      );
    });
    running.ready.catch(() => undefined); // callers get the error from start(); this only marks it handled
    child.stdin!.write(`${JSON.stringify(this.#config)}\n`);
    return running;
  }

  #reply(running: Running, timeoutMs: number, doing: string): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        running.waiter = undefined;
        // A decoder that stops answering is replaced: its late reply would be taken for the next one.
        running.child.kill('SIGKILL');
        reject(new APITimeoutError({ message: `pocketsphinx decoder took over ${timeoutMs} ms ${doing}` }));
      }, timeoutMs);
      running.waiter = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }
}

/** The decoder process ended (or never started) while a request needed it. */
class DecoderGoneError extends APIConnectionError {
  /** Ended by close(), so it must not be replaced. */
  readonly closed: boolean;

  constructor(message: string, closed: boolean) {
    super({ message });
    this.closed = closed;
  }
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort))
      .catch(() => undefined);
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('recognition aborted', 'AbortError');
}
