import { initializeLogger } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { rmsLevel } from '../providers/local/wav.js';
import { AudioClip, BACKGROUND_SAMPLE_RATE, trimSilence } from './audio-clip.js';

initializeLogger({ pretty: false, level: 'warn' });

describe('AudioClip', () => {
  it('renders a phrase at the background rate with its leading silence cut', async () => {
    const clip = await AudioClip.spoken('One moment, please.');
    expect(clip.frames.every((f) => f.sampleRate === BACKGROUND_SAMPLE_RATE && f.channels === 1)).toBe(true);
    // Speech is audible within the first 40 ms: the caller hears it the moment it plays.
    const firstAudible = clip.frames.findIndex((f) => rmsLevel(f.data) >= 0.01);
    expect(firstAudible).toBeGreaterThanOrEqual(0);
    expect(firstAudible).toBeLessThanOrEqual(1);
    expect(clip.durationMs).toBeGreaterThan(600);
    expect(clip.durationMs).toBeLessThan(2500);
  });

  it('plays the same frames every time it is played', async () => {
    const clip = AudioClip.tone(1000, 400);
    const count = async () => {
      let n = 0;
      for await (const _ of clip.play()) n += 1;
      return n;
    };
    expect(await count()).toBe(20);
    expect(await count()).toBe(20);
  });

  it('trims quiet ends only, keeping a 10 ms margin', () => {
    const samples = new Int16Array(1600);
    samples.fill(5000, 400, 1200);
    const trimmed = trimSilence(samples, 16000);
    expect(trimmed.length).toBe(800 + 2 * 160);
    expect(trimSilence(new Int16Array(100), 16000).length).toBe(100);
  });
});
