import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lostCallRecord } from '../call-record.js';
import { PermanentDeliveryError, TransientDeliveryError } from './crm-adapter.js';
import { HubSpotCrm } from './hubspot.js';
import { signWebhook, WebhookCrm } from './webhook.js';

/** The adapters' HTTP contract, against a loopback server that records what it receives. */
describe('CRM adapters', () => {
  let server: Server;
  let base: string;
  const seen: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let status = 200;
  let stall = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (stall) return;
        res.writeHead(status, { 'content-type': 'application/json' }).end('{"results":[{"id":"9001"}]}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const record = lostCallRecord({ callId: 'AJ_abc', room: 'r', deployment: 'acme-dental', startedAt: '2026-11-25T10:00:00.000Z', lastSeenAt: '2026-11-25T10:01:00.000Z' });

  it('webhook: signs timestamp and body with HMAC-SHA256 and sends the idempotency key', async () => {
    status = 200;
    await new WebhookCrm({ url: `${base}/hook`, secret: 'shh-0123456789abcdef', timeoutMs: 2000 }).deliver(record, 'AJ_abc');
    const request = seen.at(-1)!;
    expect(request.headers['idempotency-key']).toBe('AJ_abc');
    const timestamp = String(request.headers['x-voicefleet-timestamp']);
    expect(request.headers['x-voicefleet-signature']).toBe(signWebhook('shh-0123456789abcdef', timestamp, request.body));
    expect(JSON.parse(request.body).callId).toBe('AJ_abc');
  });

  it.each([
    [500, TransientDeliveryError],
    [503, TransientDeliveryError],
    [429, TransientDeliveryError],
    [408, TransientDeliveryError],
    [400, PermanentDeliveryError],
    [401, PermanentDeliveryError],
    [422, PermanentDeliveryError],
  ])('classifies HTTP %d as %o', async (code, kind) => {
    status = code;
    await expect(new WebhookCrm({ url: `${base}/hook`, secret: 'shh-0123456789abcdef', timeoutMs: 2000 }).deliver(record, 'k')).rejects.toBeInstanceOf(kind);
  });

  it('treats a CRM that does not answer in time, or at all, as transient', async () => {
    stall = true;
    await expect(new WebhookCrm({ url: `${base}/hook`, secret: 'shh-0123456789abcdef', timeoutMs: 300 }).deliver(record, 'k')).rejects.toThrow(/no answer within 300 ms/);
    stall = false;
    await expect(new WebhookCrm({ url: 'http://127.0.0.1:1/hook', secret: 'shh-0123456789abcdef', timeoutMs: 300 }).deliver(record, 'k')).rejects.toBeInstanceOf(TransientDeliveryError);
  });

  it('hubspot: upserts a Call engagement keyed by the unique voicefleet_call_id property', async () => {
    status = 200;
    const result = await new HubSpotCrm({ accessToken: 'pat-test', baseUrl: base, timeoutMs: 2000 }).deliver(record, 'AJ_abc');
    const request = seen.at(-1)!;
    expect(request.url).toBe('/crm/v3/objects/calls/batch/upsert');
    expect(request.headers.authorization).toBe('Bearer pat-test');
    const body = JSON.parse(request.body);
    expect(body.inputs).toEqual([
      expect.objectContaining({ idProperty: 'voicefleet_call_id', id: 'AJ_abc', properties: expect.objectContaining({ voicefleet_call_id: 'AJ_abc', hs_call_direction: 'INBOUND', hs_call_status: 'COMPLETED', hs_timestamp: '2026-11-25T10:00:00.000Z' }) }),
    ]);
    expect(result.ref).toBe('9001');
  });
});
