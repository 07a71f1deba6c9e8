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
  /**
   * The silence a caller may hear after they stop talking (from the VAD's end of speech) before
   * the holding phrase plays, if the agent is still thinking then.
   */
  budgetMs: number;
  /**
   * The least thinking time before the phrase: an answer a moment away is not talked over with
   * "one moment", even after a slow end-of-turn decision used up the budget.
   */
  minThinkingMs: number;
  onFilled?: (thinkingMs: number) => void;
}

/**
 * Keeps a caller from hearing dead air while the agent thinks for too long: a slow or stalled
 * LLM, a TTS that has not produced its first sound, a fallback still taking over. The clock is
 * the caller's: once `budgetMs` has passed since they stopped talking (the end-of-turn decision
 * spends part of it) and the agent is still thinking, it plays a pre-rendered holding phrase
 * ("One moment, please.") on the background track, which needs no provider. The reply itself cannot be overtaken on the agent's own track:
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
  /** When the caller last stopped talking (VAD), performance.now(). */
  #callerStoppedAt?: number;
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
    const spent = this.#callerStoppedAt === undefined ? 0 : since - this.#callerStoppedAt;
    const delay = Math.max(this.#options.minThinkingMs, this.#options.budgetMs - spent);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#playing = this.#player.play(this.#clip.play());
      this.#options.onFilled?.(Math.round(performance.now() - since));
    }, delay);
  };

  #onUserState = (ev: { oldState?: string; newState: string }): void => {
    if (ev.newState === 'speaking') this.#quiet();
    if (ev.oldState === 'speaking' && ev.newState === 'listening') this.#callerStoppedAt = performance.now();
  };

  #quiet(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#playing && !this.#playing.done()) this.#playing.stop();
    this.#playing = undefined;
  }
}
