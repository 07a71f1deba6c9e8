import {
  APIConnectionError,
  AudioByteStream,
  shortuuid,
  tokenize,
  tts,
  type APIConnectOptions,
} from '@livekit/agents';
import { AudioFrame, AudioResampler } from '@livekit/rtc-node';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { concatSamples, parseWav, readWavHeader, samplesOf, trimLeadingSilence, WavFormatError, type Pcm16 } from './wav.js';

export type LocalTTSEngine = 'flite' | 'espeak-ng';

export interface LocalTTSOptions {
  /** Default `flite`: it sounds more natural and recognizers understand it better. */
  engine: LocalTTSEngine;
  /** Rate of the frames this TTS emits, 8000-48000 Hz; 8000 for phone legs, 16000 (default) for WebRTC. */
  sampleRate: number;
  /** Engine voice; defaults `slt` (flite, 16 kHz) and `en-us` (espeak-ng, 22.05 kHz). */
  voice?: string;
  /** Path of the engine binary; defaults to the engine's name on PATH. */
  binaryPath?: string;
  /** Called with the pid of each engine process (tests use it to check that an abort kills it). */
  onProcess?: (pid: number) => void;
}

const FRAME_MS = 20;
const DEFAULT_VOICE: Record<LocalTTSEngine, string> = { flite: 'slt', 'espeak-ng': 'en-us' };
const ESPEAK_WORDS_PER_MINUTE = '165';
/**
 * flite opens every file with about a quarter second of near-silence (slt, kal), which played is
 * that much dead air before each sentence, the greeting and the first word of an answer included.
 * Speech (-34 dBFS) is found first, then its soft onset (above -46 dBFS) before it; 20 ms of lead-in
 * is kept.
 * espeak-ng starts within a few tens of milliseconds and streams, so it is left as it is.
 */
const FLITE_LEAD_IN = { thresholdRms: 0.005, speechRms: 0.02, windowMs: 10, keepMs: 20 };
/**
 * Engine processes one TTS runs at once. The stream adapter starts a synthesis per sentence as
 * soon as the LLM has written it, and an LLM writes far faster than speech is spoken: unlimited,
 * a long reply would start a process per sentence at once and the first would share the CPU.
 */
const CONCURRENT_ENGINE_RUNS = 2;

/**
 * Offline text-to-speech over a Debian speech engine, one child process per request.
 *
 * It declares `streaming: false`, so `voice.AgentSession` (and `tts.FallbackAdapter`) wrap it in the
 * framework's sentence-tokenizing `tts.StreamAdapter`: each sentence of an LLM reply is synthesized
 * as soon as the tokenizer has seen it end, and plays while the rest is still being written.
 * `stream()` gives the same wrapping to direct callers.
 */
export class LocalTTS extends tts.TTS {
  label = 'voicefleet.LocalTTS';
  readonly opts: Readonly<LocalTTSOptions>;
  #streamAdapter?: tts.StreamAdapter;
  readonly #engineSlots = new Slots(CONCURRENT_ENGINE_RUNS);

