import { initializeLogger, stt } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { AudioFrame } from '@livekit/rtc-node';
import { isAlive } from '../../../test/support/process-tree.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalTTS } from './local-tts.js';
import { PocketsphinxSTT } from './pocketsphinx-stt.js';
import { RECEPTIONIST_CORPUS } from './receptionist-corpus.js';

initializeLogger({ pretty: false, level: 'warn' });

const PHRASES = [
  "I'd like to book an appointment",
  'what are your opening hours',
  'can I talk to a person',
  'where are you located',
  'how much does a cleaning cost',
  'tuesday please',
  'no that is all thank you goodbye',
];

function words(text: string): string[] {
  return text.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean);
}

/** Word error rate: word-level edit distance over the reference length. */
function wordErrorRate(reference: string, hypothesis: string): number {
  const r = words(reference);
  const h = words(hypothesis);
  const d = Array.from({ length: r.length + 1 }, (_, i) => [i, ...Array<number>(h.length).fill(0)]);
  for (let j = 1; j <= h.length; j++) d[0]![j] = j;
  for (let i = 1; i <= r.length; i++) {
    for (let j = 1; j <= h.length; j++) {
      const cost = r[i - 1] === h[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
    }
  }
  return d[r.length]![h.length]! / r.length;
}

async function speak(text: string, sampleRate: number): Promise<AudioFrame[]> {
  const frames: AudioFrame[] = [];
  for await (const audio of new LocalTTS({ sampleRate }).synthesize(text)) frames.push(audio.frame);
  return frames;
}


describe('PocketsphinxSTT', () => {
  let recognizer: PocketsphinxSTT;

  beforeAll(async () => {
    recognizer = new PocketsphinxSTT({ corpus: RECEPTIONIST_CORPUS });
    await recognizer.warm();
  });
  afterAll(async () => {
    await recognizer.close();
  });

  it.each([16000, 8000])('recognizes receptionist phrases spoken at %i Hz', async (rate) => {
    let errors = 0;
    let total = 0;
    const heard: string[] = [];
    for (const phrase of PHRASES) {
      const event = await recognizer.recognize(await speak(phrase, rate));
      expect(event.type).toBe(stt.SpeechEventType.FINAL_TRANSCRIPT);
      const text = event.alternatives![0].text;
      heard.push(text);
      errors += wordErrorRate(phrase, text) * words(phrase).length;
      total += words(phrase).length;
    }
    const wer = errors / total;
    console.info(`WER at ${rate} Hz: ${(wer * 100).toFixed(1)}%`, heard);
    expect(wer).toBeLessThanOrEqual(0.2);
    // The words the receptionist's intents hinge on must come through.
    expect(heard[1]).toContain('hours');
    expect(heard[2]).toContain('person');
    expect(heard[0]).toContain('appointment');
  });

  it('returns text without throwing for silence and white noise', async () => {
    const silence = new AudioFrame(new Int16Array(16000), 16000, 1, 16000);
    const noise = new Int16Array(16000).map(() => Math.round((Math.random() - 0.5) * 20000));
    const silent = await recognizer.recognize(silence);
    expect(silent.alternatives![0].text).toBe('');
    const noisy = await recognizer.recognize(new AudioFrame(noise, 16000, 1, 16000));
    expect(typeof noisy.alternatives![0].text).toBe('string');
    expect(noisy.alternatives![0].confidence).toBeLessThan(1);
  });

  it('restarts a decoder that died, and close() ends its process', async () => {
    const own = new PocketsphinxSTT({ corpus: RECEPTIONIST_CORPUS });
    await own.warm();
    const first = own.decoderPid!;
    process.kill(first, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    const event = await own.recognize(await speak('what are your opening hours', 16000));
    expect(event.alternatives![0].text).toContain('hours');
    const second = own.decoderPid!;
    expect(second).not.toBe(first);
    await own.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(second)).toBe(false);
  });

  it('fails with a connection error a fallback adapter can act on when python is missing', async () => {
    const broken = new PocketsphinxSTT({ python: '/nonexistent/python3' });
    await expect(broken.recognize(await speak('hello', 16000))).rejects.toThrow(/pocketsphinx decoder/);
    await broken.close();
  });

  it('transcribes a caller through the framework StreamAdapter with Silero VAD', async () => {
    const vad = await silero.VAD.load();
    const adapter = new stt.StreamAdapter(recognizer, vad);
    const stream = adapter.stream();
    const speech = await speak('where are you located', 16000);
    const silence = Array.from({ length: 60 }, () => new AudioFrame(new Int16Array(320), 16000, 1, 320));
    for (const frame of [...silence.slice(0, 10), ...speech, ...silence]) stream.pushFrame(frame);
    let final = '';
    for await (const event of stream) {
      if (event.type === stt.SpeechEventType.FINAL_TRANSCRIPT) {
        final = event.alternatives![0].text;
        break;
      }
    }
    stream.close();
    expect(final).toContain('located');
  });
});
