import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CallRecord } from '../call-record.js';
import type { CrmAdapter } from './crm-adapter.js';

/**
 * The local fleet's CRM: one JSON line per call in a file, fsync'd. A key already in the file is
 * not written again, so a redelivery has no effect, as with a real CRM's idempotency.
 */
export class FileCrm implements CrmAdapter {
  readonly name = 'file';
  #writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly path: string) {}

  deliver(record: CallRecord, idempotencyKey: string): Promise<{ ref?: string }> {
    const result = this.#writes.then(() => this.#append(record, idempotencyKey));
    this.#writes = result.catch(() => undefined);
    return result;
  }

  async #append(record: CallRecord, key: string): Promise<{ ref?: string }> {
    const existing = await readFile(this.path, 'utf8').catch(() => '');
    if (existing.split('\n').some((line) => line.includes(`"idempotencyKey":${JSON.stringify(key)}`))) return { ref: key };
    await mkdir(dirname(this.path), { recursive: true });
    const file = await open(this.path, 'a');
    try {
      await file.writeFile(`${JSON.stringify({ idempotencyKey: key, deliveredAt: new Date().toISOString(), record })}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    return { ref: key };
  }
}
