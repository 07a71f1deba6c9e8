import { connect, type Socket } from 'node:net';
import type { MetricEvent } from './worker-metrics.js';

/**
 * A job process's line to its worker's metrics hub (the socket path is inherited in
 * VOICEFLEET_METRICS_SOCKET). Reporting never holds a call up or fails it: without a hub (a job
 * run on its own, the hub restarting) observations are dropped.
 */
export class MetricsReporter {
  #socket?: Socket;
  readonly #path?: string;

  constructor(path = process.env.VOICEFLEET_METRICS_SOCKET) {
    this.#path = path;
  }

  report(event: MetricEvent): void {
    if (!this.#path) return;
    if (!this.#socket || this.#socket.destroyed) {
      this.#socket = connect(this.#path);
      this.#socket.on('error', () => this.#socket?.destroy());
      this.#socket.unref();
    }
    this.#socket.write(`${JSON.stringify(event)}\n`);
  }

  close(): void {
    this.#socket?.end();
  }
}
