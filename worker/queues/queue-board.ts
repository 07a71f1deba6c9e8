import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express from 'express';
import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALLS_QUEUE } from '../dialer/dialer.js';
import { QUEUES } from './queues.js';
import { connectRedis } from './redis.js';

export const QUEUE_BOARD_PATH = '/queues';

/**
 * Bull Board over every voicefleet queue (CRM sync, its dead letters, outbound calls): counts,
 * failed and dead-lettered jobs with their reasons, retry and remove. Behind HTTP basic auth;
 * it is never served without a password.
 */
export async function startQueueBoard(args: {
  redisUrl: string;
  host: string;
  port: number;
  user: string;
  password: string;
}): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const connection = connectRedis(args.redisUrl, 'worker');
  connection.on('error', () => undefined); // reconnects by itself; the board shows the gap
  const queues = [QUEUES.crmSync, QUEUES.crmDeadLetter, CALLS_QUEUE].map((name) => new Queue(name, { connection }));
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });

  const app = express();
  app.disable('x-powered-by');
  app.use(QUEUE_BOARD_PATH, basicAuth(args.user, args.password), serverAdapter.getRouter());
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(args.port, args.host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(queues.map((q) => q.close()));
      connection.disconnect();
    },
  };
}

function basicAuth(user: string, password: string): express.RequestHandler {
  const expected = Buffer.from(`${user}:${password}`);
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64') : Buffer.alloc(0);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res.set('www-authenticate', 'Basic realm="voicefleet queues"').status(401).send('authentication required');
  };
}
