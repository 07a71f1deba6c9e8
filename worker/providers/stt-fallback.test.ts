import { initializeLogger, stt } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { AudioFrame } from '@livekit/rtc-node';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { CALLER_CORPUS } from './local/caller-corpus.js';
import { PocketsphinxSTT } from './local/pocketsphinx-stt.js';
import { parseWav } from './local/wav.js';
import { buildSessionProviders } from './session-providers.js';

initializeLogger({ pretty: false, level: 'error' });

/**
 * The real Deepgram plugin against a local endpoint that refuses it, with the local recognizer
 * behind it in the framework's STT FallbackAdapter, fed the way a session feeds it: the caller
 * is still understood, and the stream does not end.
 */
describe('Deepgram STT with the local recognizer as fallback', () => {
  let dir: string;
  let deepgram: Server;
  let upgrades = 0;
  let recognizer: PocketsphinxSTT;
  let speech: AudioFrame[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-stt-fallback-'));
    execFileSync('flite', ['-voice', 'slt', '-t', 'what are your opening hours', '-o', join(dir, 'raw.wav')]);
    execFileSync('sox', ['-D', join(dir, 'raw.wav'), '-r', '16000', '-c', '1', '-b', '16', join(dir, 'speech.wav')]);
    const { samples, sampleRate } = parseWav(readFileSync(join(dir, 'speech.wav')));
    speech = frames(samples, sampleRate);
    // Deepgram that is down: every WebSocket upgrade is answered 503.
    deepgram = createServer((_, res) => res.writeHead(503).end());
    deepgram.on('upgrade', (_req, socket) => {
      upgrades += 1;
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve) => deepgram.listen(0, '127.0.0.1', resolve));
    recognizer = new PocketsphinxSTT({ corpus: CALLER_CORPUS });
    await recognizer.warm();
  }, 60_000);

  afterAll(async () => {
    await recognizer?.close();
    await new Promise<void>((resolve) => deepgram.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('transcribes the caller with the local recognizer when Deepgram refuses the connection', async () => {
    const config = loadConfig({
      DEEPGRAM_API_KEY: 'dg-local-test',
      DEEPGRAM_BASE_URL: `ws://127.0.0.1:${(deepgram.address() as AddressInfo).port}`,
      VOICEFLEET_STT_ATTEMPT_TIMEOUT_MS: '2000',
    });
    const vad = await silero.VAD.load();
    const { stt: provider } = buildSessionProviders({ config, vad, recognizer, narrowband: false });
    expect(provider).toBeInstanceOf(stt.FallbackAdapter);
    const stream = provider.stream();
    const started = performance.now();
    const feed = (async () => {
      // Real-time pacing, as a call delivers audio.
      for (const frame of [...silence(0.5), ...speech, ...silence(2)]) {
        stream.pushFrame(frame);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    let final: stt.SpeechEvent | undefined;
    for await (const event of stream) {
      if (event.type === stt.SpeechEventType.FINAL_TRANSCRIPT && event.alternatives?.[0]?.text) {
        final = event;
        break;
      }
    }
    const heardAfterMs = performance.now() - started;
    await feed;
    // Not closed: in @livekit/agents 1.9.0, closing (or ending the input of) a FallbackAdapter
    // stream whose local child has already produced a segment rejects a promise nobody holds
    // ("WritableStream is closed"). Job processes log that at debug level; here it would be
    // reported as a crash of this test file. The stream is dropped with the test's objects.
    void stream;
    expect(upgrades).toBeGreaterThan(0);
    expect(final?.alternatives?.[0]?.text).toContain('hours');
    // Generous bound: the audio alone lasts about 4 s.
    expect(heardAfterMs).toBeLessThan(15_000);
  }, 60_000);
});

function frames(samples: Int16Array, sampleRate: number): AudioFrame[] {
  const size = sampleRate / 100;
  const out: AudioFrame[] = [];
  for (let i = 0; i + size <= samples.length; i += size) out.push(new AudioFrame(samples.slice(i, i + size), sampleRate, 1, size));
  return out;
}

function silence(seconds: number): AudioFrame[] {
  return frames(new Int16Array(16000 * seconds), 16000);
}
