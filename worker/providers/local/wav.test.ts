import { describe, expect, it } from 'vitest';
import { rmsLevel, trailingSilenceMs, trimLeadingSilence } from './wav.js';

const RATE = 16_000;
const LEAD_IN = { thresholdRms: 0.005, speechRms: 0.02, windowMs: 10, keepMs: 20 };

function speechAfter(silentMs: number, noise = 0): Int16Array {
  const silent = (RATE * silentMs) / 1000;
  const samples = new Int16Array(silent + RATE / 2);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = i < silent ? Math.round((Math.random() - 0.5) * noise) : Math.round(8000 * Math.sin((2 * Math.PI * 200 * i) / RATE));
  }
  return samples;
}

describe('trimLeadingSilence', () => {
  it('cuts the quiet lead-in to the kept 20 ms before the first sound', () => {
    // A faint hiss (about -60 dBFS) is silence to a listener.
    const trimmed = trimLeadingSilence({ sampleRate: RATE, channels: 1, samples: speechAfter(300, 60) }, LEAD_IN);
    expect(trimmed.samples.length).toBe(RATE / 2 + (RATE * 20) / 1000);
    const kept = (RATE * 20) / 1000;
    expect(rmsLevel(trimmed.samples.subarray(0, kept))).toBeLessThan(0.005);
    expect(rmsLevel(trimmed.samples.subarray(kept, kept + RATE / 100))).toBeGreaterThan(0.1);
  });

  it('keeps a soft onset before the speech, and cuts a click in the silence before that', () => {
    const samples = speechAfter(300);
    // A faint click 10 ms in (-42 dBFS), and 40 ms of a soft fricative (-40 dBFS) right before the speech.
    for (let i = 160; i < 320; i++) samples[i] = i % 2 ? 250 : -250;
    for (let i = 4160; i < 4800; i++) samples[i] = i % 2 ? 330 : -330;
    const trimmed = trimLeadingSilence({ sampleRate: RATE, channels: 1, samples }, LEAD_IN);
    expect(trimmed.samples.length).toBe(RATE / 2 + 640 + 320);
  });

  it('leaves audio that starts with sound, or never makes one, as it is', () => {
    const loud = { sampleRate: RATE, channels: 1, samples: speechAfter(0) };
    expect(trimLeadingSilence(loud, LEAD_IN)).toBe(loud);
    const silent = { sampleRate: RATE, channels: 1, samples: new Int16Array(RATE) };
    expect(trimLeadingSilence(silent, LEAD_IN).samples.length).toBe(RATE);
  });
});

describe('trailingSilenceMs', () => {
  const TAIL = { thresholdRms: 0.01, windowMs: 10 };

  it('measures the quiet tail after the last sound, a faint hiss included', () => {
    const speech = speechAfter(0);
    const samples = new Int16Array(speech.length + (RATE * 170) / 1000);
    samples.set(speech);
    for (let i = speech.length; i < samples.length; i++) samples[i] = Math.round((Math.random() - 0.5) * 60);
    expect(trailingSilenceMs(samples, RATE, TAIL)).toBe(170);
  });

  it('is zero for audio that ends in sound, and the whole length for audio that never makes one', () => {
    expect(trailingSilenceMs(speechAfter(0), RATE, TAIL)).toBe(0);
    expect(trailingSilenceMs(new Int16Array(RATE / 4), RATE, TAIL)).toBe(250);
  });
});
