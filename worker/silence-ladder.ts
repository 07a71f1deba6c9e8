import { llm, voice } from '@livekit/agents';

export interface SilencePrompts {
  /** Said in turn after each stretch of caller silence. */
  reprompts: readonly string[];
  /** Said before hanging up when the caller stays silent after the last reprompt. */
  goodbye: string;
}

export interface SilenceLadderOptions {
  /** A function when the prompts change mid-call (the call was handed to another workflow). */
  prompts: SilencePrompts | (() => SilencePrompts);
  /** Caller silence, counted from the agent going quiet, before each rung. */
  promptAfterMs: number;
  /**
   * How long voice activity with no words may delay a rung. Line noise keeps the VAD busy on
   * phone calls; a caller who really speaks produces a transcript well within this.
   */
  maxUntranscribedSpeechMs: number;
  /** Ends the call (deletes the room, which hangs up a SIP leg). */
  hangUp: () => Promise<void>;
  onRung?: (rung: number, kind: 'reprompt' | 'goodbye') => void;
}

/** The part of AgentSession the ladder uses; a test can stand in for it. */
export interface LadderSession {
  readonly agentState?: string;
  on: voice.AgentSession['on'];
  off: voice.AgentSession['off'];
  say(text: string, options: { addToChatCtx: boolean }): { waitForPlayout(): Promise<unknown> };
  readonly history: { insert(item: llm.ChatItem): void };
}

/**
 * Caller silence handling: a reprompt, then another, then a polite goodbye and hang-up. The
 * clock runs only while the agent listens (never while it speaks, thinks or runs a tool), and
 * any words from the caller put the ladder back to its first rung.
 *
 * A prompt is an aside, not a step of the conversation: it goes into the call's history (the
 * record and transcript keep it) but not into the agent's context, so the workflow still reads
 * its own last question as pending ("the first one" still picks a slot after "Are you still
 * there?"), and a call resumed on another worker repeats that question, not the prompt.
 */
export class SilenceLadder {
  readonly #session: LadderSession;
  readonly #options: SilenceLadderOptions;
  #rung = 0;
  #timer?: NodeJS.Timeout;
  #agentListening = false;
  #callerVoiceSince?: number;
  #ended = false;
  readonly #E = voice.AgentSessionEventTypes;

  constructor(session: LadderSession, options: SilenceLadderOptions) {
    this.#session = session;
    this.#options = options;
  }

  start(): void {
    this.#session.on(this.#E.AgentStateChanged, this.#onAgentState);
    this.#session.on(this.#E.UserInputTranscribed, this.#onTranscript);
    this.#session.on(this.#E.UserStateChanged, this.#onUserState);
    this.#session.on(this.#E.Close, this.stop);
    if (this.#session.agentState === 'listening') this.#onAgentState({ newState: 'listening' });
  }

  stop = (): void => {
    this.#ended = true;
    this.#clear();
    this.#session.off(this.#E.AgentStateChanged, this.#onAgentState);
    this.#session.off(this.#E.UserInputTranscribed, this.#onTranscript);
    this.#session.off(this.#E.UserStateChanged, this.#onUserState);
    this.#session.off(this.#E.Close, this.stop);
  };

  get rung(): number {
    return this.#rung;
  }

  #onAgentState = (ev: { newState: string }): void => {
    this.#agentListening = ev.newState === 'listening';
    if (this.#agentListening) this.#arm(this.#options.promptAfterMs);
    else this.#clear();
  };

  #onTranscript = (ev: { transcript: string }): void => {
    if (!ev.transcript.trim()) return;
    this.#rung = 0;
    this.#callerVoiceSince = undefined;
    if (this.#agentListening) this.#arm(this.#options.promptAfterMs);
  };

  #onUserState = (ev: { newState: string }): void => {
    this.#callerVoiceSince = ev.newState === 'speaking' ? Date.now() : undefined;
  };

  #arm(ms: number): void {
    this.#clear();
    if (!this.#ended) this.#timer = setTimeout(() => void this.#fire(), ms);
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #fire(): Promise<void> {
    this.#timer = undefined;
    if (this.#ended || !this.#agentListening) return;
    // Voice activity without words yet: wait a little for a transcript, but not forever.
    if (this.#callerVoiceSince !== undefined) {
      const heldMs = Date.now() - this.#callerVoiceSince;
      if (heldMs < this.#options.maxUntranscribedSpeechMs) {
        this.#arm(this.#options.maxUntranscribedSpeechMs - heldMs);
        return;
      }
    }
    const prompts = this.#options.prompts;
    const { reprompts, goodbye } = typeof prompts === 'function' ? prompts() : prompts;
    const rung = this.#rung;
    this.#rung += 1;
    if (rung < reprompts.length) {
      this.#options.onRung?.(rung + 1, 'reprompt');
      void this.#aside(reprompts[rung]!);
      return;
    }
    this.#options.onRung?.(rung + 1, 'goodbye');
    this.#ended = true;
    await this.#aside(goodbye);
    await this.#options.hangUp();
  }

  async #aside(text: string): Promise<void> {
    const createdAt = Date.now();
    await this.#session.say(text, { addToChatCtx: false }).waitForPlayout();
    this.#session.history.insert(llm.ChatMessage.create({ role: 'assistant', content: [text], createdAt }));
  }
}
