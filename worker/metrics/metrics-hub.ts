import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createSocketServer, type Server as SocketServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { WorkerLoad } from '../fleet/worker-heartbeat.js';
import { TURN_STAGES, type CallActivity, type MetricEvent, type WorkerMetrics } from './worker-metrics.js';

/**
 * The worker's metrics, gathered from its job processes: each call runs in a process of its own,
 * so job processes report observations over a local socket (`metrics-reporter.ts`) and the worker
 * serves the sum at /metrics. A job's connection is its presence: when the process ends or is
 * killed, its call leaves the active-calls gauge with it.
 */
export class MetricsHub {
  readonly #metrics: WorkerMetrics;
  readonly #log: Logger;
  readonly #activity = new Map<Socket, CallActivity | undefined>();
  /** Jobs whose call ended while their process shuts down; each leaves with its connection. */
  readonly #endedJobs = new Map<Socket, string>();
  #sockets?: SocketServer;
  #http?: HttpServer;
  #livekitWorkerId?: string;

  constructor(metrics: WorkerMetrics, log: Logger) {
    this.#metrics = metrics;
    this.#log = log;
  }

  /** Listens for job processes on `socketPath` and serves /metrics on host:port (0: any). */
  async start(options: { socketPath: string; host: string; port: number }): Promise<{ port: number }> {
    rmSync(options.socketPath, { force: true });
    this.#sockets = createSocketServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => this.#sockets!.once('error', reject).listen(options.socketPath, resolve));
    this.#http = createHttpServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.#metrics.registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': this.#metrics.registry.contentType }).end(body))
        .catch((error: Error) => res.writeHead(500).end(error.message));
    });
    await new Promise<void>((resolve, reject) => this.#http!.once('error', reject).listen(options.port, options.host, resolve));
    const address = this.#http.address();
    return { port: typeof address === 'object' && address ? address.port : options.port };
  }

  /** What the worker is doing now, from its job processes' reports (for its heartbeat). */
  load(): WorkerLoad {
    const counts = { holding: 0, talking: 0 };
    for (const activity of this.#activity.values()) if (activity) counts[activity] += 1;
    return { ...counts, jobProcesses: this.#activity.size, livekitWorkerId: this.#livekitWorkerId };
  }

  /** True once the job's process has reported its call over (it may still be shutting down). */
  callEnded(jobId: string): boolean {
    for (const ended of this.#endedJobs.values()) if (ended === jobId) return true;
    return false;
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.#http?.close(resolve) ?? resolve(undefined));
    await new Promise((resolve) => this.#sockets?.close(resolve) ?? resolve(undefined));
  }

  #accept(socket: Socket): void {
    this.#activity.set(socket, undefined);
    this.#refreshGauges();
    const lines = createInterface({ input: socket });
    lines.on('line', (line) => {
      try {
        this.#apply(socket, JSON.parse(line) as MetricEvent);
      } catch (error) {
        this.#log.debug({ event: 'metric_unreadable', error: (error as Error).message }, 'unreadable metric line');
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#activity.delete(socket);
      this.#endedJobs.delete(socket);
      this.#refreshGauges();
    });
  }

  #apply(socket: Socket, event: MetricEvent): void {
    const m = this.#metrics;
    switch (event.kind) {
      case 'stage':
        if ((TURN_STAGES as readonly string[]).includes(event.stage) && Number.isFinite(event.seconds) && event.seconds >= 0) {
          m.stageSeconds.observe({ stage: event.stage }, event.seconds);
        }
        break;
      case 'activity':
        this.#activity.set(socket, event.activity);
        this.#refreshGauges();
        break;
      case 'call_ended':
        m.callsTotal.inc({ disposition: label(event.disposition) });
        this.#activity.set(socket, undefined);
        if (typeof event.jobId === 'string') this.#endedJobs.set(socket, event.jobId);
        this.#refreshGauges();
        break;
      case 'fallback':
        m.fallbacksTotal.inc({ provider: label(event.provider) });
        break;
      case 'error':
        m.errorsTotal.inc({ source: label(event.source) });
        break;
      case 'dead_air':
        m.deadAirTotal.inc();
        break;
      case 'hold':
        m.holdSeconds.observe({ result: label(event.result) }, event.seconds);
        break;
      case 'worker':
        if (typeof event.livekitWorkerId === 'string' && event.livekitWorkerId) this.#livekitWorkerId = label(event.livekitWorkerId);
        break;
    }
  }

  #refreshGauges(): void {
    const { holding, talking } = this.load();
    this.#metrics.activeCalls.set({ activity: 'holding' }, holding);
    this.#metrics.activeCalls.set({ activity: 'talking' }, talking);
    this.#metrics.jobs.set(holding + talking);
  }
}

/** Label values come from job processes: kept short and plain. */
function label(value: string): string {
  return String(value).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 48) || 'unknown';
}
