import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Receives each output line; defaults to printing it with a `[name]` prefix. */
  onLine?: (line: string, name: string) => void;
}

/**
 * A child started in its own process group, so that stopping it also stops whatever it forked
 * (an agent worker's job processes), and nothing is ever signalled by name.
 */
export class ManagedProcess {
  /** Every child not yet exited, so a signalled parent can stop them (stopChildrenOnSignal). */
  static readonly live = new Set<ManagedProcess>();
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stopping = false;

  constructor(options: ManagedProcessOptions) {
    this.name = options.name;
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const onLine = options.onLine ?? ((line, name) => console.log(`[${name}] ${line}`));
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => onLine(line, this.name));
    }
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
      this.child.on('error', () => resolve({ code: 127, signal: null }));
    });
    ManagedProcess.live.add(this);
    void this.exited.then(() => ManagedProcess.live.delete(this));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** True once stop() was called: an exit after that is expected, not a failure. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** SIGTERM to the group, SIGKILL after the grace period; resolves when the child is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    const pid = this.child.pid;
    if (pid === undefined) return;
    if (this.running) {
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await Promise.race([this.exited, once(this.child, 'exit')]);
      clearTimeout(timer);
    }
    // Grandchildren that ignored SIGTERM must not outlive the fleet.
    signalGroup(pid, 'SIGKILL');
  }
}

let stopOnSignalInstalled = false;

/**
 * Ctrl-C or SIGTERM to a harness (bench, chaos) stops every child it started before it exits.
 * The children run in process groups of their own, so the terminal's signal never reaches them,
 * and without this a killed harness left its redis-server and workers running.
 */
export function stopChildrenOnSignal(graceMs = 5_000): void {
  if (stopOnSignalInstalled) return;
  stopOnSignalInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping ${ManagedProcess.live.size} child process(es)\n`);
      void Promise.allSettled([...ManagedProcess.live].map((p) => p.stop(graceMs))).then(() =>
        process.exit(signal === 'SIGINT' ? 130 : 143),
      );
    });
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
