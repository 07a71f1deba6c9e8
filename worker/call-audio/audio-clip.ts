import { AudioFrame } from '@livekit/rtc-node';
import { LocalTTS, toFrames } from '../providers/local/local-tts.js';

/** The background track's mixer runs at 48 kHz mono; clips are made at its rate. */
export const BACKGROUND_SAMPLE_RATE = 48000;
const FRAME_SAMPLES = BACKGROUND_SAMPLE_RATE / 50;

/**
 * A short sound made once and played on the background track as often as needed: a phrase
 * rendered by the local TTS, or a tone. Made ahead because these play exactly when a provider is
 * failing or no agent is free, so they must depend on none and start without a synthesis delay.
 */
export class AudioClip {
  private constructor(
    readonly text: string,
    readonly frames: readonly AudioFrame[],
  ) {}

  static async spoken(text: string, voice = new LocalTTS({ sampleRate: BACKGROUND_SAMPLE_RATE })): Promise<AudioClip> {
    const pcm = await voice.render(text);
    return new AudioClip(text, toFrames({ ...pcm, samples: trimSilence(pcm.samples, pcm.sampleRate) }, BACKGROUND_SAMPLE_RATE));
  }

  /** A sine beep (the voicemail tone), faded in and out so it does not click. */
  static tone(hz: number, ms: number): AudioClip {
    const total = Math.round((BACKGROUND_SAMPLE_RATE * ms) / 1000);
    const fade = BACKGROUND_SAMPLE_RATE / 100;
    const samples = new Int16Array(Math.ceil(total / FRAME_SAMPLES) * FRAME_SAMPLES);
    for (let i = 0; i < total; i++) {
      const envelope = Math.min(1, i / fade, (total - i) / fade);
      samples[i] = Math.round(0.3 * 32767 * envelope * Math.sin((2 * Math.PI * hz * i) / BACKGROUND_SAMPLE_RATE));
    }
    const frames: AudioFrame[] = [];
    for (let at = 0; at < samples.length; at += FRAME_SAMPLES) {
      frames.push(new AudioFrame(samples.slice(at, at + FRAME_SAMPLES), BACKGROUND_SAMPLE_RATE, 1, FRAME_SAMPLES));
    }
    return new AudioClip(`(${hz} Hz tone)`, frames);
  }

  get durationMs(): number {
    return this.frames.reduce((ms, frame) => ms + (frame.samplesPerChannel * 1000) / frame.sampleRate, 0);
  }

  /** A fresh stream of the clip for one playing (the player consumes what it is given). */
  async *play(): AsyncGenerator<AudioFrame> {
    for (const frame of this.frames) yield frame;
  }
}

/** About -40 dBFS: quieter samples at either end are the engine's padding. */
const SILENCE_LEVEL = 330;

/**
 * Cuts the silence engines put around speech (flite leads with about 220 ms): a clip played to
 * fill dead air must be heard the moment it starts. Keeps 10 ms either side.
 */
export function trimSilence(samples: Int16Array, sampleRate: number): Int16Array {
  const pad = Math.round(sampleRate / 100);
  let first = samples.findIndex((x) => Math.abs(x) > SILENCE_LEVEL);
  if (first < 0) return samples;
  let last = samples.length - 1;
  while (last > first && Math.abs(samples[last]!) <= SILENCE_LEVEL) last -= 1;
  first = Math.max(0, first - pad);
  return samples.slice(first, Math.min(samples.length, last + 1 + pad));
}
