import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow } from '../agents/workflows.js';
import { Caller } from '../worker/testing/caller.js';
import { startTestStack, type TestStack } from './support/servers.js';
import { WorkerProcess } from './support/worker-process.js';

const WORKERS = 3;
const CALLS = 9;
const CALLS_PER_WORKER = 3;

/**
 * Local scale-out: three worker processes registered under one agent name on one livekit-server,
 * nine callers at once. Every caller is answered, and no worker takes more calls than its slots:
 * a worker refuses a job request beyond them at once, and livekit-server offers it to another.
 */
describe('scale-out over several workers', () => {
  let stack: TestStack;
  const workers: WorkerProcess[] = [];
  const agentName = `vf-scale-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    stack = await startTestStack();
    for (let i = 0; i < WORKERS; i++) {
      workers.push(
        await WorkerProcess.startRegistered(stack, {
          VOICEFLEET_AGENT_NAME: agentName,
          VOICEFLEET_MAX_CALLS_PER_WORKER: String(CALLS_PER_WORKER),
          VOICEFLEET_MAX_HELD_CALLS_PER_WORKER: '0',
        }),
      );
    }
  }, 300_000);

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await stack?.stop();
  });

  it(`answers ${CALLS} simultaneous callers, spread over the workers within their slots`, async () => {
    const greeting = createWorkflow('receptionist').greeting();
    const callers = await Promise.all(
      Array.from({ length: CALLS }, () =>
        Caller.join({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, agentName, metadata: '{"workflow":"receptionist"}' }),
      ),
    );
    try {
      const greetings = await Promise.all(callers.map((caller) => caller.greeting(120_000)));
      expect(greetings.map((g) => g.text)).toEqual(Array(CALLS).fill(greeting));
      const callsPerWorker = workers.map((worker) => callers.filter((c) => worker.lines.some((l) => l.event === 'call_started' && l.room === c.roomName)).length);
      expect(callsPerWorker.reduce((a, b) => a + b, 0)).toBe(CALLS);
      expect(callsPerWorker.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
      for (const n of callsPerWorker) expect(n).toBeLessThanOrEqual(CALLS_PER_WORKER);
      console.log(`calls per worker: ${callsPerWorker.join(', ')}`);
    } finally {
      await Promise.all(callers.map((caller) => caller.hangUp()));
    }
  }, 240_000);
});
