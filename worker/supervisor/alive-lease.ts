import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ALIVE_LEASE_MS, aliveKey } from './call-state.js';

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
  /** Renewal from the event loop, only if the thread could not run. */
  #fallback?: NodeJS.Timeout;

  private constructor(thread: Worker) {
    this.#thread = thread;
  }

  static start(redisUrl: string, callId: string, everyMs: number, renewHere: () => void): AliveLease {
    // Same extension as this file, so tsx and compiled runs both find the thread's module.
    const file = fileURLToPath(new URL('./alive-lease-thread.mjs', import.meta.url));
    const thread = new Worker(file, { workerData: { redisUrl, key: aliveKey(callId), leaseMs: ALIVE_LEASE_MS, everyMs } });
    thread.unref();
    const lease = new AliveLease(thread);
    thread.on('error', () => {
      if (lease.#stopped || lease.#fallback) return;
      renewHere();
      lease.#fallback = setInterval(renewHere, everyMs);
    });
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
