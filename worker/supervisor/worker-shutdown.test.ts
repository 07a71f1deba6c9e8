import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { watchWorkerShutdownRequest } from './worker-shutdown.js';


describe('watchWorkerShutdownRequest', () => {
  it("notes the worker's shutdown request and nothing else", () => {
    const proc = new EventEmitter();
    const seen = watchWorkerShutdownRequest(() => undefined, proc as unknown as NodeJS.Process);
    proc.emit('message', { case: 'pingRequest', value: {} });
    proc.emit('message', 'shutdownRequest');
    expect(seen.requested).toBe(false);
    proc.emit('message', { case: 'shutdownRequest', value: { reason: 'shutdown request' } });
    expect(seen.requested).toBe(true);
  });

  it('tells once when the worker is gone (its IPC channel closed)', () => {
    const proc = new EventEmitter();
    let told = 0;
    const seen = watchWorkerShutdownRequest(() => void (told += 1), proc as unknown as NodeJS.Process);
    proc.emit('disconnect');
    proc.emit('disconnect');
    expect(told).toBe(1);
    expect(seen.requested).toBe(true);
  });
});
