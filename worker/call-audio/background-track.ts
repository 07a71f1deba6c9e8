import { voice } from '@livekit/agents';
import type { AudioFrame, AudioSource, Room } from '@livekit/rtc-node';
import type { BackgroundRecording } from '../recording/background-recording.js';

/**
 * The call's second audio track (hold music, queue messages, the dead-air filler), published the
 * first time something needs it. Each publication is a renegotiation with the caller's side, and
 * one still in flight when the session publishes the agent's voice holds the greeting back until
 * both are through; most calls need the track only after the greeting, or never.
 */
export class BackgroundTrack {
  readonly player = new voice.BackgroundAudioPlayer();
  readonly #room: Room;
  #started?: Promise<void>;
  #recording?: BackgroundRecording;
  #tapped = false;

  constructor(room: Room) {
    this.#room = room;
  }

  get started(): boolean {
    return this.#started !== undefined;
  }

  /** Publishes the track once; every later call shares that publication. */
  start(): Promise<void> {
    this.#started ??= this.player.start({ room: this.#room });
    return this.#started;
  }

  /**
   * Everything the track plays from now on also goes to `recording`, stamped with when the caller
   * hears it. The player keeps its audio source to itself, so this taps the source's
   * captureFrame: the mixed frames, each about to join the source's play-out queue. False when
   * this framework version's player has no such source (the recording then lacks the track).
   */
  recordInto(recording: BackgroundRecording): boolean {
    this.#recording = recording;
    if (this.#tapped) return true;
    const source = (this.player as unknown as { audioSource?: AudioSource }).audioSource;
    if (typeof source?.captureFrame !== 'function') return false;
    const capture = source.captureFrame.bind(source);
    source.captureFrame = (frame: AudioFrame) => {
      try {
        this.#recording?.capture(frame, Date.now() + source.queuedDuration);
      } catch {
        // The recording may lose the frame; the caller must not.
      }
      return capture(frame);
    };
    this.#tapped = true;
    return true;
  }

  async close(): Promise<void> {
    if (!this.#started) return;
    await this.#started.catch(() => undefined);
    await this.player.close();
  }
}
