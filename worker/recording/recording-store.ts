import type { Readable } from 'node:stream';

/**
 * Where call recordings live: one audio file per call id. The worker saves a finished recording,
 * the console streams it for playback (byte ranges for seeking) and deletes it on request, and
 * crm-sync sweeps the ones past their retention. Local folder by default; other stores (S3) plug
 * in behind the same port.
 */
export interface RecordingStore {
  /** Human-readable kind for logs (`local`, ...). */
  readonly kind: string;
  /**
   * Stores the whole body under the call id, replacing an older one. Readers never see a partial
   * recording: it appears complete or not at all.
   */
  save(callId: string, body: Readable | AsyncIterable<Uint8Array>, meta: { contentType: RecordingContentType }): Promise<SavedRecording>;
  /** The recording (or a byte range of it, inclusive `end` as in HTTP); undefined when none. */
  open(callId: string, range?: ByteRange): Promise<OpenedRecording | undefined>;
  /** Removes the recording; false when there was none. */
  delete(callId: string): Promise<boolean>;
  list(): Promise<RecordingInfo[]>;
  /** Deletes every recording last written before `olderThan`; returns their call ids. */
  sweep(olderThan: Date): Promise<string[]>;
  /** The uri a call record carries for this call's recording in that format. */
  uriFor(callId: string, contentType: RecordingContentType): string;
}

export type RecordingContentType = 'audio/wav' | 'audio/ogg';

export interface ByteRange {
  start: number;
  /** Inclusive; defaults to the last byte. */
  end?: number;
}

export interface SavedRecording {
  callId: string;
  uri: string;
  bytes: number;
}

export interface OpenedRecording {
  stream: Readable;
  /** Size of the whole recording, for Content-Length / Content-Range. */
  totalBytes: number;
  /** The range actually served (clamped to the file). */
  start: number;
  end: number;
  contentType: RecordingContentType;
}

export interface RecordingInfo {
  callId: string;
  uri: string;
  bytes: number;
  modifiedAt: Date;
  contentType: RecordingContentType;
}

/** Call ids become file names and object keys: anything else is refused, never escaped. */
export const CALL_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export class InvalidCallIdError extends Error {
  override name = 'InvalidCallIdError';
  constructor(callId: string) {
    super(`not a call id: ${JSON.stringify(callId.slice(0, 40))}`);
  }
}

export class RangeNotSatisfiableError extends Error {
  override name = 'RangeNotSatisfiableError';
  constructor(readonly totalBytes: number) {
    super(`range outside the recording (${totalBytes} bytes)`);
  }
}

export function assertCallId(callId: string): void {
  if (!CALL_ID_PATTERN.test(callId)) throw new InvalidCallIdError(callId);
}

/** A recording's name in any store: `<callId>.ogg` or `<callId>.wav`. */
export const RECORDING_EXTENSIONS: Record<RecordingContentType, string> = { 'audio/wav': '.wav', 'audio/ogg': '.ogg' };
export const RECORDING_CONTENT_TYPES = Object.keys(RECORDING_EXTENSIONS) as RecordingContentType[];

/** The call id and format a stored name stands for; undefined for anything else. */
export function parseRecordingName(name: string): { callId: string; contentType: RecordingContentType } | undefined {
  for (const contentType of RECORDING_CONTENT_TYPES) {
    const ext = RECORDING_EXTENSIONS[contentType];
    if (!name.endsWith(ext)) continue;
    const callId = name.slice(0, -ext.length);
    if (CALL_ID_PATTERN.test(callId)) return { callId, contentType };
  }
  return undefined;
}

/** The bytes a range asks for, clamped to the recording (inclusive end, as in HTTP). */
export function clampRange(range: ByteRange | undefined, totalBytes: number): { start: number; end: number } {
  const start = range?.start ?? 0;
  const end = Math.min(range?.end ?? totalBytes - 1, totalBytes - 1);
  if (start < 0 || start > end) throw new RangeNotSatisfiableError(totalBytes);
  return { start, end };
}
