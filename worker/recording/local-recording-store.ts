import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import {
  assertCallId,
  clampRange,
  parseRecordingName,
  RECORDING_CONTENT_TYPES,
  RECORDING_EXTENSIONS as EXTENSIONS,
  type ByteRange,
  type OpenedRecording,
  type RecordingContentType,
  type RecordingInfo,
  type RecordingStore,
  type SavedRecording,
} from './recording-store.js';

const PARTIAL = '.partial';

/**
 * Recordings as files in `<dir>/calls/<callId>.wav` (or .ogg). A save goes to a temporary name,
 * is fsync'd, then renamed, so a crash leaves either the old file or the new one, never half.
 */
export class LocalRecordingStore implements RecordingStore {
  readonly kind = 'local';
  private readonly callsDir: string;

  constructor(dir: string) {
    this.callsDir = resolve(dir, 'calls');
  }

  uriFor(callId: string, contentType: RecordingContentType): string {
    assertCallId(callId);
    return `file://${this.pathFor(callId, contentType)}`;
  }

  async save(callId: string, body: Readable | AsyncIterable<Uint8Array>, meta: { contentType: RecordingContentType }): Promise<SavedRecording> {
    assertCallId(callId);
    await mkdir(this.callsDir, { recursive: true });
    const path = this.pathFor(callId, meta.contentType);
    // A unique temporary name: two saves of one call id never write into each other's file.
    const partial = `${path}.${process.pid}.${Date.now().toString(36)}${PARTIAL}`;
    try {
      await pipeline(body instanceof Readable ? body : Readable.from(body), createWriteStream(partial));
      const file = await open(partial, 'r+');
      try {
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(partial, path);
    } catch (error) {
      await unlink(partial).catch(() => undefined);
      throw error;
    }
    await this.removeOtherFormats(callId, meta.contentType);
    const { size } = await stat(path);
    return { callId, uri: this.uriFor(callId, meta.contentType), bytes: size };
  }

  async open(callId: string, range?: ByteRange): Promise<OpenedRecording | undefined> {
    const found = await this.find(callId);
    if (!found) return undefined;
    const { start, end } = clampRange(range, found.bytes);
    return { stream: createReadStream(found.path, { start, end }), totalBytes: found.bytes, start, end, contentType: found.contentType };
  }

  async delete(callId: string): Promise<boolean> {
    assertCallId(callId);
    let removed = false;
    for (const contentType of RECORDING_CONTENT_TYPES) {
      removed = (await unlinkIfPresent(this.pathFor(callId, contentType))) || removed;
    }
    return removed;
  }

  async list(): Promise<RecordingInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.callsDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const infos: RecordingInfo[] = [];
    for (const name of names) {
      const parsed = parseRecordingName(name);
      if (!parsed) continue;
      const path = join(this.callsDir, name);
      const stats = await stat(path).catch(() => undefined);
      if (!stats?.isFile()) continue;
      infos.push({ callId: parsed.callId, uri: `file://${path}`, bytes: stats.size, modifiedAt: stats.mtime, contentType: parsed.contentType });
    }
    return infos.sort((a, b) => a.modifiedAt.getTime() - b.modifiedAt.getTime());
  }

  async sweep(olderThan: Date): Promise<string[]> {
    const swept: string[] = [];
    for (const info of await this.list()) {
      if (info.modifiedAt.getTime() >= olderThan.getTime()) continue;
      if (await unlinkIfPresent(join(this.callsDir, `${info.callId}${EXTENSIONS[info.contentType]}`))) swept.push(info.callId);
    }
    // Temporary files of a save that crashed are swept by the same age rule.
    for (const name of await readdir(this.callsDir).catch(() => [] as string[])) {
      if (!name.endsWith(PARTIAL)) continue;
      const path = join(this.callsDir, name);
      const stats = await stat(path).catch(() => undefined);
      if (stats && stats.mtime.getTime() < olderThan.getTime()) await unlinkIfPresent(path);
    }
    return swept;
  }

  private pathFor(callId: string, contentType: RecordingContentType): string {
    return join(this.callsDir, `${callId}${EXTENSIONS[contentType]}`);
  }

  private async find(callId: string): Promise<{ path: string; bytes: number; contentType: RecordingContentType } | undefined> {
    assertCallId(callId);
    for (const contentType of RECORDING_CONTENT_TYPES) {
      const path = this.pathFor(callId, contentType);
      const stats = await stat(path).catch(() => undefined);
      if (stats?.isFile()) return { path, bytes: stats.size, contentType };
    }
    return undefined;
  }

  private async removeOtherFormats(callId: string, kept: RecordingContentType): Promise<void> {
    for (const contentType of RECORDING_CONTENT_TYPES) {
      if (contentType !== kept) await unlinkIfPresent(this.pathFor(callId, contentType));
    }
  }
}

async function unlinkIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
