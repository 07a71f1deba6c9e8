import { mergeFrames, normalizeLanguage, stt, type APIConnectOptions, type AudioBuffer } from '@livekit/agents';
import { AudioFrame, AudioResampler } from '@livekit/rtc-node';
import { DecoderProcess, type DecoderProcessOptions } from './pocketsphinx-decoder-process.js';

/** The acoustic model is wideband; phone audio (8 kHz) is upsampled to it. */
export const DECODER_SAMPLE_RATE = 16000;

export type PocketsphinxSTTOptions = DecoderProcessOptions;

/**
 * Offline speech recognition with pocketsphinx, one utterance at a time: the session's VAD cuts
 * the caller's speech into utterances (the framework's StreamAdapter) and each is decoded by a
 * decoder process that lives as long as the call.
 *
 * Narrowband phone audio decoded natively at 8 kHz yields nothing useful from the stock model;
 * upsampled to 16 kHz it decodes as well as wideband speech, so every input goes to 16 kHz.
 */
export class PocketsphinxSTT extends stt.STT {
  label = 'voicefleet.PocketsphinxSTT';
  readonly #decoder: DecoderProcess;

  constructor(options: PocketsphinxSTTOptions = {}) {
    super({ streaming: false, interimResults: false });
    this.#decoder = new DecoderProcess(options);
  }

  override get model(): string {
    return 'pocketsphinx-en-us';
  }

  override get provider(): string {
    return 'local';
  }

  /** Pid of the decoder process, if running (tests and the process inspector use it). */
  get decoderPid(): number | undefined {
    return this.#decoder.pid;
  }

  /** Loads the model ahead of the first utterance. */
  warm(): Promise<void> {
    return this.#decoder.ready();
  }

  protected async _recognize(buffer: AudioBuffer, abortSignal?: AbortSignal): Promise<stt.SpeechEvent> {
    const frame = mergeFrames(buffer);
    const pcm = toDecoderRate(frame);
    const durationS = frame.samplesPerChannel / frame.sampleRate;
    const decoding = this.#decoder.decode(pcm);
    const hypothesis = await (abortSignal ? raceAbort(decoding, abortSignal) : decoding);
    return {
      type: stt.SpeechEventType.FINAL_TRANSCRIPT,
      alternatives: [
        {
          text: hypothesis.text,
          language: normalizeLanguage('en'),
          startTime: 0,
          endTime: durationS,
          confidence: confidenceOf(hypothesis.score, pcm.length, hypothesis.text),
        },
      ],
    };
  }

  stream(_options?: { connOptions?: APIConnectOptions }): stt.SpeechStream {
    throw new Error('PocketsphinxSTT recognizes whole utterances: wrap it in stt.StreamAdapter with a VAD');
  }

  override async close(): Promise<void> {
    this.#decoder.close();
  }
}

function toDecoderRate(frame: AudioFrame): Int16Array {
  const mono = frame.channels === 1 ? frame : downmix(frame);
  if (mono.sampleRate === DECODER_SAMPLE_RATE) return mono.data;
  const resampler = new AudioResampler(mono.sampleRate, DECODER_SAMPLE_RATE, 1);
  const out = [...resampler.push(mono), ...resampler.flush()];
  return mergeFrames(out).data;
}

function downmix(frame: AudioFrame): AudioFrame {
  const out = new Int16Array(frame.samplesPerChannel);
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let c = 0; c < frame.channels; c++) sum += frame.data[i * frame.channels + c]!;
    out[i] = Math.round(sum / frame.channels);
  }
  return new AudioFrame(out, frame.sampleRate, 1, out.length);
}

/**
 * A rough 0..1 confidence from the decoder's acoustic score per 10 ms frame; pocketsphinx gives
 * no calibrated confidence, and this only has to rank "clear speech" above "noise".
 */
function confidenceOf(score: number, samples16k: number, text: string): number {
  if (!text) return 0;
  const frames = Math.max(1, samples16k / 160);
  return Math.min(1, Math.max(0, 1 + score / frames / 100));
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function abortError(): Error {
  const error = new Error('recognition aborted');
  error.name = 'AbortError';
  return error;
}
