import { voice } from '@livekit/agents';
import type { AudioClip } from './audio-clip.js';

/** The part of BackgroundAudioPlayer the filler plays through; a test can stand in for it. */
export interface ClipPlayer {
  play(audio: AsyncIterable<import('@livekit/rtc-node').AudioFrame>): { stop(): void; done(): boolean };
}

/** The part of AgentSession the filler listens to. */
export interface FillerSession {
  on: voice.AgentSession['on'];
  off: voice.AgentSession['off'];
}

export interface DeadAirFillerOptions {
  /** Thinking time after which the caller hears the holding phrase. */
  afterMs: number;
  onFilled?: (thinkingMs: number) => void;
}

/**
 * Keeps a caller from hearing dead air while the agent thinks for too long: a slow or stalled
 * LLM, a TTS that has not produced its first sound, a fallback still taking over. After
 * `afterMs` of thinking it plays a pre-rendered holding phrase ("One moment.") on the background
 * track, which needs no provider. The reply itself cannot be overtaken on the agent's own track:
 * its speech queue plays one speech at a time, and the stalled reply is the one playing.
 *
 * Never over the caller: a caller who starts speaking cancels the phrase, and it is cut short as
 * soon as the agent's own reply is heard. At most one phrase per reply.
 */
export class DeadAirFiller {
  readonly #session: FillerSession;
  readonly #player: ClipPlayer;
  readonly #clip: AudioClip;
  readonly #options: DeadAirFillerOptions;
  #timer?: NodeJS.Timeout;
  #playing?: { stop(): void; done(): boolean };
  readonly #E = voice.AgentSessionEventTypes;

  constructor(session: FillerSession, player: ClipPlayer, clip: AudioClip, options: DeadAirFillerOptions) {
    this.#session = session;
    this.#player = player;
    this.#clip = clip;
    this.#options = options;
  }

  start(): this {
    this.#session.on(this.#E.AgentStateChanged, this.#onAgentState);
    this.#session.on(this.#E.UserStateChanged, this.#onUserState);
    this.#session.on(this.#E.Close, this.stop);
    return this;
  }

  stop = (): void => {
    this.#quiet();
    this.#session.off(this.#E.AgentStateChanged, this.#onAgentState);
    this.#session.off(this.#E.UserStateChanged, this.#onUserState);
    this.#session.off(this.#E.Close, this.stop);
  };

  #onAgentState = (ev: { oldState: string; newState: string }): void => {
    if (ev.newState !== 'thinking') {
      this.#quiet();
      return;
    }
    // Thinking after speaking is a tool running behind words already said ("One moment."):
    // the caller is not in dead air.
    if (this.#timer || ev.oldState === 'speaking') return;
    const since = performance.now();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#playing = this.#player.play(this.#clip.play());
      this.#options.onFilled?.(Math.round(performance.now() - since));
    }, this.#options.afterMs);
  };

  #onUserState = (ev: { newState: string }): void => {
    if (ev.newState === 'speaking') this.#quiet();
  };

  #quiet(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#playing && !this.#playing.done()) this.#playing.stop();
    this.#playing = undefined;
  }
}
