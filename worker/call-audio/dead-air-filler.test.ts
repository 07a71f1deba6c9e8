import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadAirFiller, type FillerSession } from './dead-air-filler.js';
import type { AudioClip } from './audio-clip.js';

class FakeSession extends EventEmitter {
  agent(oldState: string, newState: string) {
    this.emit('agent_state_changed', { oldState, newState });
  }
  user(newState: string, oldState = 'listening') {
    this.emit('user_state_changed', { oldState, newState });
  }
}

class FakePlayer {
  played = 0;
  stopped = 0;
  play() {
    this.played += 1;
    let done = false;
    return {
      stop: () => {
        this.stopped += 1;
        done = true;
      },
      done: () => done,
    };
  }
}

describe('DeadAirFiller', () => {
  let session: FakeSession;
  let player: FakePlayer;
  let filler: DeadAirFiller;
  const clip = { play: async function* () {} } as unknown as AudioClip;

  beforeEach(() => {
    vi.useFakeTimers();
    session = new FakeSession();
    player = new FakePlayer();
    filler = new DeadAirFiller(session as unknown as FillerSession, player, clip, { budgetMs: 1200, minThinkingMs: 200 }).start();
  });
  afterEach(() => {
    filler.stop();
    vi.useRealTimers();
  });

  it('says nothing when the answer starts in time', () => {
    session.agent('listening', 'thinking');
    vi.advanceTimersByTime(1150);
    session.agent('thinking', 'speaking');
    vi.advanceTimersByTime(5000);
    expect(player.played).toBe(0);
  });

  it('plays the phrase once the budget is spent, and cuts it when the answer is heard', () => {
    session.agent('listening', 'thinking');
    vi.advanceTimersByTime(1200);
    expect(player.played).toBe(1);
    vi.advanceTimersByTime(5000);
    expect(player.played).toBe(1);
    session.agent('thinking', 'speaking');
    expect(player.stopped).toBe(1);
  });

  it('never starts over a caller who has started speaking again', () => {
    session.agent('listening', 'thinking');
    vi.advanceTimersByTime(400);
    session.user('speaking');
    vi.advanceTimersByTime(5000);
    expect(player.played).toBe(0);
  });

  it('stops the phrase when the caller talks over it', () => {
    session.agent('listening', 'thinking');
    vi.advanceTimersByTime(1200);
    session.user('speaking');
    expect(player.stopped).toBe(1);
  });

  it('counts the budget from the caller stopping: a slow end-of-turn decision leaves less to wait', () => {
    session.user('speaking');
    session.user('listening', 'speaking');
    // The end-of-turn decision took 900 ms: 300 ms of budget remain.
    vi.advanceTimersByTime(900);
    session.agent('listening', 'thinking');
    vi.advanceTimersByTime(299);
    expect(player.played).toBe(0);
    vi.advanceTimersByTime(1);
    expect(player.played).toBe(1);
  });

  it('still leaves an answer its minimum thinking time when the budget is gone', () => {
    session.user('speaking');
    session.user('listening', 'speaking');
    vi.advanceTimersByTime(2000);
    session.agent('listening', 'thinking');
    vi.advanceTimersByTime(199);
    expect(player.played).toBe(0);
    vi.advanceTimersByTime(1);
    expect(player.played).toBe(1);
  });

  it('leaves a tool running after spoken words alone ("One moment." was said)', () => {
    session.agent('speaking', 'thinking');
    vi.advanceTimersByTime(5000);
    expect(player.played).toBe(0);
  });

  it('stops listening when the session closes', () => {
    session.emit('close', {});
    session.agent('listening', 'thinking');
    vi.advanceTimersByTime(5000);
    expect(player.played).toBe(0);
  });
});
