import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioFrame } from '@livekit/rtc-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { deploymentsFileSchema } from '../deployments.js';
import { RECORDING_RATE } from './background-recording.js';
import { keepSessionRecording, keepUnresumedRecording, openingWords, recordHold, recordingPolicy, SESSION_AUDIO_FILE, sessionRecordOption } from './call-recording.js';
import { LocalRecordingStore } from './local-recording-store.js';
import type { RecordingStore } from './recording-store.js';
import { decodeStereo, levels } from './recording-audio.js';
import { recordingPart } from './recording-parts.js';
import { recordedSession, sine48k, toneOn } from '../../test/support/recorded-session.js';

const silentLog = pino({ level: 'silent' });

/** Stereo 16 kHz PCM: a 440 Hz tone on the left for [0, 1) s, on the right for [1.5, 2.5) s. */
function syntheticCall(): Buffer {
  const rate = 16000;
  const frames = rate * 3;
  const pcm = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    const t = i / rate;
    const tone = Math.round(8000 * Math.sin(2 * Math.PI * 440 * t));
    pcm.writeInt16LE(t < 1 ? tone : 0, i * 4);
    pcm.writeInt16LE(t >= 1.5 && t < 2.5 ? tone : 0, i * 4 + 2);
  }
  return pcm;
}

