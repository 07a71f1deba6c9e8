import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ALIVE_LEASE_MS, aliveKey, leaseHolderKey } from './call-state.js';

/**
 * The lease the job's own loop sets until the thread has renewed once. A thread takes seconds to
 * start on a loaded host (it loads its own Redis client) while the job's loop may block for 4 s
 * and more at call start; a 3 s lease then lapses on a healthy job. A job that dies this early is
 * noticed this much later, before its call has had a conversation to lose.
 */
export const STARTING_LEASE_MS = 15_000;

/**
 * A call's alive lease, renewed from a thread of its own. A job's event loop can be busy for
 * seconds on a loaded host (we saw 8-13 s stalls at call start), and a lease renewed from that
 * loop lapses though the job is fine: the supervisor would take a live call for dead. The thread
 * keeps renewing whatever the loop does, and dies with the process, which is the death the lease
 * is there to report.
 */
export class AliveLease {
  readonly #thread: Worker;
  #stopped?: Promise<void>;
  /**
   * Renewal from the event loop as well, with the long start-up lease until the thread has
   * renewed once, then with the normal one. Either renewer keeps the call alive; the thread
   * alone carries it through a blocked loop.
   */
  #fallback?: NodeJS.Timeout;
  #threadRenewing = false;

  private constructor(thread: Worker) {
    this.#thread = thread;
  }

  static start(redisUrl: string, callId: string, everyMs: number, renewHere: (leaseMs: number) => void): AliveLease {
    // Same extension as this file, so tsx and compiled runs both find the thread's module.
    const file = fileURLToPath(new URL('./alive-lease-thread.mjs', import.meta.url));
    const thread = new Worker(file, { workerData: { redisUrl, key: aliveKey(callId), holderKey: leaseHolderKey(callId), leaseMs: ALIVE_LEASE_MS, everyMs } });
    thread.unref();
    const lease = new AliveLease(thread);
    const renew = () => renewHere(lease.#threadRenewing ? ALIVE_LEASE_MS : STARTING_LEASE_MS);
    thread.once('message', (message) => {
      if (message === 'renewing') lease.#threadRenewing = true;
    });
    renew();
    lease.#fallback = setInterval(renew, everyMs);
    // A thread that cannot run leaves the loop's renewal, which is all there is then.
    thread.on('error', () => undefined);
    return lease;
  }

  /** Stops renewing (the lease then lapses, or is deleted by the caller); resolves when it has. */
  stop(): Promise<void> {
    clearInterval(this.#fallback);
    this.#stopped ??= new Promise<void>((resolve) => {
      const done = () => resolve();
      this.#thread.once('message', done);
      this.#thread.once('exit', done);
      this.#thread.postMessage('stop');
      // A thread that never answers is ended: no renewal may outlive the stop.
      setTimeout(() => void this.#thread.terminate().then(done, done), 2000).unref();
    });
    return this.#stopped;
  }
}