  constructor(opts: Partial<LocalTTSOptions> = {}) {
    const options: LocalTTSOptions = { engine: 'flite', sampleRate: 16000, ...opts };
    const { sampleRate } = options;
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
      throw new RangeError(`LocalTTS sampleRate must be an integer from 8000 to 48000 Hz, got ${sampleRate}`);
    }
    super(sampleRate, 1, { streaming: false });
    this.opts = options;
  }

  override get model(): string {
    return `${this.opts.engine}/${this.opts.voice ?? DEFAULT_VOICE[this.opts.engine]}`;
  }

  override get provider(): string {
    return 'local';
  }

  synthesize(text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal): tts.ChunkedStream {
    return new LocalChunkedStream(this, text, connOptions, abortSignal);
  }

  stream(options?: { connOptions?: APIConnectOptions }): tts.SynthesizeStream {
    if (!this.#streamAdapter) {
      // One adapter for the TTS's lifetime, since each one subscribes to this TTS's events.
      this.#streamAdapter = new tts.StreamAdapter(this, new tokenize.basic.SentenceTokenizer());
      // It re-emits this TTS's errors, and an 'error' emitted with no listener throws from inside
      // this TTS's own emit, before later listeners (the session's) hear of it.
      this.#streamAdapter.on('error', () => {});
    }
    return this.#streamAdapter.stream(options);
  }

  override async close(): Promise<void> {
    await this.#streamAdapter?.close();
    await super.close();
  }

  /** Speech for `text` at the engine's own rate, chunk by chunk as the engine produces it. */
  async *speak(text: string, signal?: AbortSignal): AsyncGenerator<Pcm16> {
    const sentences = spokenSentences(text);
    if (sentences.length === 0) return;
    const { engine, binaryPath, onProcess } = this.opts;
    const voice = this.opts.voice ?? DEFAULT_VOICE[engine];
    const run = { binary: binaryPath ?? engine, debianPackage: engine, signal, onSpawn: onProcess };
    if (engine === 'espeak-ng') {
      // Text goes in on stdin so that nothing in it can be read as an option.
      const argv = ['--stdout', '-b', '1', '-v', voice, '-s', ESPEAK_WORDS_PER_MINUTE];
      const release = await this.#engineSlots.acquire(signal);
      try {
        yield* wavFromStdout(startEngine({ ...run, argv, stdin: sentences.join(' ') }));
      } finally {
        release();
      }
      return;
    }
    // flite writes only whole files, so a long text is spoken one sentence (one run) at a time.
    for (const sentence of sentences) {
      const release = await this.#engineSlots.acquire(signal);
      try {
        yield await fliteSentence(sentence, voice, run);
      } finally {
        release();
      }
    }
  }

  /** All of the speech for `text`, at the engine's own rate. */
  async render(text: string, signal?: AbortSignal): Promise<Pcm16> {
    const chunks: Pcm16[] = [];
    for await (const pcm of this.speak(text, signal)) chunks.push(pcm);
    const samples = concatSamples(chunks.map((c) => c.samples));
    return { sampleRate: chunks[0]?.sampleRate ?? this.sampleRate, channels: 1, samples };
  }
}

class LocalChunkedStream extends tts.ChunkedStream {
  label = 'voicefleet.LocalChunkedStream';
  readonly #tts: LocalTTS;

  constructor(owner: LocalTTS, text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal) {
    super(text, owner, connOptions, abortSignal);
    this.#tts = owner;
  }

