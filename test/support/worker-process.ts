import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from '../../scripts/fleet/managed-process.js';
import { PROJECT_ROOT } from '../../scripts/fleet/servers.js';
import { compiledEntry } from '../../worker/project-root.js';
import { freePort, type TestStack } from './servers.js';

export type LogLine = Record<string, unknown> & { msg?: string; event?: string };

/**
 * An agent worker (`worker/main.ts start`) run as a real child process, with its structured log
 * lines collected so tests can wait for call events the way an operator reads them.
 */
export class WorkerProcess {
  readonly lines: LogLine[] = [];
  readonly #process: ManagedProcess;
  readonly #waiters = new Set<{ test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();

  private constructor(
    readonly env: Record<string, string>,
    args: string[] = ['worker/main.ts', 'start'],
  ) {
    // A process group of its own, so stop() also reaches the job processes it forked.
    this.#process = new ManagedProcess({
      name: args[0]!,
      command: process.execPath,
      args: [compiledEntry(args[0]!), ...args.slice(1)],
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      onLine: (raw) => this.#onLine(raw),
    });
  }

  static start(env: Record<string, string>): WorkerProcess {
    return new WorkerProcess(env);
  }

  /** The crm-sync process (worker/crm-sync-main.ts), ready once it logged crm_sync_started. */
  static async startCrmSync(env: Record<string, string>, options = { waitUntilReady: true }): Promise<WorkerProcess> {
    const crmSync = new WorkerProcess(env, ['worker/crm-sync-main.ts']);
    if (options.waitUntilReady) await crmSync.waitForEvent('crm_sync_started', 30_000);
    return crmSync;
  }

  get exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#process.exited;
  }

  /** kill -9 of the process group this test created: no graceful anything. */
  async kill(): Promise<void> {
    const pid = this.#process.pid;
    if (pid !== undefined && this.#process.running) process.kill(-pid, 'SIGKILL');
    await this.#process.exited;
  }

  /** A worker registered with the test stack under its own agent name, with a warm job process. */
  static async startRegistered(stack: TestStack, env: Record<string, string> = {}): Promise<WorkerProcess> {
    const worker = new WorkerProcess({
      ...stack.env,
      VOICEFLEET_WORKER_HTTP_PORT: String(await freePort()),
      // Any free port; the worker logs the one it took (metrics_listening).
      VOICEFLEET_METRICS_PORT: '0',
      VOICEFLEET_CALENDAR_FILE: join(mkdtempSync(join(tmpdir(), 'voicefleet-calendar-')), 'calendar.json'),
      VOICEFLEET_TICKETS_FILE: join(mkdtempSync(join(tmpdir(), 'voicefleet-tickets-')), 'tickets.jsonl'),
      VOICEFLEET_OUTBOX_DIR: mkdtempSync(join(tmpdir(), 'voicefleet-outbox-')),
      ...env,
    });
    await worker.waitFor((l) => l.msg === 'registered worker', 90_000, 'worker registration');
    await worker.waitForEvent('job_process_ready', 90_000);
    return worker;
  }

  /**
   * The benchmark's stock peer (scripts/bench/stock-worker.ts: a starter-style agent with the
   * same providers), registered with the test stack and with a warm job process. `env` takes the
   * same keys as the worker: VOICEFLEET_AGENT_NAME, OPENAI_*, DEEPGRAM_*.
   */
  static async startStock(stack: TestStack, env: Record<string, string> = {}): Promise<WorkerProcess> {
    const worker = new WorkerProcess({ ...stack.env, VOICEFLEET_WORKER_HTTP_PORT: String(await freePort()), ...env }, ['scripts/bench/stock-worker.ts', 'start']);
    try {
      await worker.waitFor((l) => l.msg === 'registered worker', 90_000, 'stock worker registration');
      await worker.waitForEvent('job_process_ready', 90_000);
    } catch (error) {
      await worker.stop();
      throw error;
    }
    return worker;
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  #onLine(raw: string): void {
    let line: LogLine;
    try {
      line = JSON.parse(raw) as LogLine;
    } catch {
      line = { msg: raw };
    }
    this.lines.push(line);
    for (const waiter of this.#waiters) {
      if (waiter.test(line)) {
        this.#waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  }

  /** Resolves with the first line (already seen or future) that passes the test. */
  waitFor(test: (l: LogLine) => boolean, timeoutMs: number, what = 'log line'): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${this.tail(15)}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  waitForEvent(event: string, timeoutMs: number, extra: (l: LogLine) => boolean = () => true): Promise<LogLine> {
    return this.waitFor((l) => l.event === event && extra(l), timeoutMs, `event ${event}`);
  }

  countEvents(event: string): number {
    return this.lines.filter((l) => l.event === event).length;
  }

  tail(n: number): string {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l).slice(0, 300))
      .join('\n');
  }

  /** SIGTERM to the whole group, SIGKILL after the grace period. */
  stop(graceMs = 10_000): Promise<void> {
    return this.#process.stop(graceMs);
  }
}
