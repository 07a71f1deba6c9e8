import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { CallRegistry } from '../queues/call-registry.js';
import type { CallRecord } from './call-record.js';
import type { Outbox } from './outbox.js';
import { CallRecordPublisher } from './record-publisher.js';

/** Heartbeat period of a live call; the sweep waits several of them before it steps in. */
const HEARTBEAT_MS = 10_000;

/**
 * Keeps one call's books: marks it live (with heartbeats) while it runs, and at the end puts its
 * record on the way to the CRM (queue or outbox) before marking it ended. Redis being away never
 * delays or breaks the call itself: registry writes are best effort, the record is not.
 */
export class CallRecordKeeper {
  readonly #registry: CallRegistry;
  readonly #publisher: CallRecordPublisher;
  readonly #log: Logger;
  readonly #callId: string;
  #heartbeat: NodeJS.Timeout | undefined;
  #finished: Promise<void> | undefined;

  constructor(args: { queue: Queue; redis: Redis; outbox: Outbox; log: Logger; callId: string }) {
    this.#registry = new CallRegistry(args.redis);
    this.#publisher = new CallRecordPublisher(args.queue, args.outbox, args.log);
    this.#log = args.log;
    this.#callId = args.callId;
  }

  started(call: { room: string; deployment: string; startedAt: Date; workflow?: string; worker?: string }): void {
    this.#registry
      .started({ ...call, callId: this.#callId, startedAt: call.startedAt.toISOString() })
      .catch((error: Error) => this.#log.warn({ event: 'call_registry_unavailable', error: error.message }, 'call not registered as live'));
    this.#heartbeat = setInterval(() => {
      this.#registry.heartbeat(this.#callId).catch(() => undefined);
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /**
   * Someone else keeps this call's books from now on (an agent took over the call the supervisor
   * was answering): no record from here, no more heartbeats. The live entry stays unless
   * `endLive`: the new keeper may already have registered the same call id.
   */
  async leave(options: { endLive: boolean }): Promise<void> {
    clearInterval(this.#heartbeat);
    if (options.endLive) await this.#registry.ended(this.#callId).catch(() => undefined);
  }

  /** Idempotent: the first record wins; later calls return the same promise. */
  finish(record: CallRecord): Promise<void> {
    this.#finished ??= (async () => {
      clearInterval(this.#heartbeat);
      await this.#publisher.publish(record);
      await this.#registry.ended(this.#callId).catch(() => undefined);
    })();
    return this.#finished;
  }
}
