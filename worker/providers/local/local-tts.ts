import { AudioByteStream, shortuuid, tokenize, tts, type APIConnectOptions } from '@livekit/agents';
import { AudioFrame, AudioResampler } from '@livekit/rtc-node';
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSpeechProcess } from './speech-process.js';
import { textForSpeech } from './speech-text.js';
import { parseWav, type Pcm16 } from './wav.js';

export type LocalTTSEngine = 'flite' | 'espeak-ng';

export interface LocalTTSOptions {
  /** Default `flite`: it sounds more natural and recognizers understand it better. */
  engine: LocalTTSEngine;
  /** Output rate in Hz; 8000 for phone legs, 16000 (default) for WebRTC. */
  sampleRate: number;
  /** Engine voice; defaults `slt` (flite, 16 kHz) and `en-us` (espeak-ng). */
  voice?: string;
  /** Path of the engine binary; defaults to the engine name on PATH. */
  binaryPath?: string;
  /** Called with the pid of each engine process (tests use it to check that aborts kill it). */
  onProcess?: (pid: number) => void;
}

const FRAME_MS = 20;

/**
 * Offline text-to-speech over a Debian speech engine. Each sentence is one engine run (7-40 ms
 * for flite); the framework's sentence tokenizer streams a reply sentence by sentence, so the
 * first sentence plays while the rest of the reply is still being written.
 */
export class LocalTTS extends tts.TTS {
  label = 'voicefleet.LocalTTS';
  readonly opts: LocalTTSOptions;

  constructor(opts: Partial<LocalTTSOptions> = {}) {
    const options: LocalTTSOptions = { engine: 'flite', sampleRate: 16000, ...opts };
    super(options.sampleRate, 1, { streaming: false });
    this.opts = options;
  }

  override get model(): string {
    return this.opts.engine;
  }

  override get provider(): string {
    return 'local';
  }

  synthesize(text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal): tts.ChunkedStream {
    return new LocalChunkedStream(this, text, connOptions, abortSignal);
  }

  stream(options?: { connOptions?: APIConnectOptions }): tts.SynthesizeStream {
    return new tts.StreamAdapter(this, new tokenize.basic.SentenceTokenizer()).stream(options);
  }

  /** Synthesizes one piece of text to PCM at the engine's own rate. */
  async render(text: string, signal?: AbortSignal): Promise<Pcm16> {
    const { engine, voice, binaryPath, onProcess } = this.opts;
    const spoken = textForSpeech(text).replace(/^-+/, '');
    if (engine === 'espeak-ng') {
      const wav = await runSpeechProcess({
        binary: binaryPath ?? 'espeak-ng',
        argv: ['--stdout', '-v', voice ?? 'en-us', '-s', '165', spoken],
        debianPackage: 'espeak-ng',
        signal,
        onSpawn: onProcess,
      });
      return parseWav(wav);
    }
    // flite cannot write to a socket (Node's stdio), so it writes a private temp file.
    const file = join(tmpdir(), `voicefleet-tts-${randomUUID()}.wav`);
    try {
      await runSpeechProcess({
        binary: binaryPath ?? 'flite',
        argv: ['-voice', voice ?? 'slt', '-t', spoken, '-o', file],
        debianPackage: 'flite',
        signal,
        onSpawn: onProcess,
      });
      return parseWav(await readFile(file));
    } finally {
      await rm(file, { force: true });
    }
  }
}

class LocalChunkedStream extends tts.ChunkedStream {
  label = 'voicefleet.LocalChunkedStream';
  readonly #tts: LocalTTS;
  readonly #text: string;

  constructor(owner: LocalTTS, text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal) {
    super(text, owner, connOptions, abortSignal);
    this.#tts = owner;
    this.#text = text;
  }

  protected async run(): Promise<void> {
    const requestId = shortuuid('local_tts_');
    try {
      if (this.#text.trim() === '') return;
      const pcm = await this.#tts.render(this.#text, this.abortController.signal);
      const frames = toFrames(pcm, this.#tts.sampleRate);
      frames.forEach((frame, i) => {
        this.queue.put({ requestId, segmentId: requestId, frame, final: i === frames.length - 1 });
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') return;
      throw error;
    } finally {
      this.queue.close();
    }
  }
}

/** Mono PCM at any rate -> 20 ms frames at the target rate. */
export function toFrames(pcm: Pcm16, targetRate: number): AudioFrame[] {
  let frames = [new AudioFrame(pcm.samples, pcm.sampleRate, 1, pcm.samples.length)];
  if (pcm.sampleRate !== targetRate) {
    const resampler = new AudioResampler(pcm.sampleRate, targetRate, 1);
    frames = [...frames.flatMap((f) => resampler.push(f)), ...resampler.flush()];
  }
  const bytes = new AudioByteStream(targetRate, 1, (targetRate * FRAME_MS) / 1000);
  const out = frames.flatMap((f) => bytes.write(new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength)));
  return [...out, ...bytes.flush()];
}
