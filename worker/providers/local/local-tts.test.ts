import { APIConnectionError, initializeLogger, type tts } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { isAlive } from '../../../test/support/process-tree.js';
import { describe, expect, it } from 'vitest';
import { LocalTTS, type LocalTTSEngine } from './local-tts.js';
import { rmsLevel } from './wav.js';

initializeLogger({ pretty: false, level: 'warn' });

async function collect(stream: tts.ChunkedStream): Promise<AudioFrame[]> {
  const frames: AudioFrame[] = [];
  for await (const audio of stream) frames.push(audio.frame);
  return frames;
}

function join(frames: AudioFrame[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.data.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f.data, at);
    at += f.data.length;
  }
  return out;
}


describe.each<[LocalTTSEngine, number]>([
  ['flite', 16000],
  ['flite', 8000],
  ['espeak-ng', 16000],
])('LocalTTS %s at %i Hz', (engine, sampleRate) => {
  it('speaks a sentence as audible 20 ms mono frames of plausible length', async () => {
    const local = new LocalTTS({ engine, sampleRate });
    const frames = await collect(local.synthesize('Thank you for calling Acme Dental. How can I help you today?'));
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames.slice(0, -1)) {
      expect(f.sampleRate).toBe(sampleRate);
      expect(f.channels).toBe(1);
      expect(f.samplesPerChannel).toBe(sampleRate / 50);
    }
    const samples = join(frames);
    const seconds = samples.length / sampleRate;
    expect(seconds).toBeGreaterThan(1.5);
    expect(seconds).toBeLessThan(8);
    const level = rmsLevel(samples);
    expect(level).toBeGreaterThan(0.01);
    expect(level).toBeLessThan(0.7);
  });
});

describe('LocalTTS behaviour', () => {
  it('streams sentence by sentence: audio for the first sentence arrives before input ends', async () => {
    const local = new LocalTTS();
    const stream = local.stream();
    stream.pushText('Our office opens at 8 AM. ');
    const iterator = stream[Symbol.asyncIterator]();
    // Flushing marks a sentence boundary without ending input: the adapter must start speaking.
    stream.flush();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    stream.pushText('We close at 6 PM on weekdays.');
    stream.endInput();
    let frames = 1;
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      if (next.value !== Symbol.for('END_OF_STREAM') && typeof next.value === 'object') frames += 1;
    }
    expect(frames).toBeGreaterThan(50);
    stream.close();
  });

  it('kills the engine process when synthesis is aborted', async () => {
    const pids: number[] = [];
    const local = new LocalTTS({ onProcess: (pid) => pids.push(pid) });
    const controller = new AbortController();
    const long = 'This is a long reply. '.repeat(200);
    const stream = local.synthesize(long, undefined, controller.signal);
    const consumed = collect(stream).catch(() => []);
    await new Promise((r) => setTimeout(r, 30));
    controller.abort();
    await consumed;
    expect(pids.length).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(isAlive(pids[0]!)).toBe(false);
  });

  it('yields no audio and no error for empty text', async () => {
    expect(await collect(new LocalTTS().synthesize('   '))).toEqual([]);
  });

  it('names the package to install when the engine is missing', async () => {
    const local = new LocalTTS({ binaryPath: '/nonexistent/flite' });
    await expect(local.render('hello')).rejects.toThrow(APIConnectionError);
    await expect(local.render('hello')).rejects.toThrow(/install the Debian package flite/);
  });
});
