import { initializeLogger, tts } from '@livekit/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow } from '../../agents/workflows.js';
import { OpenAICompatibleServer, SPEECH_TONE_MS } from '../../test/support/openai-compatible-server.js';
import { loadConfig } from '../config.js';
import { LocalTTS } from './local/local-tts.js';
import { buildTTSFallback } from './session-providers.js';

initializeLogger({ pretty: false, level: 'error' });

// Two sentences, as most replies are: a stalled cloud must cost its deadline once, not per sentence.
const SENTENCE = 'We are open Monday to Friday from 8 AM to 6 PM. Is there anything else I can help you with?';

/**
 * The real OpenAI TTS plugin against a local endpoint, with the local TTS behind it in the
 * framework's FallbackAdapter, driven the way a session drives it (a stream fed sentence text).
 * Whatever the cloud does, the caller hears the sentence within 2 s, and no error reaches the
 * session as unrecoverable (the session hangs up after a few of those).
 */
describe('OpenAI TTS with the local TTS as fallback', () => {
  let stub: OpenAICompatibleServer;

  beforeAll(async () => {
    stub = await OpenAICompatibleServer.start(createWorkflow('receptionist'));
  });
  afterAll(async () => {
    await stub.close();
  });

  async function speak(provider: tts.TTS): Promise<{ firstAudioMs: number; audioMs: number }> {
    const started = performance.now();
    const stream = provider.stream();
    stream.pushText(SENTENCE);
    stream.flush();
    stream.endInput();
    let firstAudioMs = -1;
    let samples = 0;
    let rate = 0;
    for await (const event of stream) {
      if (event === tts.SynthesizeStream.END_OF_STREAM) break;
      if (firstAudioMs < 0) firstAudioMs = performance.now() - started;
      samples += event.frame.samplesPerChannel;
      rate = event.frame.sampleRate;
    }
    return { firstAudioMs, audioMs: (samples / rate) * 1000 };
  }

  function build() {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-local-test', OPENAI_BASE_URL: stub.baseURL });
    const provider = buildTTSFallback(config, new LocalTTS({ engine: 'flite', sampleRate: 16_000 }));
    const unrecoverable: unknown[] = [];
    provider.on('error', (error) => {
      if (!error.recoverable) unrecoverable.push(error);
    });
    return { provider, unrecoverable, timeoutMs: config.VOICEFLEET_TTS_ATTEMPT_TIMEOUT_MS };
  }

  it('speaks with the cloud voice while the endpoint is healthy', async () => {
    stub.speechMode = 'tone';
    const before = stub.speechRequests;
    const { provider, unrecoverable } = build();
    const { audioMs } = await speak(provider);
    // One request per sentence, each answered with the stub's tone.
    expect(stub.speechRequests).toBe(before + 2);
    expect(audioMs).toBeCloseTo(2 * SPEECH_TONE_MS, -1);
    expect(unrecoverable).toEqual([]);
    await provider.close();
  });

  it.each(['error500', 'stallBeforeHeaders', 'stallMidBody'] as const)(
    'speaks the sentence with the local voice within 2 s when the cloud answers with %s',
    async (mode) => {
      stub.speechMode = mode;
      const before = stub.speechRequests;
      const { provider, unrecoverable, timeoutMs } = build();
      const { firstAudioMs, audioMs } = await speak(provider);
      expect(stub.speechRequests).toBeGreaterThan(before);
      // The local voice reads both sentences: far longer than the cloud's tones.
      expect(audioMs).toBeGreaterThan(SPEECH_TONE_MS * 4);
      expect(firstAudioMs).toBeLessThan(2000);
      if (mode !== 'error500') expect(firstAudioMs).toBeGreaterThanOrEqual(timeoutMs - 50);
      // The adapter keeps probing the dead provider in the background; none of it may count
      // towards closing the session.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(unrecoverable).toEqual([]);
      // The next sentence goes straight to the local voice while the cloud is marked down.
      const next = await speak(provider);
      expect(next.firstAudioMs).toBeLessThan(1000);
      await provider.close();
    },
    20_000,
  );
});
