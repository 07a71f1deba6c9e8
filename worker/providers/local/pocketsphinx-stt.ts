import { normalizeLanguage, stt, type APIConnectOptions, type AudioBuffer } from '@livekit/agents';
import { AudioFrame, AudioResampler } from '@livekit/rtc-node';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../project-root.js';
import { DecoderProcess, type DecoderReady } from './pocketsphinx-decoder-process.js';
import { concatSamples } from './wav.js';

const STOCK_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
/** Made by scripts/setup-speech-models.sh: the stock model with a narrowband front end. */
const NARROWBAND_MODEL_DIR = '.local/models/en-us-8k';

export type DecoderSampleRate = 8000 | 16000;

export interface ModelPaths {
  /** Acoustic model directory. */
  hmm: string;
  dict: string;
  /** The stock 130k-word language model. */
  lm: string;
  sampleRate: DecoderSampleRate;
  /** FFT size: a 25.6 ms window needs 512 points at 16 kHz but only 256 at 8 kHz. */
  nfft: 256 | 512;
}

/**
 * Where the models for a decoder rate live. Throws, saying what to run, when one is missing.
 * `root` is the project root that holds `.local/models`.
 */
export function modelPaths(sampleRate: DecoderSampleRate = 16000, root: string = PROJECT_ROOT): ModelPaths {
  const stock = {
    hmm: join(STOCK_MODEL_DIR, 'en-us'),
    dict: join(STOCK_MODEL_DIR, 'cmudict-en-us.dict'),
    lm: join(STOCK_MODEL_DIR, 'en-us.lm.bin'),
  };
  if (!existsSync(join(stock.hmm, 'mdef')) || !existsSync(stock.dict)) {
    throw new Error(
      `pocketsphinx en-us model missing under ${STOCK_MODEL_DIR}: run scripts/setup (apt-get install pocketsphinx-en-us)`,
    );
  }
  if (sampleRate === 16000) return { ...stock, sampleRate, nfft: 512 };
  const hmm = join(root, NARROWBAND_MODEL_DIR);
  if (!existsSync(join(hmm, 'mdef')) || !existsSync(join(hmm, 'feat.params'))) {
    throw new Error(`pocketsphinx 8 kHz model missing at ${hmm}: run scripts/setup-speech-models.sh`);
  }
  return { ...stock, hmm, sampleRate, nfft: 256 };
}

export interface PocketsphinxSTTOptions {
  /**
   * Rate the decoder runs at; input of any rate is resampled to it. 16000 (default) uses the
   * stock wideband model and also serves phone audio best, upsampled; 8000 uses the narrowband
   * copy made by scripts/setup-speech-models.sh.
   */
  sampleRate?: DecoderSampleRate;
  /**
   * Language model, at most one of:
   * - `corpus`: domain sentences, from which the decoder builds a small bigram model over their
   *   words (words the dictionary lacks are left out; `warm()` reports them);
   * - `jsgf`: a JSGF grammar; near-perfect on its phrases, but forces any speech onto one of them;
   * - `lm`: path of an ARPA or binary model. Default: the stock 130k-word en-us model.
   */
  corpus?: readonly string[];
  jsgf?: string;
  lm?: string;
  /** Pronunciation dictionary; default the stock cmudict. */
  dict?: string;
  /** Interpreter that can import Debian's pocketsphinx; default /usr/bin/python3. */
  python?: string;
  /** Project root holding `.local/models`; default this checkout. */
  projectRoot?: string;
  /** A decode may take this long, or 3x the utterance's length if longer, before the decoder is replaced. */
  decodeTimeoutMs?: number;
}

/**
 * Offline speech recognition with pocketsphinx, one utterance at a time. It does not stream:
 * wrap it in `stt.StreamAdapter` with a VAD, which cuts the caller's speech into utterances and
 * calls `recognize()` for each. One decoder process per instance decodes them in order.
 */
export class PocketsphinxSTT extends stt.STT {
  label = 'voicefleet.PocketsphinxSTT';
  readonly sampleRate: DecoderSampleRate;
  readonly #mode: 'corpus' | 'jsgf' | 'lm';
  readonly #decodeTimeoutMs: number;
  readonly #decoder: DecoderProcess;

