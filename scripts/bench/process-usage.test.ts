import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GroupCpu, readProcessGroup } from './process-usage.js';

const reading = (cpu: Record<number, number>) => ({ cpuSeconds: new Map(Object.entries(cpu).map(([pid, s]) => [Number(pid), s])), rssBytes: 0, pssBytes: 0, processes: 0 });

describe('GroupCpu', () => {
  it('keeps the time of a process that exited and counts one forked in the window from its first reading', () => {
    const cpu = new GroupCpu();
    cpu.add(reading({ 10: 5, 11: 40 }));
    // 11 (a job process with 40 s behind it) exits; 12 is forked with 2 s of warm-up already.
    cpu.add(reading({ 10: 6, 11: 41, 12: 2 }));
    cpu.add(reading({ 10: 7, 12: 3 }));
    expect(cpu.seconds).toBeCloseTo(2 + 1 + 1, 6);
  });

  it('reads the real CPU time of a busy process group', async () => {
    // A process group of its own that spins for half a second.
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 600; while (Date.now() < end);'], { detached: true, stdio: 'ignore' });
    const cpu = new GroupCpu();
    cpu.add(readProcessGroup(child.pid!));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const poll = setInterval(() => cpu.add(readProcessGroup(child.pid!)), 50);
    await exited;
    clearInterval(poll);
    expect(cpu.seconds).toBeGreaterThan(0.2);
    expect(cpu.seconds).toBeLessThan(2);
  });

  it('reads a group\'s proportional memory: no more than its resident memory, and the memory a process filled', async () => {
    // 64 MiB written (so resident and private), then held.
    const child = spawn(process.execPath, ['-e', 'const b = Buffer.alloc(64 * 2 ** 20, 1); setInterval(() => b[0]++, 100);'], { detached: true, stdio: 'ignore' });
    try {
      let reading = readProcessGroup(child.pid!);
      const deadline = Date.now() + 10_000;
      while (reading.pssBytes < 64 * 2 ** 20 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        reading = readProcessGroup(child.pid!);
      }
      expect(reading.pssBytes).toBeGreaterThanOrEqual(64 * 2 ** 20);
      expect(reading.pssBytes).toBeLessThanOrEqual(reading.rssBytes);
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
  });
});
