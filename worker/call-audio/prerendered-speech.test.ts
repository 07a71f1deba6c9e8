import { initializeLogger } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow } from '../../agents/workflows.js';
import { OpenAICompatibleServer, SPEECH_TONE_MS } from '../../test/support/openai-compatible-server.js';
import { loadConfig } from '../config.js';
import { LocalTTS } from '../providers/local/local-tts.js';
import { buildTTSFallback } from '../providers/session-providers.js';
import { PrerenderedSpeech } from './prerendered-speech.js';

initializeLogger({ pretty: false, level: 'error' });

const GREETING = 'Thanks for calling Main Street Dental. How can I help you today?';

async function play(stream: ReadableStream<AudioFrame>): Promise<{ frames: number; audioMs: number; rate: number }> {
  let frames = 0;
  let samples = 0;
  let rate = 0;
  for await (const frame of stream) {
    frames += 1;
    samples += frame.samplesPerChannel;
    rate = frame.sampleRate;
  }
  return { frames, audioMs: (samples / rate) * 1000, rate };
}

describe('PrerenderedSpeech', () => {
  let stub: OpenAICompatibleServer;

  beforeAll(async () => {
    stub = await OpenAICompatibleServer.start(createWorkflow('receptionist'));
  });
  afterAll(async () => {
    await stub.close();
  });

  it('plays the whole text, at the voice rate, as made by the local TTS', async () => {
    const voice = new LocalTTS({ engine: 'flite', sampleRate: 16_000 });
    const speech = PrerenderedSpeech.start(voice, GREETING);
    const audio = await speech.audio();
    expect(audio).toBeDefined();
    const played = await play(audio!);
    expect(played.rate).toBe(16_000);
    // Two sentences of about a dozen words: seconds of speech, not a fragment.
    expect(played.audioMs).toBeGreaterThan(2500);
    expect(played.audioMs).toBeLessThan(15_000);
  });

  it('is made sentence by sentence through the fallback chain, so the cloud voice says each sentence', async () => {
    stub.speechMode = 'tone';
    const before = stub.speechRequests;
    const config = loadConfig({ OPENAI_API_KEY: 'sk-local-test', OPENAI_BASE_URL: stub.baseURL });
    const voice = buildTTSFallback(config, new LocalTTS({ engine: 'flite', sampleRate: 16_000 }));
    const played = await play((await PrerenderedSpeech.start(voice, GREETING).audio())!);
    expect(stub.speechRequests - before).toBe(2);
    // The stub answers each request with a tone of fixed length: two of them, not flite's voice.
    expect(Math.abs(played.audioMs - 2 * SPEECH_TONE_MS)).toBeLessThan(100);
  });

  it('falls back to the cloud chain\'s local voice when the cloud fails before its first audio', async () => {
    stub.speechMode = 'error500';
    const config = loadConfig({ OPENAI_API_KEY: 'sk-local-test', OPENAI_BASE_URL: stub.baseURL });
    const voice = buildTTSFallback(config, new LocalTTS({ engine: 'flite', sampleRate: 16_000 }));
    const played = await play((await PrerenderedSpeech.start(voice, GREETING).audio())!);
    expect(played.audioMs).toBeGreaterThan(2500);
    stub.speechMode = 'tone';
  });

  it('offers no audio when every provider of the chain fails, and leaves no listener behind', async () => {
    stub.speechMode = 'error500';
    const config = loadConfig({ OPENAI_API_KEY: 'sk-local-test', OPENAI_BASE_URL: stub.baseURL });
    const voice = buildTTSFallback(config, new LocalTTS({ engine: 'flite', binaryPath: '/nonexistent/flite' }));
    const before = stub.speechRequests;
    // The framework leaves a failed request task's rejection unhandled (the job process logs
    // those), so the test takes them here.
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const speech = PrerenderedSpeech.start(voice, GREETING);
      expect(await speech.audio()).toBeUndefined();
    } finally {
      await new Promise((resolve) => setTimeout(resolve, 50));
      process.off('unhandledRejection', onRejection);
      stub.speechMode = 'tone';
    }
    expect(stub.speechRequests - before).toBeGreaterThan(0);
    expect(voice.listenerCount('error')).toBe(0);
  });

  it('stops synthesis when the greeting is cut off after its first audio', async () => {
    const voice = new LocalTTS({ engine: 'flite', sampleRate: 16_000 });
    const long = Array.from({ length: 8 }, (_, i) => `This is sentence number ${i + 1} of a long greeting.`).join(' ');
    const speech = PrerenderedSpeech.start(voice, long);
    const audio = (await speech.audio())!;
    const reader = audio.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    const whole = await play((await PrerenderedSpeech.start(voice, long).audio())!);
    expect(whole.audioMs).toBeGreaterThan(8 * 1500);
    // A cancelled speech offers nothing more: a second playing ends at once.
    const again = await speech.audio();
    const rest = again ? await play(again) : { frames: 0 };
    expect(rest.frames).toBeLessThan(whole.frames);
  });
});
