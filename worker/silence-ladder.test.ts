import { voice } from '@livekit/agents';
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SilenceLadder, type LadderSession } from './silence-ladder.js';

const E = voice.AgentSessionEventTypes;

/** Stands in for AgentSession: the ladder only listens to its events and asks it to speak. */
class FakeSession extends EventEmitter {
  said: string[] = [];
  /** What the call's history got: the prompts, never the agent's own context. */
  history = { items: [] as unknown[], insert: (item: unknown) => void this.history.items.push(item) };
  say(text: string, options: { addToChatCtx: boolean }) {
    expect(options.addToChatCtx).toBe(false);
    this.said.push(text);
    return { waitForPlayout: async () => undefined };
  }
  agent(state: string) {
    this.emit(E.AgentStateChanged, { newState: state });
  }
  caller(state: string) {
    this.emit(E.UserStateChanged, { newState: state });
  }
  words(text: string) {
    this.emit(E.UserInputTranscribed, { transcript: text, isFinal: true });
  }
}

describe('SilenceLadder', () => {
  let session: FakeSession;
  let hangUps: number;
  const prompts = { reprompts: ['still there?', 'can you hear me?'], goodbye: 'goodbye' };

  beforeEach(() => {
    vi.useFakeTimers();
    session = new FakeSession();
    hangUps = 0;
    new SilenceLadder(session as unknown as LadderSession, {
      prompts,
      promptAfterMs: 8000,
      maxUntranscribedSpeechMs: 4000,
      hangUp: async () => {
        hangUps += 1;
      },
    }).start();
  });
  afterEach(() => vi.useRealTimers());

  it('reprompts twice, then says goodbye and hangs up', async () => {
    session.agent('listening');
    await vi.advanceTimersByTimeAsync(8000);
    expect(session.said).toEqual(['still there?']);
    session.agent('speaking');
    session.agent('listening');
    await vi.advanceTimersByTimeAsync(8000);
    session.agent('speaking');
    session.agent('listening');
    await vi.advanceTimersByTimeAsync(8000);
    expect(session.said).toEqual(['still there?', 'can you hear me?', 'goodbye']);
    expect(session.history.items.map((m) => (m as { textContent?: string }).textContent)).toEqual(['still there?', 'can you hear me?', 'goodbye']);
    expect(hangUps).toBe(1);
  });

  it('never prompts while the agent speaks or thinks (a long tool call)', async () => {
    session.agent('thinking');
    await vi.advanceTimersByTimeAsync(60_000);
    session.agent('speaking');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(session.said).toEqual([]);
  });

  it('counts silence from the moment the agent goes quiet', async () => {
    session.agent('listening');
    await vi.advanceTimersByTimeAsync(7000);
    session.agent('speaking');
    session.agent('listening');
    await vi.advanceTimersByTimeAsync(7000);
    expect(session.said).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(session.said).toEqual(['still there?']);
  });

  it('goes back to the first rung when the caller says something', async () => {
    session.agent('listening');
    await vi.advanceTimersByTimeAsync(8000);
    session.agent('speaking');
    session.agent('listening');
    session.words('what are your hours');
    await vi.advanceTimersByTimeAsync(8000);
    expect(session.said).toEqual(['still there?', 'still there?']);
  });

  it('waits briefly for words while the VAD hears voice, but treats endless noise as silence', async () => {
    session.agent('listening');
    await vi.advanceTimersByTimeAsync(6000);
    session.caller('speaking'); // line noise: voice activity, no transcript ever
    await vi.advanceTimersByTimeAsync(2000);
    expect(session.said).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(session.said).toEqual(['still there?']);
  });

  it('ignores empty transcripts', async () => {
    session.agent('listening');
    await vi.advanceTimersByTimeAsync(8000);
    session.agent('speaking');
    session.agent('listening');
    session.words('  ');
    await vi.advanceTimersByTimeAsync(8000);
    expect(session.said).toEqual(['still there?', 'can you hear me?']);
  });

  it('stops when the session closes', async () => {
    session.agent('listening');
    session.emit(E.Close, {});
    await vi.advanceTimersByTimeAsync(60_000);
    expect(session.said).toEqual([]);
  });
});
