import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { WebhookReceiver } from 'livekit-server-sdk';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { CallRegistry } from '../queues/call-registry.js';

const MAX_BODY_BYTES = 1 << 20;
const SEEN_TTL_S = 24 * 3600;

/**
 * LiveKit's webhooks, as a second witness that a call ended: verified on the raw body (signature
 * and body hash), deduplicated by event id (LiveKit retries), and used only to bring forward the
 * sweep of a call whose worker never said it ended. The worker's own record still wins.
 */
export async function startLiveKitWebhooks(args: {
  host: string;
  port: number;
  apiKey: string;
  apiSecret: string;
  redis: Redis;
  registry: CallRegistry;
  staleCallMs: number;
  /** Time the worker keeps to write its record after LiveKit says the room is gone. */
  graceMs: number;
  log: Logger;
  /** Served at GET /metrics on the same port (Prometheus). */
  metrics?: Registry;
}): Promise<{ server: Server; port: number }> {
  const receiver = new WebhookReceiver(args.apiKey, args.apiSecret);
  const { log } = args;

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/metrics' && args.metrics) {
        try {
          return res.writeHead(200, { 'content-type': args.metrics.contentType }).end(await args.metrics.metrics());
        } catch (error) {
          return res.writeHead(503).end((error as Error).message);
        }
      }
      if (req.method !== 'POST' || req.url !== '/livekit/webhook') return res.writeHead(404).end();
      let body: string;
      try {
        body = await readBody(req);
      } catch {
        return res.writeHead(413).end();
      }
      let event;
      try {
        event = await receiver.receive(body, req.headers.authorization);
      } catch (error) {
        log.warn({ event: 'webhook_rejected', reason: (error as Error).message }, 'LiveKit webhook failed verification');
        return res.writeHead(401).end();
      }
      try {
        const first = await args.redis.set(`voicefleet:webhook:${event.id}`, '1', 'EX', SEEN_TTL_S, 'NX');
        if (first !== 'OK') {
          log.debug({ event: 'webhook_duplicate', id: event.id, kind: event.event }, 'LiveKit webhook seen before');
          return res.writeHead(200).end();
        }
        log.info({ event: 'webhook_received', id: event.id, kind: event.event, room: event.room?.name }, 'LiveKit webhook');
        if (event.event === 'room_finished' && event.room?.name) {
          const callId = await args.registry.roomFinished(event.room.name, args.staleCallMs, args.graceMs);
          if (callId) log.info({ event: 'call_room_finished', callId }, 'room gone while the call was live; sweep brought forward');
        }
        res.writeHead(200).end();
      } catch (error) {
        // Redis away: LiveKit retries the webhook later.
        log.warn({ event: 'webhook_deferred', error: (error as Error).message }, 'LiveKit webhook not processed');
        res.writeHead(503).end();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, args.host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