  constructor(options: PocketsphinxSTTOptions = {}) {
    super({ streaming: false, interimResults: false });
    const models = [options.corpus && 'corpus', options.jsgf && 'jsgf', options.lm && 'lm'].filter(Boolean);
    if (models.length > 1)
      throw new TypeError(`PocketsphinxSTT takes one of corpus, jsgf and lm, got ${models.join(' and ')}`);
    if (options.corpus?.length === 0) throw new TypeError('PocketsphinxSTT corpus is empty');
    this.#mode = options.corpus ? 'corpus' : options.jsgf ? 'jsgf' : 'lm';
    this.sampleRate = options.sampleRate ?? 16000;
    if (this.sampleRate !== 8000 && this.sampleRate !== 16000) {
      throw new RangeError(
        `PocketsphinxSTT sampleRate must be 8000 or 16000, got ${String(this.sampleRate)}`,
      );
    }
    this.#decodeTimeoutMs = options.decodeTimeoutMs ?? 10_000;

    const paths = modelPaths(this.sampleRate, options.projectRoot);
    this.#decoder = new DecoderProcess(
      {
        hmm: paths.hmm,
        dict: options.dict ?? paths.dict,
        samprate: this.sampleRate,
        nfft: paths.nfft,
        ...(options.corpus
          ? { corpus: options.corpus }
          : options.jsgf
            ? { jsgf: options.jsgf }
            : { lm: options.lm ?? paths.lm }),
      },
      { python: options.python },
    );
  }

  override get model(): string {
    return `pocketsphinx-en-us-${this.sampleRate / 1000}k/${this.#mode}`;
  }

  override get provider(): string {
    return 'local';
  }

  /** Pid of the decoder process while one runs. */
  get decoderPid(): number | undefined {
    return this.#decoder.pid;
  }

  /** Starts the decoder and loads its model ahead of the first utterance. */
  warm(): Promise<DecoderReady> {
    return this.#decoder.start();
  }

  protected async _recognize(buffer: AudioBuffer, abortSignal?: AbortSignal): Promise<stt.SpeechEvent> {
    const input = monoSamples(buffer);
    const durationS = input.samples.length / input.sampleRate;
    if (input.samples.length === 0) return finalTranscript('', 0, 0);
    const pcm = resample(input, this.sampleRate);
    const hypothesis = await this.#decoder.decode(pcm, {
      signal: abortSignal,
      timeoutMs: Math.max(this.#decodeTimeoutMs, durationS * 3000),
    });
    return finalTranscript(hypothesis.text, hypothesis.confidence, durationS);
  }

  stream(_options?: { connOptions?: APIConnectOptions }): stt.SpeechStream {
    throw new Error(
      'PocketsphinxSTT does not stream: wrap it as new stt.StreamAdapter(pocketsphinxSTT, vad)',
    );
  }

  override async close(): Promise<void> {
    await this.#decoder.close();
  }
}

function finalTranscript(text: string, confidence: number, durationS: number): stt.SpeechEvent {
  return {
    type: stt.SpeechEventType.FINAL_TRANSCRIPT,
    alternatives: [{ text, language: normalizeLanguage('en'), startTime: 0, endTime: durationS, confidence }],
  };
}

interface MonoAudio {
  samples: Int16Array;
  sampleRate: number;
}

/**
 * Joins the frames and mixes them down to mono in one pass. (The framework's mergeFrames copies
 * everything merged so far for each frame it adds: seconds of event-loop time for an utterance
 * given as 10 ms frames.)
 */
function monoSamples(buffer: AudioBuffer): MonoAudio {
  const frames = Array.isArray(buffer) ? buffer : [buffer];
  const first = frames[0];
  if (!first) return { samples: new Int16Array(0), sampleRate: 16000 };
  const total = frames.reduce((n, f) => n + f.samplesPerChannel, 0);
  const samples = new Int16Array(total);
  let at = 0;
  for (const frame of frames) {
    if (frame.sampleRate !== first.sampleRate)
      throw new TypeError('PocketsphinxSTT: frames of one utterance differ in sample rate');
    const { data, channels, samplesPerChannel } = frame;
    if (channels === 1) {
      samples.set(data.subarray(0, samplesPerChannel), at);
    } else {
      for (let i = 0; i < samplesPerChannel; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += data[i * channels + c]!;
        samples[at + i] = Math.round(sum / channels);
      }
    }
    at += samplesPerChannel;
  }
  return { samples, sampleRate: first.sampleRate };
}

function resample({ samples, sampleRate }: MonoAudio, to: number): Int16Array {
  if (sampleRate === to) return samples;
  const resampler = new AudioResampler(sampleRate, to, 1);
  try {
    const out = [
      ...resampler.push(new AudioFrame(samples, sampleRate, 1, samples.length)),
      ...resampler.flush(),
    ];
    return concatSamples(out.map((f) => f.data.subarray(0, f.samplesPerChannel)));
  } finally {
    resampler.close();
  }
}
