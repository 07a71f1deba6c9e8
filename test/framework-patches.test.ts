/**
 * The fixes in patches/ that the framework does not ship yet. Each test fails on the unpatched
 * package, so an upgrade that drops a patch shows here before it shows as a leak in production.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { initializeLogger, readStream, voice } from '@livekit/agents';
import { AudioFrame, Room } from '@livekit/rtc-node';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeStereo } from '../worker/recording/recording-audio.js';
import { Caller } from '../worker/testing/caller.js';
import { mintParticipantToken } from '../worker/tokens.js';
import { startTestStack } from './support/servers.js';
import { describe, expect, it } from 'vitest';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A stream of `count` chunks whose first `tracked` are watched for collection. */
function chunkStream(count: number, tracked: number, refs: WeakRef<object>[]): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === count) return controller.close();
      const chunk = new Uint8Array(960);
      if (sent < tracked) refs.push(new WeakRef(chunk));
      sent++;
      controller.enqueue(chunk);
    },
  });
}

async function settleAndCollect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

describe('readStream (agents-js #2046)', () => {
  it('lets go of each chunk once the loop has moved past it, while its signal is still live', async () => {
    // The STT input pump reads a call's audio through readStream for the whole call, with a
    // signal that aborts only at the end: every frame it retained was memory held until hang-up.
    const refs: WeakRef<object>[] = [];
    const live = new AbortController();
    let read = 0;
    for await (const chunk of readStream(chunkStream(3000, 100, refs), live.signal)) {
      read += chunk.length > 0 ? 1 : 0;
      if (read === 2000) break;
    }
    await settleAndCollect();
    expect(read).toBe(2000);
    expect(live.signal.aborted).toBe(false);
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });

  it('still ends at once when its signal aborts with a read pending', async () => {
    const controller = new AbortController();
    const never = new ReadableStream<number>({ pull: () => new Promise(() => undefined) });
    const seen: number[] = [];
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    for await (const value of readStream(never, controller.signal)) seen.push(value);
    expect(seen).toEqual([]);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('yields every chunk in order and stops at the end of the stream', async () => {
    const values: number[] = [];
    const source = new ReadableStream<number>({
      start(controller) {
        for (let i = 0; i < 50; i++) controller.enqueue(i);
        controller.close();
      },
    });
    for await (const value of readStream(source, new AbortController().signal)) values.push(value);
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

/** The ffmpeg this process spawned to write `output`, found by parent and argument, not by name. */
function encoderWriting(output: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(output)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe('session recorder: the file is written as the call goes, not at its end', () => {
  it('leaves a playable recording when its encoder dies with the job (kill -9 of the process group)', async () => {
    initializeLogger({ pretty: false, level: 'silent' });
    // Not exported by the package: the file itself, which is the same module the session loads.
    const { RecorderIO } = (await import(pathToFileURL(join(process.cwd(), 'node_modules/@livekit/agents/dist/voice/recorder_io/recorder_io.js')).href)) as {
      RecorderIO: new (opts: { agentSession: object }) => {
        recordInput(input: voice.AudioInput): voice.AudioInput;
        recordOutput(output: voice.AudioOutput): voice.AudioOutput;
        start(path: string): Promise<void>;
      };
    };
    let caller!: ReadableStreamDefaultController<AudioFrame>;
    class CallerInput extends voice.AudioInput {
      constructor() {
        super();
        this.multiStream.addInputStream(new ReadableStream<AudioFrame>({ start: (c) => void (caller = c) }));
      }
    }
    class Speaker extends voice.AudioOutput {
      constructor() {
        super(48000);
      }
      clearBuffer(): void {}
    }
    const output = join(mkdtempSync(join(tmpdir(), 'voicefleet-recorder-')), 'audio.ogg');
    const recorder = new RecorderIO({ agentSession: {} });
    const input = recorder.recordInput(new CallerInput());
    recorder.recordOutput(new Speaker());
    await recorder.start(output);
    // The session reads the caller's audio; the recorder keeps what passes.
    const reader = input.stream.getReader();
    const consumed = (async () => {
      while (!(await reader.read()).done);
    })();
    const rate = 48000;
    // ffmpeg opens its output once it has analysed 5 s of input; 8 s of call, then the kill.
    for (let i = 0; i < 80; i++) {
      const samples = new Int16Array(rate / 10);
      for (let s = 0; s < samples.length; s++) samples[s] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (i * samples.length + s)) / rate));
      caller.enqueue(new AudioFrame(samples, rate, 1, samples.length));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 600));
    const encoder = encoderWriting(output);
    expect(encoder).toBeDefined();
    process.kill(encoder!, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Unpatched, ffmpeg holds the Ogg pages in its output buffer: nothing on disk after 8 s of call.
    const pcm = await decodeStereo(output);
    expect(pcm.left.length / pcm.sampleRate).toBeGreaterThan(4);
    // The recorder is left as the dead job left it; the reader stops here.
    void reader.cancel().catch(() => undefined);
    void consumed.catch(() => undefined);
  }, 30_000);
});

describe("the caller's audio in frames of the length the session asks for (RoomIO audioFrameSizeMs)", () => {
  it('delivers one Silero window (512 samples at 16 kHz) per frame when asked for 32 ms, through a real livekit-server', async () => {
    const stack = await startTestStack();
    const caller = await Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName: 'nobody-answers' });
    const listener = new Room();
    try {
      const token = await mintParticipantToken({ apiKey: stack.apiKey, apiSecret: stack.apiSecret, identity: 'listener', room: caller.roomName, agentName: 'nobody-answers' });
      await listener.connect(stack.livekitUrl, token, { autoSubscribe: true, dynacast: false });
      const { ParticipantAudioInputStream } = (await import(pathToFileURL(join(process.cwd(), 'node_modules/@livekit/agents/dist/voice/room_io/_input.js')).href)) as {
        ParticipantAudioInputStream: new (opts: { room: Room; sampleRate: number; numChannels: number; frameSizeMs?: number }) => {
          setParticipant(identity: string): void;
          stream: ReadableStream<AudioFrame>;
          close(): Promise<void>;
        };
      };
      const input = new ParticipantAudioInputStream({ room: listener, sampleRate: 16000, numChannels: 1, frameSizeMs: 32 });
      // The caller's microphone sends 20 ms frames at 48 kHz, silence between words.
      input.setParticipant([...listener.remoteParticipants.keys()].find((id) => id.startsWith('caller-'))!);
      const reader = input.stream.getReader();
      const frames: AudioFrame[] = [];
      const deadline = Date.now() + 20_000;
      while (frames.length < 10 && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        frames.push(value);
      }
      reader.releaseLock();
      await input.close();
      expect(frames.map((f) => [f.sampleRate, f.samplesPerChannel])).toEqual(Array.from({ length: 10 }, () => [16000, 512]));
    } finally {
      await listener.disconnect();
      await caller.hangUp();
      await stack.stop();
    }
  }, 90_000);
});
