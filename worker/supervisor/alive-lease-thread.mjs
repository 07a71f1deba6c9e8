// The thread side of alive-lease.ts: renews one call's lease until told to stop. Plain
// JavaScript: a worker thread on Node 20 does not get tsx's loader.
import { Redis } from 'ioredis';
import { clearInterval, setInterval } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';

const { redisUrl, key, leaseMs, everyMs } = workerData;
// Fail fast and retry on the next tick: a renewal late by a second is no renewal.
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: (n) => Math.min(n * 200, 2000) });
redis.on('error', () => undefined);
let confirmed = false;
const renew = () =>
  void redis
    .set(key, '1', 'PX', leaseMs)
    .then(() => {
      // The job's loop renews with a long start-up lease until the thread has renewed once.
      if (!confirmed) parentPort.postMessage('renewing');
      confirmed = true;
    })
    .catch(() => undefined);
redis.once('ready', renew);
const timer = setInterval(renew, everyMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  redis.disconnect();
  parentPort.postMessage('stopped');
  parentPort.close();
});