  protected async run(): Promise<void> {
    const requestId = shortuuid('local_tts_');
    const signal = this.abortController.signal;
    const framer = new Framer(this.#tts.sampleRate);
    // One frame is held back so that the last one can be marked final.
    let held: AudioFrame | undefined;
    const send = (frame: AudioFrame, final: boolean) => {
      if (!signal.aborted && !this.queue.closed)
        this.queue.put({ requestId, segmentId: requestId, frame, final });
    };
    const pass = (frames: AudioFrame[]) => {
      for (const frame of frames) {
        if (held) send(held, false);
        held = frame;
      }
    };
    try {
      for await (const pcm of this.#tts.speak(this.inputText, signal)) pass(framer.push(pcm));
      pass(framer.flush());
      if (held) send(held, true);
    } catch (error) {
      if (signal.aborted || isAbortError(error)) return;
      throw error;
    } finally {
      framer.close();
    }
  }
}

/** Mono PCM at any rate -> 20 ms frames at `targetRate`. */
export function toFrames(pcm: Pcm16, targetRate: number): AudioFrame[] {
  const framer = new Framer(targetRate);
  try {
    return [...framer.push(pcm), ...framer.flush()];
  } finally {
    framer.close();
  }
}

/** Cuts engine PCM, resampled when the engine's rate differs, into 20 ms frames as it arrives. */
class Framer {
  readonly #rate: number;
  readonly #samplesPerFrame: number;
  readonly #bytes: AudioByteStream;
  #resampler?: AudioResampler;

  constructor(rate: number) {
    this.#rate = rate;
    this.#samplesPerFrame = (rate * FRAME_MS) / 1000;
    this.#bytes = new AudioByteStream(rate, 1, this.#samplesPerFrame);
  }

  push(pcm: Pcm16): AudioFrame[] {
    if (pcm.channels !== 1) throw new WavFormatError(`expected mono speech, got ${pcm.channels} channels`);
    if (pcm.samples.length === 0) return [];
    const frame = new AudioFrame(pcm.samples, pcm.sampleRate, 1, pcm.samples.length);
    if (pcm.sampleRate === this.#rate) return this.#cut([frame]);
    this.#resampler ??= new AudioResampler(pcm.sampleRate, this.#rate, 1);
    return this.#cut(this.#resampler.push(frame));
  }

  /** The rest of the audio; the last frame is padded with silence to a whole 20 ms. */
  flush(): AudioFrame[] {
    const frames = this.#resampler ? this.#cut(this.#resampler.flush()) : [];
    for (const rest of this.#bytes.flush()) {
      const padded = new Int16Array(this.#samplesPerFrame);
      padded.set(rest.data.subarray(0, this.#samplesPerFrame));
      frames.push(new AudioFrame(padded, this.#rate, 1, this.#samplesPerFrame));
    }
    return frames;
  }

  close(): void {
    this.#resampler?.close();
    this.#resampler = undefined;
  }

  #cut(frames: AudioFrame[]): AudioFrame[] {
    return frames.flatMap((f) =>
      this.#bytes.write(new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength)),
    );
  }
}

/** A first-come, first-served limit on concurrent work; a wait ends early on abort. */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(count: number) {
    this.#free = count;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw abortError();
    if (this.#free > 0) {
      this.#free -= 1;
    } else {
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', cancel);
          resolve();
        };
        const cancel = () => {
          this.#waiting.splice(this.#waiting.indexOf(grant), 1);
          reject(abortError());
        };
        this.#waiting.push(grant);
        signal?.addEventListener('abort', cancel, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free += 1;
    };
  }
}

interface EngineRun {
  binary: string;
  argv: string[];
  debianPackage: string;
  stdin?: string;
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
}

interface RunningEngine {
  stdout: Readable;
  /** Settles when the process has exited and been reaped; rejects on failure or abort. */
  exited: Promise<void>;
  /** Kills the process if it is still running and waits until it is gone. */
  stop(): Promise<void>;
}

/** Starts an engine that is killed (SIGKILL) the moment `signal` aborts. */
function startEngine(run: EngineRun): RunningEngine {
  if (run.signal?.aborted) throw abortError();
  const child = spawn(run.binary, run.argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  run.signal?.addEventListener('abort', kill, { once: true });
  if (child.pid !== undefined) run.onSpawn?.(child.pid);

  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 1000) stderr += s;
  });
  // An engine that dies early closes its stdin; its exit status reports that, not EPIPE.
  child.stdin.on('error', () => {});
  child.stdin.end(run.stdin ?? '');

  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      const message =
        error.code === 'ENOENT'
          ? `${run.binary} not found: install the Debian package ${run.debianPackage} (apt-get install -y ${run.debianPackage}; scripts/setup does)`
          : `${run.binary} failed to start: ${error.message}`;
      reject(new APIConnectionError({ message, options: { retryable: false } }));
    });
    child.once('close', (code, signal) => {
      if (run.signal?.aborted) return reject(abortError());
      if (code === 0) return resolve();
      // The engines are deterministic: a retry would fail the same way, only later.
      const message = `${run.binary} exited with ${code ?? signal}: ${stderr.trim().slice(0, 300)}`;
      reject(new APIConnectionError({ message, options: { retryable: false } }));
    });
  }).finally(() => run.signal?.removeEventListener('abort', kill));
  // Callers that stop early never await `exited`; its failure is theirs to ignore then.
  exited.catch(() => {});

  return {
    stdout: child.stdout,
    exited,
    stop: async () => {
      kill();
      await exited.catch(() => {});
    },
  };
}

/** PCM from an engine that streams a WAV file to stdout, yielded as each piece arrives. */
async function* wavFromStdout(engine: RunningEngine): AsyncGenerator<Pcm16> {
  const reader = new WavStreamReader();
  try {
    for await (const chunk of engine.stdout) {
      const pcm = reader.push(chunk as Buffer);
      if (pcm) yield pcm;
    }
    await engine.exited;
  } finally {
    await engine.stop();
  }
}

