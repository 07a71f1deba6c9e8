import { voice } from '@livekit/agents';
import type { Room } from '@livekit/rtc-node';

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

  async close(): Promise<void> {
    if (!this.#started) return;
    await this.#started.catch(() => undefined);
    await this.player.close();
  }
}
