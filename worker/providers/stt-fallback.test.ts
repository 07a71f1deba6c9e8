import { initializeLogger, stt, VADEventType } from '@livekit/agents';
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
import { DeepgramCompatibleServer } from '../../test/support/deepgram-compatible-server.js';
import { CallerSpeech } from './stall-guard-stt.js';

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
    const { stt: provider } = buildSessionProviders({ config, vad, recognizer, narrowband: false, callerSpeech: new CallerSpeech() });
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

describe('Deepgram STT failing in the middle of a call', () => {
  let recognizer: PocketsphinxSTT;
  let deepgram: DeepgramCompatibleServer;
  let dir: string;
  const speech: Record<string, AudioFrame[]> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-stt-outage-'));
    for (const [name, line] of Object.entries({ hours: 'what are your opening hours', located: 'where are you located' })) {
      execFileSync('flite', ['-voice', 'slt', '-t', line, '-o', join(dir, `${name}.raw.wav`)]);
      execFileSync('sox', ['-D', join(dir, `${name}.raw.wav`), '-r', '16000', '-c', '1', '-b', '16', join(dir, `${name}.wav`)]);
      const { samples, sampleRate } = parseWav(readFileSync(join(dir, `${name}.wav`)));
      speech[name] = frames(samples, sampleRate);
    }
    deepgram = await DeepgramCompatibleServer.start();
    deepgram.phrases = ['what are your opening hours (from deepgram)', 'where are you located (from deepgram)'];
    recognizer = new PocketsphinxSTT({ corpus: CALLER_CORPUS });
    await recognizer.warm();
  }, 60_000);

  afterAll(async () => {
    await recognizer?.close();
    await deepgram?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hears the utterance the cut stream lost, and the next one, through the local recognizer', async () => {
    const config = loadConfig({ DEEPGRAM_API_KEY: 'dg-local-test', DEEPGRAM_BASE_URL: deepgram.baseUrl, VOICEFLEET_STT_FINAL_TIMEOUT_MS: '1500' });
    const vad = await silero.VAD.load();
    const callerSpeech = new CallerSpeech();
    const { stt: provider } = buildSessionProviders({ config, vad, recognizer, narrowband: false, callerSpeech });
    const stream = provider.stream();
    // The session's VAD, as the job feeds it to the guard.
    const vadStream = vad.stream();
    const hearing = (async () => {
      for await (const event of vadStream) {
        if (event.type === VADEventType.START_OF_SPEECH) callerSpeech.set(true);
        if (event.type === VADEventType.END_OF_SPEECH) callerSpeech.set(false);
      }
    })();
    const finals: { text: string; at: number }[] = [];
    const listening = (async () => {
      for await (const event of stream) {
        const text = event.alternatives?.[0]?.text;
        if (event.type === stt.SpeechEventType.FINAL_TRANSCRIPT && text) finals.push({ text, at: performance.now() });
      }
    })();
    const play = async (audio: AudioFrame[]) => {
      for (const frame of audio) {
        stream.pushFrame(frame);
        vadStream.pushFrame(frame);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    // A healthy provider is not taken for a dead one: its finals come before the VAD's end of
    // speech, and the pause after each is longer than the guard's deadline.
    await play([...silence(0.5), ...speech.hours!, ...silence(2.5), ...speech.located!, ...silence(2.5)]);
    expect(finals.map((f) => f.text)).toEqual(['what are your opening hours (from deepgram)', 'where are you located (from deepgram)']);
    expect(deepgram.connections).toBe(1);

    // The stream is cut without a word: the plugin never notices, and nothing tells the caller.
    deepgram.goDown();
    const cutAt = performance.now();
    await play([...silence(0.3), ...speech.located!, ...silence(4)]);
    const lost = finals.slice(2);
    expect(lost.map((f) => f.text).join(' ')).toContain('located');
    // Generous bound: the audio alone lasts about 6 s.
    expect(lost[0]!.at - cutAt).toBeLessThan(15_000);

    // Then the local recognizer serves the call.
    const heard = finals.length;
    await play([...speech.hours!, ...silence(2)]);
    expect(finals.slice(heard).map((f) => f.text).join(' ')).toContain('hours');
    expect(deepgram.refused).toBeGreaterThan(0);
    void listening;
    void hearing;
    void stream;
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
