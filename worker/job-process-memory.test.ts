import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { leanJobProcessEnv } from './job-process-memory.js';

describe('leanJobProcessEnv', () => {
  it('adds a semi-space limit and an arena cap, keeping what the operator set', () => {
    const env: NodeJS.ProcessEnv = { NODE_OPTIONS: '--enable-source-maps' };
    leanJobProcessEnv(env, 2);
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps --max-semi-space-size=2');
    expect(env.MALLOC_ARENA_MAX).toBe('2');

    const operator: NodeJS.ProcessEnv = { NODE_OPTIONS: '--max-semi-space-size=8', MALLOC_ARENA_MAX: '4' };
    leanJobProcessEnv(operator, 2);
    expect(operator).toEqual({ NODE_OPTIONS: '--max-semi-space-size=8', MALLOC_ARENA_MAX: '4' });

    const nodeDefault: NodeJS.ProcessEnv = {};
    leanJobProcessEnv(nodeDefault, 0);
    expect(nodeDefault.NODE_OPTIONS).toBeUndefined();
  });

  it('reaches a child Node process: its young generation stays within the limit under a burst of short-lived objects', () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    leanJobProcessEnv(env, 2);
    // Audio-frame-like churn: many small objects, each alive for a moment; prints the new space's peak size.
    const burst = `const v8 = require('v8'); let keep = []; let peak = 0;
      for (let i = 0; i < 200000; i++) {
        keep.push(new Array(20).fill(i)); if (keep.length > 20000) keep = [];
        if (i % 1000 === 0) peak = Math.max(peak, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
      }
      console.log(peak);`;
    const peakMiB = (childEnv: NodeJS.ProcessEnv) => Number(execFileSync(process.execPath, ['-e', burst], { env: childEnv }).toString()) / 2 ** 20;
    const lean = peakMiB(env);
    const stock = peakMiB({ PATH: process.env.PATH });
    // Two semi-spaces of 2 MiB; Node's default lets them grow to 16 MiB each.
    expect(lean).toBeGreaterThan(0);
    expect(lean).toBeLessThanOrEqual(6);
    expect(stock).toBeGreaterThan(lean * 2);
  });
});