describe('call recording', () => {
  it('opens a recorded call with the consent announcement, and no other call', () => {
    const greeting = 'Thank you for calling.';
    expect(openingWords({ greeting, recording: true, consent: 'This call is recorded.', resumed: false })).toBe('This call is recorded. Thank you for calling.');
    expect(openingWords({ greeting, recording: false, consent: 'This call is recorded.', resumed: false })).toBe(greeting);
    expect(openingWords({ greeting, recording: true, consent: '', resumed: false })).toBe(greeting);
    expect(openingWords({ greeting, recording: true, consent: 'This call is recorded.', resumed: true })).toBe(greeting);
  });

  it("takes the deployment's recording settings over the fleet's", () => {
    const fleet = { VOICEFLEET_RECORDING: 'on', VOICEFLEET_RECORDING_CONSENT: 'Fleet notice.' } as const;
    expect(recordingPolicy(fleet, {})).toEqual({ enabled: true, consent: 'Fleet notice.' });
    expect(recordingPolicy(fleet, { recording: { enabled: false } })).toEqual({ enabled: false, consent: 'Fleet notice.' });
    expect(recordingPolicy({ ...fleet, VOICEFLEET_RECORDING: 'off' }, { recording: { enabled: true, consent: '' } })).toEqual({ enabled: true, consent: '' });
    expect(sessionRecordOption({ enabled: true, consent: '' })).toEqual({ audio: true, traces: false, logs: false, transcript: false });
    expect(sessionRecordOption({ enabled: false, consent: '' })).toBe(false);
    expect(sessionRecordOption({ enabled: true, consent: '' }, { enableRedaction: true })).toMatchObject({ audio: true, transcript: true });
  });

  it('lets a deployment set its own recording and consent, and nothing else under recording', () => {
    const file = JSON.parse(readFileSync('config/deployments.json', 'utf8'));
    const id = file.default as string;
    file.deployments[id].recording = { enabled: true, consent: 'Calls are recorded.' };
    const parsed = deploymentsFileSchema.parse(file);
    expect(recordingPolicy({ VOICEFLEET_RECORDING: 'off', VOICEFLEET_RECORDING_CONSENT: '' }, parsed.deployments[id]!)).toEqual({ enabled: true, consent: 'Calls are recorded.' });
    file.deployments[id].recording = { enabled: true, retention: 5 };
    expect(deploymentsFileSchema.safeParse(file).success).toBe(false);
  });

  it('names the recording key that is wrong', () => {
    expect(loadConfig({}).VOICEFLEET_RECORDING).toBe('off');
    expect(() => loadConfig({ VOICEFLEET_RECORDING: 'yes' })).toThrow(/VOICEFLEET_RECORDING:/);
    expect(() => loadConfig({ VOICEFLEET_RECORDING_RETENTION_DAYS: '0' })).toThrow(/VOICEFLEET_RECORDING_RETENTION_DAYS:/);
    expect(() => loadConfig({ VOICEFLEET_RECORDING_CONSENT: 'x'.repeat(501) })).toThrow(/VOICEFLEET_RECORDING_CONSENT:/);
  });

  it("moves the framework's session recording into the store, and reports a missing one", async () => {
    const sessionDirectory = mkdtempSync(join(tmpdir(), 'voicefleet-session-'));
    const store = new LocalRecordingStore(mkdtempSync(join(tmpdir(), 'voicefleet-recordings-')));
    expect(await keepSessionRecording({ store, callId: 'AJ_none', sessionDirectory, log: silentLog })).toBeUndefined();
    writeFileSync(join(sessionDirectory, SESSION_AUDIO_FILE), 'OggS-not-really');
    const uri = await keepSessionRecording({ store, callId: 'AJ_kept', sessionDirectory, log: silentLog });
    expect(uri).toBe(store.uriFor('AJ_kept', 'audio/ogg'));
    expect(existsSync(join(sessionDirectory, SESSION_AUDIO_FILE))).toBe(false);
    expect((await store.list()).map((r) => [r.callId, r.bytes, r.contentType])).toEqual([['AJ_kept', 15, 'audio/ogg']]);
  });

  it('decodes a stereo Ogg-Opus file into its two channels, each where its sound was', async () => {
    const pcm = await decodeStereo(join(recordedSession(syntheticCall()), SESSION_AUDIO_FILE));
    expect(pcm.channels).toBe(2);
    expect(pcm.left.length / pcm.sampleRate).toBeCloseTo(3, 1);
    const left = levels(pcm.left, pcm.sampleRate, 250);
    const right = levels(pcm.right, pcm.sampleRate, 250);
    // 250 ms windows: left sounds in windows 0-3, right in 6-9; each is quiet where the other sounds.
    for (const w of [1, 2]) expect([left[w]! > 0.1, right[w]! < 0.01]).toEqual([true, true]);
    for (const w of [7, 8]) expect([right[w]! > 0.1, left[w]! < 0.01]).toEqual([true, true]);
    expect(Math.max(left[11]!, right[11]!)).toBeLessThan(0.01);
  });

  it('stores a resumed call as one recording: the dead agent\'s part, the hand-over as silence, then the resumed part', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'voicefleet-recordings-'));
    const store = new LocalRecordingStore(storeDir);
    // The agent that died: 1 s of caller on the left, with 0.5 s of its background (hold phrase)
    // on the right, written beside the recording as 48 kHz mono s16le.
    const dead = recordedSession(toneOn('left', 1));
    const background = Buffer.alloc(48000 * 0.5 * 2);
    for (let i = 0; i < 24000; i++) background.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 330 * i) / 48000)), i * 2);
    writeFileSync(join(dead, 'background.s16le'), background);
    // The agent that took over 3 s after the first began: 1 s of agent on the right.
    const resumed = recordedSession(toneOn('right', 1));
    const startedAt = 1_750_000_000_000;
    const elsewhere = { ...recordingPart('/tmp/livekit-agents/job-on-another-host', startedAt - 5000), host: 'another-host' };
    const warnings: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => warnings.push(String(JSON.parse(line).event)) });

    const uri = await keepSessionRecording({
      store,
      callId: 'AJ_resumed',
      sessionDirectory: resumed,
      startedAt: startedAt + 3000,
      earlier: [elsewhere, recordingPart(dead, startedAt)],
      log,
    });
    expect(uri).toBe(store.uriFor('AJ_resumed', 'audio/ogg'));
    expect(warnings).toEqual(expect.arrayContaining(['recording_part_elsewhere', 'recording_parts_joined', 'recording_saved']));
    const pcm = await decodeStereo(join(storeDir, 'calls', 'AJ_resumed.ogg'));
    expect(pcm.left.length / pcm.sampleRate).toBeCloseTo(4, 1);
    const left = levels(pcm.left, pcm.sampleRate, 250);
    const right = levels(pcm.right, pcm.sampleRate, 250);
    // Windows of 250 ms: the dead agent's caller in 0-3, its background in 0-1, the hand-over
    // (1-3 s) silent on both, the resumed agent in 12-15.
    for (const w of [1, 2]) expect(left[w]).toBeGreaterThan(0.1);
    expect(right[0]).toBeGreaterThan(0.1);
    for (const w of [5, 6, 8, 10]) expect(Math.max(left[w]!, right[w]!)).toBeLessThan(0.01);
    for (const w of [13, 14]) expect([right[w]! > 0.1, left[w]! < 0.01]).toEqual([true, true]);
    // The dead agent's files are gone now that the store has them.
    expect(existsSync(dead)).toBe(false);
  });

  it('stores the parts of a call no agent took up again as its recording, and leaves them when the store refuses', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'voicefleet-recordings-'));
    const store = new LocalRecordingStore(storeDir);
    const startedAt = 1_750_000_000_000;
    const first = recordedSession(toneOn('left', 1));
    const second = recordedSession(toneOn('right', 1));
    const parts = [recordingPart(second, startedAt + 2000), recordingPart(first, startedAt)];

    const refusing = { kind: 'refusing', save: () => Promise.reject(new Error('disk full')) } as unknown as RecordingStore;
    expect(await keepUnresumedRecording({ store: refusing, callId: 'AJ_lost', parts, log: silentLog })).toBeUndefined();
    expect([existsSync(first), existsSync(second)]).toEqual([true, true]);

    const uri = await keepUnresumedRecording({ store, callId: 'AJ_lost', parts, log: silentLog });
    expect(uri).toBe(store.uriFor('AJ_lost', 'audio/ogg'));
    const pcm = await decodeStereo(join(storeDir, 'calls', 'AJ_lost.ogg'));
    expect(pcm.left.length / pcm.sampleRate).toBeCloseTo(3, 1);
    const left = levels(pcm.left, pcm.sampleRate, 250);
    const right = levels(pcm.right, pcm.sampleRate, 250);
    // 250 ms windows: the first agent's caller in 0-3, the gap (1-2 s) silent, the second agent's audio in 8-11.
    for (const w of [1, 2]) expect(left[w]).toBeGreaterThan(0.1);
    for (const w of [5, 6]) expect(Math.max(left[w]!, right[w]!)).toBeLessThan(0.01);
    for (const w of [9, 10]) expect([right[w]! > 0.1, left[w]! < 0.01]).toEqual([true, true]);
    expect([existsSync(first), existsSync(second)]).toEqual([false, false]);
    // Nothing of this call is left to keep: nothing stored, nothing thrown.
    expect(await keepUnresumedRecording({ store, callId: 'AJ_lost2', parts, log: silentLog })).toBeUndefined();
  });
  it('keeps what a held caller heard ahead of the session, on the agent channel, with the wait after it as silence', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'voicefleet-recordings-'));
    const store = new LocalRecordingStore(storeDir);
    // The session: 1 s of the caller on the left, recorded from 3 s after the caller was held.
    const session = recordedSession(toneOn('left', 1));
    const heldAt = 1_750_000_000_000;
    // On hold: 1 s of music (10 frames of 100 ms), as the background track played it.
    const hold = recordHold(join(session, 'not-made-yet'), heldAt);
    for (let i = 0; i < 10; i++) hold.capture(new AudioFrame(sine48k(0.1, 330), RECORDING_RATE, 1, 4800), heldAt + i * 100);
    const events: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => events.push(String(JSON.parse(line).event)) });

    const uri = await keepSessionRecording({ store, callId: 'AJ_held', sessionDirectory: session, startedAt: heldAt + 3000, hold, log });
    expect(uri).toBe(store.uriFor('AJ_held', 'audio/ogg'));
    expect(events).toEqual(expect.arrayContaining(['recording_parts_joined', 'recording_saved']));
    const pcm = await decodeStereo(join(storeDir, 'calls', 'AJ_held.ogg'));
    expect(pcm.left.length / pcm.sampleRate).toBeCloseTo(4, 1);
    const left = levels(pcm.left, pcm.sampleRate, 250);
    const right = levels(pcm.right, pcm.sampleRate, 250);
    // 250 ms windows: the hold music on the right only in 0-3, nothing in the wait (4-11), the caller on the left in 12-15.
    for (const w of [1, 2]) expect([right[w]! > 0.1, left[w]! < 0.01]).toEqual([true, true]);
    for (const w of [5, 7, 10]) expect(Math.max(left[w]!, right[w]!)).toBeLessThan(0.01);
    for (const w of [13, 14]) expect([left[w]! > 0.1, right[w]! < 0.01]).toEqual([true, true]);
    expect(existsSync(hold.path)).toBe(false);
  });

  it("keeps the hold of an agent that died before the call was taken up again", async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'voicefleet-recordings-'));
    const store = new LocalRecordingStore(storeDir);
    const heldAt = 1_750_000_000_000;
    // The dead agent held the caller for 1 s of music, its session began 2 s after the hold and recorded 1 s of agent.
    const dead = recordedSession(toneOn('right', 1));
    const hold = recordHold(dead, heldAt);
    for (let i = 0; i < 10; i++) hold.capture(new AudioFrame(sine48k(0.1, 330), RECORDING_RATE, 1, 4800), heldAt + i * 100);
    await hold.close();
    // A part whose hold file is gone is stored without it.
    const other = recordedSession(toneOn('left', 1));

    const uri = await keepUnresumedRecording({ store, callId: 'AJ_held_dead', parts: [recordingPart(dead, heldAt + 2000, heldAt), recordingPart(other, heldAt + 4000, heldAt + 3500)], log: silentLog });
    expect(uri).toBe(store.uriFor('AJ_held_dead', 'audio/ogg'));
    const pcm = await decodeStereo(join(storeDir, 'calls', 'AJ_held_dead.ogg'));
    expect(pcm.right.length / pcm.sampleRate).toBeCloseTo(5, 1);
    const left = levels(pcm.left, pcm.sampleRate, 250);
    const right = levels(pcm.right, pcm.sampleRate, 250);
    // The hold in 0-3, silence in 4-7, the dead agent's part in 8-11, silence, the other part's caller in 16-19.
    for (const w of [1, 2, 9, 10]) expect([right[w]! > 0.1, left[w]! < 0.01]).toEqual([true, true]);
    for (const w of [5, 6, 13]) expect(Math.max(left[w]!, right[w]!)).toBeLessThan(0.01);
    for (const w of [17, 18]) expect(left[w]).toBeGreaterThan(0.1);
    expect([existsSync(dead), existsSync(other)]).toEqual([false, false]);
  });
});

