import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioFrame } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { BackgroundRecording, mixIntoAgentChannel, RECORDING_RATE } from './background-recording.js';
import { decodeStereo, ffmpegPath, levels } from './recording-audio.js';
import { sine48k } from '../../test/support/recorded-session.js';

const WINDOW_MS = 100;
const SOUND = 0.05;

/** A stereo Ogg-Opus file like the framework's recorder writes, from two channels of 48 kHz PCM. */
async function writeRecording(path: string, left: Int16Array, right: Int16Array): Promise<void> {
  const stereo = new Int16Array(left.length * 2);
  for (let i = 0; i < left.length; i++) {
    stereo[i * 2] = left[i]!;
    stereo[i * 2 + 1] = right[i]!;
  }
  const encoder = spawn(ffmpegPath(), ['-v', 'error', '-y', '-f', 's16le', '-ar', '48000', '-ac', '2', '-i', '-', '-c:a', 'libopus', '-f', 'ogg', path]);
  encoder.stdin.end(Buffer.from(stereo.buffer));
  const code = await new Promise<number | null>((resolve) => encoder.on('close', (exit) => resolve(exit)));
  expect(code).toBe(0);
}

function place(channel: Int16Array, atSeconds: number, audio: Int16Array): void {
  channel.set(audio, Math.round(atSeconds * RECORDING_RATE));
}

const loud = (windows: number[], fromS: number, toS: number) => windows.slice(Math.round((fromS * 1000) / WINDOW_MS), Math.round((toS * 1000) / WINDOW_MS));

describe('background audio in the call recording', () => {
  it('adds what the background track played to the agent channel, at the time it played, and leaves the caller channel alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'voicefleet-background-'));
    const seconds = 3;
    const left = new Int16Array(seconds * RECORDING_RATE);
    const right = new Int16Array(seconds * RECORDING_RATE);
    place(left, 0.5, sine48k(0.5, 440)); // the caller asks
    place(right, 2.2, sine48k(0.5, 660)); // the agent's answer
    const recordingPath = join(dir, 'audio.ogg');
    await writeRecording(recordingPath, left, right);

    // The filler plays from 1.2 s to 1.8 s, in the mixer's 100 ms frames, their play-out times
    // estimated with some jitter; a frame before them played before the recording began.
    const startedAt = Date.now();
    const background = new BackgroundRecording(join(dir, 'background.s16le'), startedAt);
    background.capture(new AudioFrame(sine48k(0.1, 880), RECORDING_RATE, 1, 4800), startedAt - 150);
    const filler = sine48k(0.6, 880);
    const jitter = [0, 4, -6, 3, -2, 5];
    for (let i = 0; i < 6; i++) {
      const samples = filler.subarray(i * 4800, (i + 1) * 4800);
      background.capture(new AudioFrame(samples, RECORDING_RATE, 1, 4800), startedAt + 1200 + i * 100 + jitter[i]!);
    }
    const kept = await background.close();
    expect(kept.seconds).toBeCloseTo(0.6, 2);
    expect(kept.error).toBeUndefined();
    // Nothing after close.
    background.capture(new AudioFrame(sine48k(0.1, 880), RECORDING_RATE, 1, 4800), startedAt + 2500);
    expect(statSync(background.path).size).toBe(Math.round(1.8 * RECORDING_RATE) * 2);

    const mixedPath = join(dir, 'mixed.ogg');
    await mixIntoAgentChannel(recordingPath, background.path, mixedPath);
    const mixed = await decodeStereo(mixedPath);
    expect(mixed.channels).toBe(2);
    expect(Math.abs(mixed.left.length / mixed.sampleRate - seconds)).toBeLessThan(0.05);
    const agent = levels(mixed.right, mixed.sampleRate, WINDOW_MS);
    const caller = levels(mixed.left, mixed.sampleRate, WINDOW_MS);

    // The filler, whole and where it played; the answer still after it; silence around both.
    expect(Math.min(...loud(agent, 1.2, 1.8))).toBeGreaterThan(SOUND);
    expect(Math.min(...loud(agent, 2.2, 2.7))).toBeGreaterThan(SOUND);
    expect(Math.max(...loud(agent, 0, 1.1))).toBeLessThan(SOUND / 5);
    expect(Math.max(...loud(agent, 1.9, 2.1))).toBeLessThan(SOUND / 5);
    // The caller's channel is the caller's alone.
    expect(Math.min(...loud(caller, 0.5, 1.0))).toBeGreaterThan(SOUND);
    expect(Math.max(...loud(caller, 1.1, 3))).toBeLessThan(SOUND / 5);
  });

  it('keeps frames at another sample rate out rather than at the wrong speed, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'voicefleet-background-'));
    const background = new BackgroundRecording(join(dir, 'background.s16le'), Date.now());
    background.capture(new AudioFrame(new Int16Array(2400), 24_000, 1, 2400), Date.now());
    expect(await background.close()).toEqual({ seconds: 0, skippedSeconds: 0.1, error: undefined });
  });

  it('fails with ffmpeg\'s reason when the recording cannot be decoded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'voicefleet-background-'));
    const background = new BackgroundRecording(join(dir, 'background.s16le'), Date.now());
    background.capture(new AudioFrame(sine48k(0.1, 880), RECORDING_RATE, 1, 4800), Date.now());
    await background.close();
    await expect(mixIntoAgentChannel(join(dir, 'missing.ogg'), background.path, join(dir, 'out.ogg'))).rejects.toThrow(/ffmpeg decoding the recording exited \d+: [^]*missing\.ogg/);
  });
});