/** One sentence through flite, which can only write a file (not Node's socket stdout). */
async function fliteSentence(text: string, voice: string, run: Omit<EngineRun, 'argv'>): Promise<Pcm16> {
  // A private directory: the file holds what is said to the caller.
  const dir = await mkdtemp(join(tmpdir(), 'voicefleet-tts-'));
  const file = join(dir, 'speech.wav');
  const engine = startEngine({ ...run, argv: ['-voice', voice, '-t', text, '-o', file] });
  try {
    await engine.exited;
    return trimLeadingSilence(parseWav(await readFile(file)), FLITE_LEAD_IN);
  } finally {
    await engine.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Reads 16-bit PCM out of a WAV byte stream as it arrives. Engines writing to a pipe cannot seek
 * back to fill in sizes, so the data chunk is read to the end of the stream, whatever it declares.
 */
class WavStreamReader {
  #header: Buffer = Buffer.alloc(0);
  #format?: { sampleRate: number; channels: number };
  #oddByte?: number;

  push(chunk: Buffer): Pcm16 | undefined {
    let bytes = chunk;
    if (!this.#format) {
      this.#header = Buffer.concat([this.#header, chunk]);
      const header = readWavHeader(this.#header);
      if (!header) {
        if (this.#header.length > 64 * 1024) throw new WavFormatError('no data chunk in the first 64 KiB');
        return undefined;
      }
      this.#format = { sampleRate: header.sampleRate, channels: header.channels };
      bytes = this.#header.subarray(header.dataOffset);
      this.#header = Buffer.alloc(0);
    }
    if (this.#oddByte !== undefined) {
      bytes = Buffer.concat([Buffer.of(this.#oddByte), bytes]);
      this.#oddByte = undefined;
    }
    if (bytes.length % 2 === 1) {
      this.#oddByte = bytes[bytes.length - 1];
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    if (bytes.length === 0) return undefined;
    return { ...this.#format, samples: samplesOf(bytes) };
  }
}

const sentenceTokenizer = new tokenize.basic.SentenceTokenizer();

/** Reply text as the sentences an engine should say; none when there is nothing to say. */
export function spokenSentences(text: string): string[] {
  return sentenceTokenizer
    .tokenize(speechText(text))
    .filter((sentence) => /[\p{L}\p{N}]/u.test(sentence))
    .map((sentence) => (/[.!?]$/.test(sentence) ? sentence : `${sentence}.`));
}

const MARKDOWN_LINK = /\[([^\]]*)\]\([^)]*\)/g;
const MARKUP = /[*_#`~>|]+/g;
// Skin-tone modifiers, joiners and keycaps are not pictographs, but espeak-ng names them aloud.
const EMOJI = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\u200d|\ufe0f|\u20e3/gu;
const CLOCK_TIME = /\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s?m\b(\.?)/gi;

/**
 * Rewrites LLM reply text into what flite and espeak-ng say well: markup and link targets would be
 * spelled out, emoji named. Times become "3 PM"/"8:30 AM", which both engines read as letters;
 * "a m" is read "uh em", "8:00" as "eight zero zero" and "a.m." gets a pause in flite.
 */
export function speechText(text: string): string {
  return text
    .replace(MARKDOWN_LINK, '$1')
    .replace(MARKUP, ' ')
    .replace(EMOJI, ' ')
    .replace(/&/g, ' and ')
    .replace(
      CLOCK_TIME,
      (match, hour: string, minute = '00', half: string, dot: string, at: number, all: string) => {
        // A period is kept where it also ends the sentence ("at 5 p.m. See you").
        const endsSentence = dot !== '' && /^(\s*$|\s+[A-Z])/.test(all.slice(at + match.length));
        return `${hour}${minute === '00' ? '' : `:${minute}`} ${half.toUpperCase()}M${endsSentence ? '.' : ''}`;
      },
    )
    .replace(/\s+/g, ' ')
    .replace(/ ([.,!?;:])/g, '$1')
    .trim();
}

function abortError(): Error {
  const error = new Error('speech synthesis aborted');
  error.name = 'AbortError';
  return error;
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
