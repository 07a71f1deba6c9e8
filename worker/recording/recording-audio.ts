import { getFfmpegPath } from '@livekit/av';
import { spawn } from 'node:child_process';

/**
 * A recording's two channels as 16-bit PCM, decoded by the same ffmpeg the framework's recorder
 * encodes with (bundled by @livekit/av; LIVEKIT_FFMPEG_PATH overrides it, as for the framework).
 * For checks and tools, not the call path: the whole file is held in memory.
 */
export interface StereoPcm {
  sampleRate: number;
  left: Int16Array;
  right: Int16Array;
  /** Channels the file itself has (a mono file decodes to two equal channels). */
  channels: number;
}

export function ffmpegPath(): string {
  return process.env.LIVEKIT_FFMPEG_PATH || getFfmpegPath() || 'ffmpeg';
}

export async function decodeStereo(path: string, sampleRate = 16000): Promise<StereoPcm> {
  const channels = await probeChannels(path);
  const raw = await run(['-v', 'error', '-i', path, '-f', 's16le', '-acodec', 'pcm_s16le', '-ac', '2', '-ar', String(sampleRate), '-']);
  const frames = raw.length >> 2;
  const left = new Int16Array(frames);
  const right = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = raw.readInt16LE(i * 4);
    right[i] = raw.readInt16LE(i * 4 + 2);
  }
  return { sampleRate, left, right, channels };
}

/** RMS level (0..1) of each `windowMs` window of a channel. */
export function levels(samples: Int16Array, sampleRate: number, windowMs: number): number[] {
  const size = Math.max(1, Math.round((sampleRate * windowMs) / 1000));
  const out: number[] = [];
  for (let start = 0; start < samples.length; start += size) {
    const end = Math.min(samples.length, start + size);
    let sum = 0;
    for (let i = start; i < end; i++) sum += (samples[i]! / 32768) ** 2;
    out.push(Math.sqrt(sum / (end - start)));
  }
  return out;
}

async function probeChannels(path: string): Promise<number> {
  // ffmpeg with no output prints the stream layout on stderr and exits non-zero: that is expected.
  const info = await run(['-hide_banner', '-i', path], { allowFailure: true, stderr: true });
  const match = /Audio: [^\n]*?, \d+ Hz, (mono|stereo|(\d+) channels)/.exec(info.toString('utf8'));
  if (!match) throw new Error(`no audio stream in ${path}`);
  return match[1] === 'mono' ? 1 : match[1] === 'stereo' ? 2 : Number(match[2]);
}

function run(args: string[], options: { allowFailure?: boolean; stderr?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && !options.allowFailure) reject(new Error(`ffmpeg exited ${code}: ${Buffer.concat(err).toString('utf8').slice(0, 300)}`));
      else resolve(Buffer.concat(options.stderr ? err : out));
    });
  });
}

/** PCM in chunks of whole frames: a read may end in the middle of a sample. */
export async function* wholeFrames(source: AsyncIterable<Buffer> | NodeJS.ReadableStream, bytesPerFrame: number): AsyncGenerator<Buffer> {
  let carry = Buffer.alloc(0);
  for await (const chunk of source as AsyncIterable<Buffer>) {
    const pcm = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const whole = pcm.length - (pcm.length % bytesPerFrame);
    carry = Buffer.from(pcm.subarray(whole));
    if (whole > 0) yield pcm.subarray(0, whole);
  }
}
