import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports CPU time in clock ticks and RSS in pages; both are fixed on x86-64 Debian. */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

interface GroupReading {
  /** CPU seconds so far of each live process in the group, by pid. */
  cpuSeconds: Map<number, number>;
  rssBytes: number;
  /**
   * Proportional set size: each process's private pages plus its share of pages it maps with
   * others (the Node binary, rtc-node's and onnxruntime's libraries, which every job process
   * maps). RSS counts those shared pages once per process; PSS is what the group really holds.
   */
  pssBytes: number;
  processes: number;
}

/** CPU time and resident memory of every process in one process group, read from /proc. */
export function readProcessGroup(pgid: number): GroupReading {
  const cpuSeconds = new Map<number, number>();
  let pages = 0;
  let pssKiB = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name: state ppid pgrp ... utime(11) stime(12) ... rss(21).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      cpuSeconds.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
      pages += Number(fields[21]);
      pssKiB += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited while we looked
    }
  }
  return { cpuSeconds, rssBytes: pages * PAGE_BYTES, pssBytes: pssKiB * 1024, processes: cpuSeconds.size };
}

/**
 * CPU a changing group used over a window: each process from its first reading to its last. A
 * group total would drop when a job process exits (its time leaves the sum) and jump by the
 * whole life of one forked in the window; per process, neither happens.
 */
export class GroupCpu {
  readonly #first = new Map<number, number>();
  readonly #last = new Map<number, number>();

  add(reading: GroupReading): void {
    for (const [pid, seconds] of reading.cpuSeconds) {
      if (!this.#first.has(pid)) this.#first.set(pid, seconds);
      this.#last.set(pid, seconds);
    }
  }

  get seconds(): number {
    let total = 0;
    for (const [pid, last] of this.#last) total += last - this.#first.get(pid)!;
    return total;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat), for its load over a window. */
function readMachineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface UsageSummary {
  /** CPU cores the group used on average over the window (1 = one core busy). */
  cpuCores: number;
  /** Highest resident memory of the group seen, MiB. */
  peakRssMiB: number;
  /**
   * That peak less the group's memory before the callers joined (the worker, its inference
   * process and its warm job processes): what the calls themselves added, MiB.
   */
  addedRssMiB: number;
  /** The same for the group's proportional set size (shared pages split between their users). */
  addedPssMiB: number;
  /** Fraction of the whole machine's CPU busy over the window (every process, not only ours). */
  machineLoad: number;
  seconds: number;
}

/** Samples a process group while a phase of the benchmark runs. */
export class ProcessGroupSampler {
  readonly #pgid: number;
  #timer?: NodeJS.Timeout;
  #start?: { at: number; machine: { busy: number; total: number } };
  #cpu = new GroupCpu();
  #peakRss = 0;
  #idleRss = NaN;
  #peakPss = 0;
  #idlePss = NaN;

  constructor(pgid: number) {
    this.#pgid = pgid;
  }

  /** The group's memory now, before any caller joins: the base `addedRssMiB` is measured from. */
  markIdle(): void {
    const idle = readProcessGroup(this.#pgid);
    this.#idleRss = idle.rssBytes;
    this.#idlePss = idle.pssBytes;
  }

  start(everyMs = 250): void {
    const reading = readProcessGroup(this.#pgid);
    this.#start = { at: performance.now(), machine: readMachineCpu() };
    this.#cpu = new GroupCpu();
    this.#cpu.add(reading);
    this.#peakRss = reading.rssBytes;
    this.#peakPss = reading.pssBytes;
    this.#timer = setInterval(() => {
      const now = readProcessGroup(this.#pgid);
      this.#cpu.add(now);
      this.#peakRss = Math.max(this.#peakRss, now.rssBytes);
      this.#peakPss = Math.max(this.#peakPss, now.pssBytes);
    }, everyMs);
  }

  stop(): UsageSummary {
    clearInterval(this.#timer);
    const start = this.#start;
    if (!start) throw new Error('ProcessGroupSampler.stop() before start()');
    const end = readProcessGroup(this.#pgid);
    this.#cpu.add(end);
    const machine = readMachineCpu();
    const seconds = (performance.now() - start.at) / 1000;
    this.#peakRss = Math.max(this.#peakRss, end.rssBytes);
    this.#peakPss = Math.max(this.#peakPss, end.pssBytes);
    return {
      cpuCores: this.#cpu.seconds / seconds,
      peakRssMiB: this.#peakRss / 2 ** 20,
      addedRssMiB: (this.#peakRss - this.#idleRss) / 2 ** 20,
      addedPssMiB: (this.#peakPss - this.#idlePss) / 2 ** 20,
      machineLoad: (machine.busy - start.machine.busy) / Math.max(1, machine.total - start.machine.total),
      seconds,
    };
  }
}
