// The thread side of alive-lease.ts: renews one call's lease until told to stop. Plain
// JavaScript: a worker thread on Node 20 does not get tsx's loader.
import { clearInterval, setInterval, setTimeout } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import { LeaseConnection } from './lease-connection.mjs';

const { redisUrl, key, holderKey, leaseMs, everyMs } = workerData;
let confirmed = false;
// This connection's client id, recorded beside the lease: the supervisor sees it vanish from Redis
// the moment this process dies, before the lease lapses. A new one after each reconnect.
let holder;
let stopping = false;
const renew = () => {
  if (stopping || !redis.ready) return;
  // Two keys, maybe in two cluster slots: two commands in one write, not a transaction.
  const commands = [['SET', key, '1', 'PX', leaseMs]];
  if (holder) commands.push(['SET', holderKey, holder, 'PX', leaseMs]);
  void redis
    .send(commands)
    .then((replies) => {
      if (replies.some((reply) => reply instanceof Error)) return;
      // The job's loop renews with a long start-up lease until the thread has renewed once.
      if (!confirmed) parentPort.postMessage('renewing');
      confirmed = true;
    })
    .catch(() => undefined);
};
const redis = new LeaseConnection(redisUrl, {
  onReady: (clientId) => {
    holder = clientId;
    renew();
  },
});
const timer = setInterval(renew, everyMs);
parentPort.on('message', async (message) => {
  if (message !== 'stop') return;
  stopping = true;
  clearInterval(timer);
  // Stopped on purpose, not dead: the call is left to its lease (and to the job's own ending).
  if (redis.ready) await Promise.race([redis.send([['DEL', holderKey]]).catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500))]);
  redis.close();
  parentPort.postMessage('stopped');
  parentPort.close();
});
