import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string; event?: string };

/**
 * An agent worker (`worker/main.ts start`) run as a real child process, with its structured log
 * lines collected so tests can wait for call events the way an operator reads them.
 */
export class WorkerProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly #child: ChildProcess;
  readonly #waiters = new Set<{ test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();

  private constructor(child: ChildProcess) {
    this.#child = child;
    createInterface({ input: child.stdout! }).on('line', (raw) => this.#onLine(raw));
    createInterface({ input: child.stderr! }).on('line', (raw) => {
      this.stderr.push(raw);
      this.#onLine(raw);
    });
  }

  static start(env: Record<string, string>): WorkerProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts', 'start'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so stop() also reaches the job processes it forked.
      detached: true,
    });
    return new WorkerProcess(child);
  }

  get pid(): number | undefined {
    return this.#child.pid;
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
  async stop(graceMs = 10_000): Promise<void> {
    const pid = this.#child.pid;
    if (pid === undefined || this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = once(this.#child, 'exit');
    signalGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    // Job processes can outlive their parent for a moment; the group kill makes sure they do not.
    signalGroup(pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}
