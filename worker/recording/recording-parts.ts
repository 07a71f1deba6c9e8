import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { exitOf, RECORDING_RATE } from './background-recording.js';
import { ffmpegPath, wholeFrames } from './recording-audio.js';

/**
 * A call whose agent died is resumed by a new agent in a new job process, whose session recorder
 * starts a new file. The dead agent's file is still where its recorder streamed it (the job's
 * session directory), so the call's state names every part recorded so far and the last agent
 * joins them into the one recording the call is stored as.
 */
export const recordingPartSchema = z.object({
  /** The job's session directory, holding the framework's audio.ogg (and the background beside it). */
  directory: z.string(),
  /** Wall-clock ms of the part's first sample, the recorder's own clock. */
  startedAt: z.number(),
  /** Only this machine can read the directory. */
  host: z.string(),
  /**
   * Wall-clock ms the caller was put on hold, when this agent held them before its session began:
   * what they heard then is in the directory's hold file (recordHold), on that clock.
   */
  holdStartedAt: z.number().optional(),
});

export type RecordingPart = z.infer<typeof recordingPartSchema>;

export function recordingPart(directory: string, startedAt: number, holdStartedAt?: number): RecordingPart {
  return { directory, startedAt, host: hostname(), ...(holdStartedAt !== undefined ? { holdStartedAt } : {}) };
}

export function readableHere(part: RecordingPart): boolean {
  return part.host === hostname();
}

/** A gap longer than this between parts is shortened to it: no recording is padded with an hour of nothing. */
const MAX_GAP_MS = 10 * 60_000;
const BYTES_PER_FRAME = 4;

/**
 * A file to join: a recording (any file ffmpeg reads, stereo caller / agent), or with
 * `agentOnly` the raw 48 kHz mono s16le of a track the caller heard with nobody recording them
 * (hold music and queue messages before the session), which goes on the agent's channel.
 */
export interface JoinablePart {
  path: string;
  startedAt: number;
  agentOnly?: boolean;
}

/**
 * Writes `output` (stereo Ogg-Opus, the recorder's format): each part where it happened on the
 * wall clock, the time between them (the dead air the caller heard while the call was handed
 * over) as silence. Parts are streamed, never held whole. The bundled ffmpeg has no mixing or
 * concat filters, so ffmpeg decodes and encodes and the joining happens here. Returns the gaps.
 */
export async function joinRecordingParts(parts: readonly JoinablePart[], output: string): Promise<{ gapsMs: number[] }> {
  const ffmpeg = ffmpegPath();
  const sorted = [...parts].sort((a, b) => a.startedAt - b.startedAt);
  const encoder = spawn(ffmpeg, ['-v', 'error', '-y', '-f', 's16le', '-ar', String(RECORDING_RATE), '-ac', '2', '-i', '-', '-c:a', 'libopus', '-f', 'ogg', output], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const encoded = exitOf(encoder, 'encoding the joined recording');
  const stdin = encoder.stdin!;
  const write = async (chunk: Buffer) => {
    if (!stdin.write(chunk)) await once(stdin, 'drain');
  };
  const gapsMs: number[] = [];
  let frames = 0;
  try {
    for (const part of sorted) {
      const at = Math.round(((part.startedAt - sorted[0]!.startedAt) / 1000) * RECORDING_RATE);
      const gap = Math.min(at - frames, (MAX_GAP_MS / 1000) * RECORDING_RATE);
      if (part !== sorted[0]) gapsMs.push(Math.round((Math.max(0, gap) / RECORDING_RATE) * 1000));
      for (let left = gap; left > 0; left -= RECORDING_RATE / 10) {
        const n = Math.min(left, RECORDING_RATE / 10);
        await write(Buffer.alloc(n * BYTES_PER_FRAME));
        frames += n;
      }
      if (part.agentOnly) {
        // Cut where the next part begins: hold music fades out while the session starts.
        const next = sorted[sorted.indexOf(part) + 1];
        const until = next ? Math.round(((next.startedAt - sorted[0]!.startedAt) / 1000) * RECORDING_RATE) : Infinity;
        for await (const mono of wholeFrames(createReadStream(part.path), 2)) {
          const n = Math.min(mono.length >> 1, until - frames);
          if (n <= 0) break;
          const stereo = Buffer.alloc(n * BYTES_PER_FRAME);
          for (let i = 0; i < n; i++) stereo.writeInt16LE(mono.readInt16LE(i * 2), i * BYTES_PER_FRAME + 2);
          await write(stereo);
          frames += n;
        }
        continue;
      }
      const decoder = spawn(ffmpeg, ['-v', 'error', '-i', part.path, '-f', 's16le', '-acodec', 'pcm_s16le', '-ac', '2', '-ar', String(RECORDING_RATE), '-'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const decoded = exitOf(decoder, `decoding ${part.path}`);
      for await (const pcm of wholeFrames(decoder.stdout!, BYTES_PER_FRAME)) {
        await write(pcm);
        frames += pcm.length / BYTES_PER_FRAME;
      }
      await decoded;
    }
  } finally {
    stdin.end();
  }
  await encoded;
  return { gapsMs };
}
