import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESSION_AUDIO_FILE } from '../../worker/recording/call-recording.js';
import { ffmpegPath } from '../../worker/recording/recording-audio.js';

/** Stereo 16 kHz PCM of `seconds`: a 440 Hz tone on one channel throughout, the other silent. */
export function toneOn(channel: 'left' | 'right', seconds: number): Buffer {
  const rate = 16000;
  const pcm = Buffer.alloc(rate * seconds * 4);
  for (let i = 0; i < rate * seconds; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 4 + (channel === 'left' ? 0 : 2));
  return pcm;
}

/** Writes `pcm` as the framework's recorder does (s16le stereo in, libopus in Ogg out, 48 kHz) into a new session directory's audio.ogg. */
export function recordedSession(pcm: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'voicefleet-session-'));
  writeFileSync(join(dir, 'call.pcm'), pcm);
  execFileSync(ffmpegPath(), ['-v', 'error', '-f', 's16le', '-ar', '16000', '-ac', '2', '-i', join(dir, 'call.pcm'), '-c:a', 'libopus', '-ar', '48000', join(dir, SESSION_AUDIO_FILE)]);
  return dir;
}

/** `seconds` of a sine at 48 kHz, the rate of the framework's recorder and background player. */
export function sine48k(seconds: number, hz: number, amplitude = 0.3): Int16Array {
  const out = new Int16Array(Math.round(seconds * 48_000));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * i) / 48_000));
  return out;
}
