import { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import type { AudioClip } from '../call-audio/audio-clip.js';
import type { CallSlots } from './call-slots.js';

export type HoldResult =
  | { result: 'answered'; waitedMs: number }
  | { result: 'timed_out'; waitedMs: number }
  | { result: 'caller_hung_up'; waitedMs: number };

export interface HoldLineOptions {
  slots: CallSlots;
  callId: string;
  player: voice.BackgroundAudioPlayer;
  /** Said once, as the caller is put on hold. */
  welcome: AudioClip;
  /** Renders "you are number n in line". */
  position: (n: number) => Promise<AudioClip>;
  maxWaitMs: number;
  /** How often the line is asked whether the caller's turn has come. */
  pollMs: number;
  /** The least time between two announcements of the caller's place in line. */
  announceEveryMs: number;
  /** Aborted when the caller hangs up. */
  callerGone: AbortSignal;
  log: Logger;
}

const HOLD_MUSIC_VOLUME = 0.4;

/**
 * A caller waiting for a free agent: a welcome, hold music, and their place in line when it
 * changes, until a slot is theirs, they hang up, or the wait runs out. Never silence: the music
 * plays under everything on the background track, which needs no speech provider.
 */
export async function holdForAgent(options: HoldLineOptions): Promise<HoldResult> {
  const { slots, callId, player, log } = options;
  const since = performance.now();
  const waited = () => Math.round(performance.now() - since);
  const music = player.play({ source: voice.BuiltinAudioClip.HOLD_MUSIC, volume: HOLD_MUSIC_VOLUME }, true);
  let announcing = player.play(options.welcome.play());
  // The first announcement of the caller's place follows the welcome at once.
  let lastAnnounced = -Infinity;
  let announcedPosition: number | undefined;
  try {
    while (true) {
      await sleep(options.pollMs, options.callerGone);
      if (options.callerGone.aborted) {
        await slots.release(callId).catch(() => undefined);
        return { result: 'caller_hung_up', waitedMs: waited() };
      }
      let answer: Awaited<ReturnType<CallSlots['acquire']>>;
      try {
        answer = await slots.acquire(callId);
      } catch (error) {
        // No Redis, no line to keep: an agent over capacity beats a caller on hold forever.
        log.warn({ event: 'call_slots_unavailable', error: (error as Error).message }, 'slot pool unreachable, answering the held call');
        return { result: 'answered', waitedMs: waited() };
      }
      if (answer.granted) return { result: 'answered', waitedMs: waited() };
      if (waited() >= options.maxWaitMs) {
        await slots.release(callId).catch(() => undefined);
        return { result: 'timed_out', waitedMs: waited() };
      }
      const due = performance.now() - lastAnnounced >= options.announceEveryMs;
      if (due && announcing.done() && answer.position !== announcedPosition) {
        announcedPosition = answer.position;
        lastAnnounced = performance.now();
        announcing = player.play((await options.position(answer.position)).play());
      }
    }
  } finally {
    announcing.stop();
    music.stop();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
