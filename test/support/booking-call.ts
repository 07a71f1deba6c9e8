import { RESUME_APOLOGY } from '../../agents/workflow/phrases.js';
import { Caller } from '../../worker/testing/caller.js';

export interface StackAddress {
  livekitUrl: string;
  apiKey: string;
  apiSecret: string;
}

/**
 * A caller booking an appointment, step by step, so a test can break the call (kill, SIGTERM)
 * between steps and then check the call carried on from where it was.
 */
export class BookingCall {
  /** The first time offered, and all of them. */
  offered?: string;
  times: string[] = [];

  private constructor(readonly caller: Caller) {}

  static async join(stack: StackAddress, agentName: string): Promise<BookingCall> {
    const caller = await Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName, metadata: '{"workflow":"booking"}' });
    return new BookingCall(caller);
  }

  get room(): string {
    return this.caller.roomName;
  }

  async greeting(timeoutMs = 30_000): Promise<void> {
    await this.caller.greeting(timeoutMs);
    await this.caller.waitForAgentToFinish(timeoutMs);
  }

  /** Asks for a booking; resolves with the times offered. */
  async askForTimes(timeoutMs = 30_000): Promise<string> {
    const since = performance.now();
    await this.caller.say("I'd like to book an appointment");
    const offer = await this.caller.waitForAgentTranscript('Which would you like?', timeoutMs, since);
    await this.caller.waitForAgentToFinish(timeoutMs);
    this.times = offer.text.match(/I have (.+?)\. Which would you like\?/)![1]!.split(/, | or /);
    this.offered = this.times[0]!;
    return this.offered;
  }

  /** Waits for a new agent's apology after a break; resolves with what it said and when. */
  async resumed(since: number, timeoutMs = 30_000): Promise<{ text: string; at: number }> {
    const apology = await this.caller.waitForAgentTranscript(RESUME_APOLOGY, timeoutMs, since);
    await this.caller.waitForAgentToFinish(timeoutMs);
    return apology;
  }

  /**
   * Takes the first time offered (or the second: callers booking at once in one calendar must not
   * pick the same) and confirms; resolves with the agent's confirmation of the booking.
   */
  async book(timeoutMs = 30_000, pick: 'first' | 'second' = 'first'): Promise<string> {
    const choice = await this.caller.turn(`the ${pick} one`, timeoutMs);
    const picked = this.times[pick === 'first' ? 0 : 1];
    if (picked && choice.agentTranscript !== `To confirm: ${picked}. Shall I book it?`) {
      throw new Error(`unexpected read-back: "${choice.agentTranscript}"`);
    }
    const confirmed = await this.caller.turn('yes please', timeoutMs);
    if (!confirmed.agentTranscript.includes('You are booked for')) throw new Error(`not booked: "${confirmed.agentTranscript}"`);
    return confirmed.agentTranscript;
  }

  /** When the caller first heard the business again (voice or background track) after `since`. */
  firstHeardAfter(since: number): number | undefined {
    const bursts = [...this.caller.agentBursts, ...this.caller.backgroundBursts].filter((b) => b.startedAt >= since);
    return bursts.length ? Math.min(...bursts.map((b) => b.startedAt)) : undefined;
  }

  /** A fault happens now: the silence after it is measured from here. */
  fault(): { at: number; turns: number } {
    return { at: performance.now(), turns: this.caller.turns.length };
  }

  /**
   * The worst silence the caller sat through after a fault: the wait for the first word after
   * it, and the wait for each answer in the turns after it.
   */
  worstSilenceMs(fault: { at: number; turns: number }): number {
    const since = fault.at;
    const first = this.firstHeardAfter(since);
    const waits = this.caller.turns.slice(fault.turns).map((t) => t.firstHeardMs);
    return Math.round(Math.max(first === undefined ? Infinity : first - since, ...waits));
  }

  hangUp(): Promise<void> {
    return this.caller.hangUp();
  }
}
