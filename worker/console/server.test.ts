import express from 'express';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWeb, consolePageRoutes } from './server.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

describe('console page and script', () => {
  let server: Server;
  let bundle: string;

  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    bundle = await bundleWeb();
    const app = express();
    app.use(consolePageRoutes('<!doctype html><title>console</title>', bundle));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
  }, 60_000);

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the script gzipped to a browser that takes gzip, whole to one that does not', async () => {
    const zipped = await get('/console.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-type']).toMatch(/javascript/);
    expect(gunzipSync(zipped.body).toString()).toBe(bundle);
    // livekit-client compresses well: the page loads a fraction of the bytes.
    expect(zipped.body.length).toBeLessThan(Buffer.byteLength(bundle) * 0.4);

    const plain = await get('/console.js', { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(bundle);
    expect(plain.headers.vary).toMatch(/accept-encoding/i);
  });

  it('answers a browser that has the script already with 304, per encoding', async () => {
    const first = await get('/console.js', { 'accept-encoding': 'gzip' });
    const tag = String(first.headers.etag);
    const again = await get('/console.js', { 'accept-encoding': 'gzip', 'if-none-match': tag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    // A cached gzip body is not the plain script: the other encoding has its own tag.
    const plain = await get('/console.js', { 'if-none-match': tag });
    expect(plain.status).toBe(200);
    expect(plain.headers.etag).not.toBe(tag);
  });

  it('never lets the page be cached', async () => {
    const page = await get('/');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body.toString()).toContain('<title>console</title>');
  });
});
