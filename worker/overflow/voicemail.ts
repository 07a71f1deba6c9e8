import { AudioStream, type RemoteParticipant, type RemoteTrack, RoomEvent, type Room, TrackKind } from '@livekit/rtc-node';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { concatSamples, encodeWav, rmsLevel } from '../providers/local/wav.js';

const SAMPLE_RATE = 16000;
/** About -40 dBFS: above it a frame counts as the caller speaking. */
const SPEECH_LEVEL = 0.01;

export interface VoicemailOptions {
  room: Room;
  caller: RemoteParticipant;
  dir: string;
  callId: string;
  maxMs: number;
  /** Silence after the caller has spoken that ends the message. */
  endSilenceMs: number;
  callerGone: AbortSignal;
}

export interface Voicemail {
  path: string;
  durationMs: number;
  /** False when nothing above the speech level was heard (the caller hung up at the tone). */
  spoken: boolean;
}

/**
 * Records a caller's message from their audio track until they hang up, stop talking, or reach
 * the limit, and keeps it as a WAV file, fsync'd before its name appears: a message the caller
 * was told is saved is on disk.
 */
export async function recordVoicemail(options: VoicemailOptions): Promise<Voicemail> {
  const track = await callerAudioTrack(options.room, options.caller, options.callerGone);
  const chunks: Int16Array[] = [];
  let spoken = false;
  let lastSpeechAt = performance.now();
  const deadline = performance.now() + options.maxMs;
  if (track) {
    const stream = new AudioStream(track, { sampleRate: SAMPLE_RATE, numChannels: 1 });
    const reader = stream.getReader();
    // One read stays pending across ticks, so no frame is dropped while the clock is checked.
    let pending = reader.read();
    try {
      while (!options.callerGone.aborted && performance.now() < deadline) {
        // A hang-up promise per wait, let go after it: a race lost to one long-lived promise keeps
        // its winner (here every frame) reachable for as long as that promise is pending.
        const gone = whenAborted(options.callerGone);
        const next = await Promise.race([pending, gone.promise, sleep(500)]).finally(gone.release);
        if (next === 'gone') break;
        if (next === 'tick') continue;
        if (next.done) break;
        pending = reader.read();
        chunks.push(next.value.data.slice());
        if (rmsLevel(next.value.data) >= SPEECH_LEVEL) {
          spoken = true;
          lastSpeechAt = performance.now();
        } else if (spoken && performance.now() - lastSpeechAt >= options.endSilenceMs) {
          break;
        }
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
  const samples = concatSamples(chunks);
  await mkdir(options.dir, { recursive: true });
  const path = join(options.dir, `voicemail-${options.callId.replace(/[^A-Za-z0-9_-]/g, '_')}.wav`);
  const partial = `${path}.partial`;
  const file = await open(partial, 'w');
  try {
    await file.writeFile(encodeWav({ sampleRate: SAMPLE_RATE, channels: 1, samples }));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(partial, path);
  return { path, durationMs: Math.round((samples.length * 1000) / SAMPLE_RATE), spoken };
}

async function callerAudioTrack(room: Room, caller: RemoteParticipant, gone: AbortSignal): Promise<RemoteTrack | undefined> {
  const subscribed = [...caller.trackPublications.values()].find((p) => p.kind === TrackKind.KIND_AUDIO && p.track)?.track;
  if (subscribed) return subscribed;
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(undefined), 5000);
    const onTrack = (track: RemoteTrack, _pub: unknown, participant: RemoteParticipant) => {
      if (participant.identity === caller.identity && track.kind === TrackKind.KIND_AUDIO) finish(track);
    };
    const onGone = () => finish(undefined);
    function finish(track: RemoteTrack | undefined) {
      clearTimeout(timer);
      room.off(RoomEvent.TrackSubscribed, onTrack);
      gone.removeEventListener('abort', onGone);
      resolve(track);
    }
    room.on(RoomEvent.TrackSubscribed, onTrack);
    gone.addEventListener('abort', onGone, { once: true });
  });
}

function sleep(ms: number): Promise<'tick'> {
  return new Promise((resolve) => setTimeout(() => resolve('tick'), ms));
}

/** Resolves with 'gone' when `signal` aborts; `release` removes the listener once it is not needed. */
function whenAborted(signal: AbortSignal): { promise: Promise<'gone'>; release: () => void } {
  let onAbort = (): void => undefined;
  const promise = new Promise<'gone'>((resolve) => {
    onAbort = () => resolve('gone');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, release: () => signal.removeEventListener('abort', onAbort) };
}
