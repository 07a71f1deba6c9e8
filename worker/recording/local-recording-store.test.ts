import { existsSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { recordingStoreContract } from '../../test/support/recording-store-contract.js';
import { LocalRecordingStore } from './local-recording-store.js';

const store = () => {
  const dir = mkdtempSync(join(tmpdir(), 'voicefleet-recordings-'));
  return { dir, calls: join(dir, 'calls'), store: new LocalRecordingStore(dir) };
};

describe('LocalRecordingStore', () => {
  it('shows a recording only once it is complete, under calls/<callId>', async () => {
    const { calls, store: s } = store();
    const body = new PassThrough();
    const saving = s.save('call_1', body, { contentType: 'audio/ogg' });
    body.write('first half ');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Half written: only the temporary name exists, and readers find nothing.
    expect(existsSync(join(calls, 'call_1.ogg'))).toBe(false);
    expect(readdirSync(calls).some((n) => n.endsWith('.partial'))).toBe(true);
    expect(await s.open('call_1')).toBeUndefined();
    body.end('second half');
    const saved = await saving;
    expect(saved).toEqual({ callId: 'call_1', uri: `file://${join(calls, 'call_1.ogg')}`, bytes: 22 });
    expect(readFileSync(join(calls, 'call_1.ogg'), 'utf8')).toBe('first half second half');
    expect(readdirSync(calls)).toEqual(['call_1.ogg']);
  });

  it('keeps the old recording and no temporary file when a save fails midway', async () => {
    const { calls, store: s } = store();
    await s.save('call_2', Readable.from([Buffer.from('old')]), { contentType: 'audio/wav' });
    const failing = new Readable({
      read() {
        this.push('new');
        this.destroy(new Error('encoder died'));
      },
    });
    await expect(s.save('call_2', failing, { contentType: 'audio/wav' })).rejects.toThrow('encoder died');
    expect(readdirSync(calls)).toEqual(['call_2.wav']);
    expect(readFileSync(join(calls, 'call_2.wav'), 'utf8')).toBe('old');
  });

  it('deletes by call id, and says when there was nothing to delete', async () => {
    const { store: s } = store();
    await s.save('call_4', Readable.from([Buffer.from('x')]), { contentType: 'audio/ogg' });
    await s.save('call_5', Readable.from([Buffer.from('y')]), { contentType: 'audio/ogg' });
    expect(await s.delete('call_4')).toBe(true);
    expect(await s.delete('call_4')).toBe(false);
    expect((await s.list()).map((r) => r.callId)).toEqual(['call_5']);
  });

  it('sweeps recordings (and abandoned temporary files) last written before the cut-off', async () => {
    const { calls, store: s } = store();
    for (const id of ['old_1', 'old_2', 'fresh']) await s.save(id, Readable.from([Buffer.from(id)]), { contentType: 'audio/ogg' });
    writeFileSync(join(calls, 'crashed.ogg.1.abc.partial'), 'half');
    const fortyDaysAgo = new Date(Date.now() - 40 * 86_400_000);
    for (const name of ['old_1.ogg', 'old_2.ogg', 'crashed.ogg.1.abc.partial']) utimesSync(join(calls, name), fortyDaysAgo, fortyDaysAgo);
    const swept = await s.sweep(new Date(Date.now() - 30 * 86_400_000));
    expect(swept.sort()).toEqual(['old_1', 'old_2']);
    expect(readdirSync(calls)).toEqual(['fresh.ogg']);
    expect(await s.sweep(new Date(Date.now() - 30 * 86_400_000))).toEqual([]);
  });

  recordingStoreContract(() => store().store);
});
