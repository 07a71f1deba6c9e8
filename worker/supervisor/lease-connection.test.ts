import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedProcess } from '../../scripts/fleet/managed-process.js';
import { freePort, startRedis } from '../../scripts/fleet/servers.js';
import { connectionOptions, encodeCommand, LeaseConnection, parseReplies } from './lease-connection.mjs';

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RESP framing', () => {
  it('encodes commands as arrays of bulk strings, counting bytes, not characters', () => {
    expect(encodeCommand(['SET', 'k', 'é', 'PX', 3000])).toBe('*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n$2\r\nPX\r\n$4\r\n3000\r\n');
  });

  it('reads whole replies and leaves a partial one for the next chunk', () => {
    const { replies, used } = parseReplies(Buffer.from('+OK\r\n:42\r\n$-1\r\n-ERR wrong\r\n$5\r\nhel'));
    expect(replies.slice(0, 3)).toEqual(['OK', 42, null]);
    expect(replies[3]).toBeInstanceOf(Error);
    expect((replies[3] as Error).message).toBe('ERR wrong');
    expect(used).toBe(Buffer.byteLength('+OK\r\n:42\r\n$-1\r\n-ERR wrong\r\n'));
    expect(parseReplies(Buffer.from('$5\r\nhello\r\n*2\r\n:1\r\n$1\r\nx\r\n')).replies).toEqual(['hello', [1, 'x']]);
  });

  it('takes user, password, database and TLS from the URL', () => {
    expect(connectionOptions('rediss://lease:p%40ss@cache.internal:6380/4')).toEqual({ host: 'cache.internal', port: 6380, tls: true, username: 'lease', password: 'p@ss', db: 4 });
    expect(connectionOptions('redis://127.0.0.1:7000')).toMatchObject({ port: 7000, tls: false, username: undefined, password: undefined, db: 0 });
    expect(() => connectionOptions('http://127.0.0.1:7000')).toThrow(/not a Redis URL/);
  });
});

describe('LeaseConnection against redis-server', () => {
  let dir: string;
  let port: number;
  let server: ManagedProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-lease-conn-'));
    port = await freePort();
    server = await startRedis({ port, dataDir: dir });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names its connection, fails at once while down, and comes back with a new id after a restart', async () => {
    const ids: string[] = [];
    const connection = new LeaseConnection(`redis://127.0.0.1:${port}`, { onReady: (id: string) => ids.push(id) });
    const admin = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: false });
    try {
      await until('connected', () => connection.ready);
      const list = String(await admin.call('CLIENT', 'LIST', 'ID', ids[0]!));
      expect(list).toContain(`id=${ids[0]} `);
      expect(await connection.send([['SET', 'lease', '1', 'PX', 3000], ['PTTL', 'lease']])).toEqual(['OK', expect.any(Number)]);

      admin.disconnect();
      await server.stop();
      await until('noticed the restart', () => !connection.ready);
      const started = Date.now();
      await expect(connection.send([['SET', 'lease', '1', 'PX', 3000]])).rejects.toThrow(/not ready/);
      expect(Date.now() - started).toBeLessThan(100);

      server = await startRedis({ port, dataDir: dir });
      await until('reconnected', () => connection.ready && ids.length === 2, 15_000);
      expect(ids[1]).not.toBe(ids[0]);
      expect(await connection.send([['SET', 'lease', '1', 'PX', 3000]])).toEqual(['OK']);
    } finally {
      connection.close();
      admin.disconnect();
    }
  }, 40_000);

  it('authenticates and selects the database the URL names, and gives a Redis error back in place', async () => {
    const admin = new Redis(`redis://127.0.0.1:${port}`);
    await admin.config('SET', 'requirepass', 's3cret');
    const connection = new LeaseConnection(`redis://:s3cret@127.0.0.1:${port}/3`, {});
    const refused = new LeaseConnection(`redis://:wrong@127.0.0.1:${port}/3`, {});
    try {
      await until('connected', () => connection.ready);
      const [set, wrongType] = await connection.send([['SET', 'in-db-3', 'x'], ['INCR', 'in-db-3']]);
      expect(set).toBe('OK');
      expect(wrongType).toBeInstanceOf(Error);
      await admin.auth('s3cret');
      await admin.select(3);
      expect(await admin.get('in-db-3')).toBe('x');
      await new Promise((r) => setTimeout(r, 500));
      expect(refused.ready).toBe(false);
    } finally {
      connection.close();
      refused.close();
      await admin.config('SET', 'requirepass', '').catch(() => undefined);
      admin.disconnect();
    }
  }, 20_000);
});
