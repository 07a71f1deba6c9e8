import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AudioFrame } from '@livekit/rtc-node';
import { ffmpegPath, wholeFrames } from './recording-audio.js';

/** The framework's recorder and background player both run at 48 kHz. */
export const RECORDING_RATE = 48_000;
/** A frame this close to where the last one ended continues it; estimates of play-out time jitter. */
const CONTIGUOUS_SAMPLES = RECORDING_RATE / 10;

/**
 * What the call's background track played (the dead-air filler, hold music and queue messages
 * once the session runs) on the recording's clock. The framework's recorder taps only the
 * session's own audio output, so without this the recording has dead air where the caller heard
 * "one moment, please". Kept as a sparse 16-bit mono file beside the recording, each frame at the
 * byte offset of its sample on that clock (the holes read as silence), and mixed into the agent's
 * channel when the call ends.
 */
export class BackgroundRecording {
  #file?: Promise<FileHandle>;
  #writes: Promise<void> = Promise.resolve();
  #next?: number;
  #samples = 0;
  #skippedSeconds = 0;
  #closed?: Promise<{ seconds: number; skippedSeconds: number; error?: Error }>;
  #error?: Error;

  /** `startedAt`: the recording's zero (RecorderIO.recordingStartedAt), wall-clock ms. */
  constructor(
    readonly path: string,
    readonly startedAt: number,
  ) {}

  /** A frame the background track is about to play, and the wall-clock ms it plays at. */
  capture(frame: AudioFrame, playsAt: number): void {
    if (this.#closed || this.#error) return;
    if (frame.sampleRate !== RECORDING_RATE) {
      this.#skippedSeconds += frame.samplesPerChannel / frame.sampleRate;
      return;
    }
    let mono = downmix(frame);
    let at = Math.round(((playsAt - this.startedAt) / 1000) * RECORDING_RATE);
    // Contiguous with the last frame when close to it, and never written over earlier audio.
    if (this.#next !== undefined && (Math.abs(at - this.#next) <= CONTIGUOUS_SAMPLES || at < this.#next)) at = this.#next;
    if (at < 0) {
      // Played before the recording began (a caller on hold before the session started).
      mono = mono.subarray(Math.min(mono.length, -at));
      at = 0;
    }
    if (mono.length === 0) return;
    this.#next = at + mono.length;
    this.#samples += mono.length;
    const bytes = Buffer.from(mono.buffer, mono.byteOffset, mono.byteLength);
    this.#writes = this.#writes
      .then(async () => {
        // A hold recording starts before the session has made its directory.
        const file = await (this.#file ??= mkdir(dirname(this.path), { recursive: true }).then(() => open(this.path, 'w')));
        await file.write(bytes, 0, bytes.length, at * 2);
      })
      .catch((error: Error) => {
        this.#error ??= error;
      });
  }

  /** Stops taking frames and finishes writing; what was kept, and why not all of it was. Once. */
  close(): Promise<{ seconds: number; skippedSeconds: number; error?: Error }> {
    this.#closed ??= this.#writes.then(async () => {
      if (this.#file) await (await this.#file).close().catch(() => undefined);
      return { seconds: this.#samples / RECORDING_RATE, skippedSeconds: this.#skippedSeconds, error: this.#error };
    });
    return this.#closed;
  }
}

/** A copy, mono: the mixer's frames are mono already, and a frame's buffer is not ours to keep. */
function downmix(frame: AudioFrame): Int16Array {
  if (frame.channels === 1) return Int16Array.from(frame.data.subarray(0, frame.samplesPerChannel));
  const mono = new Int16Array(frame.samplesPerChannel);
  for (let i = 0; i < frame.samplesPerChannel; i++) {
    let sum = 0;
    for (let ch = 0; ch < frame.channels; ch++) sum += frame.data[i * frame.channels + ch]!;
    mono[i] = Math.round(sum / frame.channels);
  }
  return mono;
}

/**
 * Writes `outputPath`: the stereo recording with the background audio added to its right (agent)
 * channel, sample for sample from the recording's start. Streams both; the call is never held in
 * memory. The bundled ffmpeg has no mixing filters, so ffmpeg decodes and encodes and the adding
 * happens here.
 */
export async function mixIntoAgentChannel(recordingPath: string, backgroundPath: string, outputPath: string): Promise<void> {
  const ffmpeg = ffmpegPath();
  const decoder = spawn(ffmpeg, ['-v', 'error', '-i', recordingPath, '-f', 's16le', '-acodec', 'pcm_s16le', '-ac', '2', '-ar', String(RECORDING_RATE), '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The same encoding the framework's recorder writes: Opus in Ogg, stereo, 48 kHz.
  const encoder = spawn(ffmpeg, ['-v', 'error', '-y', '-f', 's16le', '-ar', String(RECORDING_RATE), '-ac', '2', '-i', '-', '-c:a', 'libopus', '-f', 'ogg', outputPath], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const decoded = exitOf(decoder, 'decoding the recording');
  const encoded = exitOf(encoder, 'encoding the mixed recording');
  const background = openSync(backgroundPath, 'r');
  try {
    const backgroundSamples = fstatSync(background).size >> 1;
    let frame = 0;
    async function* addBackground(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      // The decoder's chunks are ours: the background is added in place.
      for await (const out of wholeFrames(chunks, 4)) {
        const frames = out.length >> 2;
        const wanted = Math.max(0, Math.min(frames, backgroundSamples - frame));
        if (wanted > 0) {
          const extra = Buffer.alloc(wanted * 2);
          readSync(background, extra, 0, extra.length, frame * 2);
          for (let i = 0; i < wanted; i++) {
            const right = out.readInt16LE(i * 4 + 2) + extra.readInt16LE(i * 2);
            out.writeInt16LE(Math.max(-32768, Math.min(32767, right)), i * 4 + 2);
          }
        }
        frame += frames;
        yield out;
      }
    }
    await Promise.all([pipeline(decoder.stdout!, addBackground, encoder.stdin!), decoded, encoded]);
  } finally {
    closeSync(background);
  }
}

/** Resolves when an ffmpeg run exits 0; else rejects with what it wrote to stderr. */
export function exitOf(child: ReturnType<typeof spawn>, what: string): Promise<void> {
  const stderr: Buffer[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg ${what} exited ${code}: ${Buffer.concat(stderr).toString('utf8').trim().slice(0, 300)}`));
    });
  });
}
