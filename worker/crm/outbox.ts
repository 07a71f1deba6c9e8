import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { callRecordSchema, type CallRecord } from './call-record.js';

/**
 * Call records that could not be queued (Redis unreachable at call end), one fsync'd file each,
 * until they are replayed into the queue. A record is removed only after the queue has it, so a
 * crash anywhere leaves it either here or in Redis, never nowhere.
 */
export class Outbox {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async put(record: CallRecord): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const name = `${safeName(record.callId)}.json`;
    const temp = join(this.dir, `.${name}.${process.pid}.tmp`);
    const file = await open(temp, 'w');
    try {
      await file.writeFile(JSON.stringify(record));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, join(this.dir, name));
    // The rename is durable only once the directory entry is.
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return join(this.dir, name);
  }

  /** Records waiting, oldest name first; unreadable files are reported, never deleted. */
  async pending(): Promise<{ path: string; record?: CallRecord; error?: string }[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries = [];
    for (const name of names) {
      const path = join(this.dir, name);
      try {
        const parsed = callRecordSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
        entries.push(parsed.success ? { path, record: parsed.data } : { path, error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      } catch (error) {
        entries.push({ path, error: (error as Error).message });
      }
    }
    return entries;
  }

  /**
   * Hands every valid record to `enqueue` and removes it once enqueued. Stops at the first
   * failure (Redis still away); the rest wait for the next replay. Files that do not hold a valid
   * record move to `rejected/` and are reported.
   */
  async replay(enqueue: (record: CallRecord) => Promise<void>): Promise<{ replayed: number; invalid: string[] }> {
    let replayed = 0;
    const invalid: string[] = [];
    for (const entry of await this.pending()) {
      if (!entry.record) {
        // Kept for inspection, out of the way of the records that can still be delivered.
        await mkdir(join(this.dir, 'rejected'), { recursive: true });
        await rename(entry.path, join(this.dir, 'rejected', basename(entry.path)));
        invalid.push(`${basename(entry.path)}: ${entry.error}`);
        continue;
      }
      await enqueue(entry.record);
      await unlink(entry.path);
      replayed += 1;
    }
    return { replayed, invalid };
  }
}

function safeName(callId: string): string {
  return callId.replace(/[^A-Za-z0-9_-]/g, '_');
}
