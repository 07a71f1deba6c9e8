import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { providerDeadline } from './provider-deadline.js';

/** Keeps the event loop from running, as a host starved of CPU does. */
function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

describe('providerDeadline', () => {
  it('expires after its time when the process is free to notice an answer', async () => {
    const started = performance.now();
    await providerDeadline(300).expired;
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(1000);
  });

  it('does not count a stretch the event loop was blocked, and reads an answer that arrived meanwhile first', async () => {
    const deadline = providerDeadline(300);
    // The provider (another process, over a pipe) answers 100 ms in, but this process cannot run
    // for 1.5 s, five times the deadline, from 20 ms in: it is busy in an I/O callback, as it is
    // with the call's audio. A plain timer fires first once the loop runs again: timers run
    // before the loop polls for I/O.
    const provider = spawn('sh', ['-c', 'sleep 0.1; echo answer']);
    const answer = new Promise<'answer'>((resolve) => provider.stdout.once('data', () => resolve('answer')));
    const busy = spawn('sh', ['-c', 'sleep 0.02; echo go']);
    busy.stdout.once('data', () => blockLoop(1500));
    const first = await Promise.race([answer, deadline.expired.then(() => 'expired' as const)]);
    deadline.cancel();
    expect(first).toBe('answer');
  });

  it('still expires for a provider that never answers while the loop keeps being blocked', async () => {
    const started = performance.now();
    const deadline = providerDeadline(300);
    // Blocked 400 ms of every 450.
    const blocker = setInterval(() => blockLoop(400), 50);
    try {
      await deadline.expired;
    } finally {
      clearInterval(blocker);
    }
    // Blocked stretches count as ticks, so the deadline comes within a few of them: a stalled
    // provider on a starved host is still given up on.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
