import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { publishScrapeTarget } from './scrape-target.js';

describe('publishScrapeTarget', () => {
  const dir = mkdtempSync(join(tmpdir(), 'voicefleet-targets-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a Prometheus file_sd entry for the port the worker took, scraped over loopback, and removes it', () => {
    const published = publishScrapeTarget({ dir: join(dir, 'targets'), host: '0.0.0.0', port: 41234, role: 'worker' });
    const entries = JSON.parse(readFileSync(published.file, 'utf8')) as { targets: string[]; labels: Record<string, string> }[];
    expect(entries).toEqual([{ targets: ['127.0.0.1:41234'], labels: { role: 'worker', process: expect.stringContaining(String(process.pid)) } }]);
    expect(existsSync(`${published.file}.tmp`)).toBe(false);
    published.remove();
    expect(existsSync(published.file)).toBe(false);
  });
});
