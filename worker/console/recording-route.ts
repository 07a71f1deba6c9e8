import type express from 'express';
import { InvalidCallIdError, RangeNotSatisfiableError, type ByteRange, type RecordingStore } from '../recording/recording-store.js';

/** What the console needs of the recording store (worker/recording/recording-store.ts). */
export type RecordingSource = Pick<RecordingStore, 'open' | 'delete'>;

/** Whether a call has a recording, without reading it. */
export async function hasRecording(source: RecordingSource, callId: string): Promise<boolean> {
  try {
    const opened = await source.open(callId, { start: 0, end: 0 });
    opened?.stream.destroy();
    return opened !== undefined;
  } catch {
    return false;
  }
}

/** GET with HTTP Range (what <audio> asks for to seek), and DELETE, of a call's recording. */
export function recordingHandlers(source: RecordingSource): { get: express.RequestHandler; remove: express.RequestHandler } {
  const get: express.RequestHandler = async (req, res) => {
    const range = parseRange(req.headers.range);
    try {
      const opened = await source.open(String(req.params.id), range);
      if (!opened) return void res.status(404).json({ error: 'no recording for this call' });
      res.set({
        'accept-ranges': 'bytes',
        'content-type': opened.contentType,
        'content-length': String(opened.end - opened.start + 1),
        'cache-control': 'no-store',
      });
      if (range) res.status(206).set('content-range', `bytes ${opened.start}-${opened.end}/${opened.totalBytes}`);
      opened.stream.on('error', () => res.destroy());
      opened.stream.pipe(res);
    } catch (error) {
      if (error instanceof RangeNotSatisfiableError) return void res.status(416).set('content-range', `bytes */${error.totalBytes}`).end();
      if (error instanceof InvalidCallIdError) return void res.status(400).json({ error: 'not a call id' });
      throw error;
    }
  };
  const remove: express.RequestHandler = async (req, res) => {
    try {
      const deleted = await source.delete(String(req.params.id));
      res.status(deleted ? 200 : 404).json({ deleted });
    } catch (error) {
      if (error instanceof InvalidCallIdError) return void res.status(400).json({ error: 'not a call id' });
      throw error;
    }
  };
  return { get, remove };
}

/**
 * One `bytes=` range (browsers ask for one); anything else gets the whole file. A suffix range
 * (`bytes=-N`) is served whole too: the store opens by start offset, and players do not send it.
 */
export function parseRange(header: string | undefined): ByteRange | undefined {
  const match = header?.match(/^bytes=(\d+)-(\d*)$/);
  if (!match) return undefined;
  return match[2] === '' ? { start: Number(match[1]) } : { start: Number(match[1]), end: Number(match[2]) };
}
