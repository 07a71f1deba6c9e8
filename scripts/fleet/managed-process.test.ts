import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../test/support/process-tree.js';

describe('stopChildrenOnSignal', () => {
  it('a harness sent SIGTERM stops the children it started in their own process groups', async () => {
    // A harness in miniature: one detached child (as redis-server is in the bench), then it waits.
    const script = `
      import { ManagedProcess, stopChildrenOnSignal } from './scripts/fleet/managed-process.ts';
      stopChildrenOnSignal(2000);
      const child = new ManagedProcess({ name: 'sleeper', command: 'sleep', args: ['60'], onLine: () => {} });
      console.log(JSON.stringify({ child: child.pid }));
      setInterval(() => {}, 1000);
    `;
    const harness = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const [line] = (await once(createInterface({ input: harness.stdout! }), 'line')) as [string];
    const { child } = JSON.parse(line) as { child: number };
    expect(isAlive(child)).toBe(true);
    harness.kill('SIGTERM');
    const [code] = (await once(harness, 'exit')) as [number | null];
    expect(code).toBe(143);
    expect(isAlive(child)).toBe(false);
  });
});
