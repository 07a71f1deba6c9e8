import type { AgentServer, JobRequest } from '@livekit/agents';

/** Load at which a worker stops taking calls: every job slot busy. */
export const FULL_LOAD = 1;

/** How long an accepted job may take to show up among the server's active jobs. */
const LAUNCH_GRACE_MS = 10_000;

/**
 * A worker's job slots: `talking` calls with an agent plus `holding` callers waiting on hold for
 * one (worker/overflow). Every job counts toward the load, so livekit-server sends a new call to
 * the worker with the fewest; which calls talk and which hold is the slot pool's call, in Redis.
 * A job whose call has ended counts no more: its process takes seconds to shut down (session
 * close, call record, recording), and a worker full of finished calls would turn callers away.
 */
export class WorkerCapacity {
  readonly #jobSlots: number;
  readonly #launching = new Map<string, number>();
  /** The framework hands the server to the load function only; admission reads it from there. */
  #server?: AgentServer;

  readonly #callEnded: (jobId: string) => boolean;

  /** `callEnded` tells a job whose call is over (its process reported it; metrics-hub.ts). */
  constructor(slots: { talking: number; holding: number }, callEnded: (jobId: string) => boolean = () => false) {
    this.#jobSlots = slots.talking + slots.holding;
    this.#callEnded = callEnded;
  }

  /** The worker's load as the share of its job slots in use (0 idle .. 1 full). */
  load = async (server: AgentServer): Promise<number> => {
    this.#server = server;
    return Math.min(FULL_LOAD, this.#busy() / this.#jobSlots);
  };

  /**
   * Accepts a job only while a job slot is free, counted at the moment of the request: the load
   * livekit-server sees is up to 2.5 s old, and a burst of calls would otherwise all land on one
   * worker. A rejected request goes to another worker. Jobs accepted but not yet running count.
   */
  admit = async (request: JobRequest): Promise<void> => {
    if (this.#busy() >= this.#jobSlots) {
      await request.reject();
      return;
    }
    this.#launching.set(request.id, Date.now());
    await request.accept();
  };

  #busy(): number {
    const now = Date.now();
    const running = new Set((this.#server?.activeJobs ?? []).map((job) => job.job.id));
    for (const [id, at] of this.#launching) if (running.has(id) || now - at > LAUNCH_GRACE_MS) this.#launching.delete(id);
    let calls = 0;
    for (const id of running) if (!this.#callEnded(id)) calls += 1;
    return calls + this.#launching.size;
  }
}
