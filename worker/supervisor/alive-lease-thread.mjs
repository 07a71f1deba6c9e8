// The thread side of alive-lease.ts: renews one call's lease until told to stop. Plain
// JavaScript: a worker thread on Node 20 does not get tsx's loader.
import { Redis } from 'ioredis';
import { clearInterval, setInterval, setTimeout } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';

const { redisUrl, key, holderKey, leaseMs, everyMs } = workerData;
// Fail fast and retry on the next tick: a renewal late by a second is no renewal.
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: (n) => Math.min(n * 200, 2000) });
redis.on('error', () => undefined);
let confirmed = false;
// This connection's client id, recorded beside the lease: the supervisor sees it vanish from Redis
// the moment this process dies, before the lease lapses. A new one after each reconnect.
let holder;
let stopping = false;
const renew = () => {
  if (stopping) return;
  // Two keys, maybe in two cluster slots: a pipeline, not a transaction.
  const write = redis.pipeline().set(key, '1', 'PX', leaseMs);
  if (holder) write.set(holderKey, holder, 'PX', leaseMs);
  void write
    .exec()
    .then((results) => {
      if (!results || results.some(([error]) => error)) return;
      // The job's loop renews with a long start-up lease until the thread has renewed once.
      if (!confirmed) parentPort.postMessage('renewing');
      confirmed = true;
    })
    .catch(() => undefined);
};
redis.on('ready', () => {
  holder = undefined;
  redis
    .client('ID')
    .then((id) => {
      holder = String(id);
    })
    .catch(() => undefined)
    .finally(renew);
});
const timer = setInterval(renew, everyMs);
parentPort.on('message', async (message) => {
  if (message !== 'stop') return;
  stopping = true;
  clearInterval(timer);
  // Stopped on purpose, not dead: the call is left to its lease (and to the job's own ending).
  await Promise.race([redis.del(holderKey).catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500))]);
  redis.disconnect();
  parentPort.postMessage('stopped');
  parentPort.close();
});
