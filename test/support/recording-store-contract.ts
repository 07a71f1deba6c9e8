import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { expect, it } from 'vitest';
import { InvalidCallIdError, RangeNotSatisfiableError, type RecordingStore } from '../../worker/recording/recording-store.js';

/** What every recording store does alike, whatever it stores in: run inside its describe(). */
export function recordingStoreContract(make: () => RecordingStore): void {
  it('serves byte ranges for playback, clamped to the recording, and refuses ranges outside it', async () => {
    const s = make();
    await s.save('call_3', Readable.from([Buffer.from('0123456789')]), { contentType: 'audio/wav' });
    const whole = (await s.open('call_3'))!;
    expect({ total: whole.totalBytes, start: whole.start, end: whole.end, type: whole.contentType }).toEqual({ total: 10, start: 0, end: 9, type: 'audio/wav' });
    expect(await text(whole.stream)).toBe('0123456789');
    expect(await text((await s.open('call_3', { start: 2, end: 4 }))!.stream)).toBe('234');
    const tail = (await s.open('call_3', { start: 7, end: 100 }))!;
    expect([tail.end, await text(tail.stream)]).toEqual([9, '789']);
    await expect(s.open('call_3', { start: 10 })).rejects.toBeInstanceOf(RangeNotSatisfiableError);
    expect(await s.open('no_such_call')).toBeUndefined();
  });

  it('refuses call ids that are not plain ids (no path or key tricks)', async () => {
    const s = make();
    await expect(s.save('../escape', Readable.from([Buffer.from('x')]), { contentType: 'audio/ogg' })).rejects.toBeInstanceOf(InvalidCallIdError);
    await expect(s.open('a/b')).rejects.toBeInstanceOf(InvalidCallIdError);
    await expect(s.delete('')).rejects.toBeInstanceOf(InvalidCallIdError);
  });
}
