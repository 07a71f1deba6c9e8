/**
 * The fixes in patches/ that the framework does not ship yet. Each test fails on the unpatched
 * package, so an upgrade that drops a patch shows here before it shows as a leak in production.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readStream } from '@livekit/agents';
import { describe, expect, it } from 'vitest';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A stream of `count` chunks whose first `tracked` are watched for collection. */
function chunkStream(count: number, tracked: number, refs: WeakRef<object>[]): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === count) return controller.close();
      const chunk = new Uint8Array(960);
      if (sent < tracked) refs.push(new WeakRef(chunk));
      sent++;
      controller.enqueue(chunk);
    },
  });
}

async function settleAndCollect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

describe('readStream (agents-js #2046)', () => {
  it('lets go of each chunk once the loop has moved past it, while its signal is still live', async () => {
    // The STT input pump reads a call's audio through readStream for the whole call, with a
    // signal that aborts only at the end: every frame it retained was memory held until hang-up.
    const refs: WeakRef<object>[] = [];
    const live = new AbortController();
    let read = 0;
    for await (const chunk of readStream(chunkStream(3000, 100, refs), live.signal)) {
      read += chunk.length > 0 ? 1 : 0;
      if (read === 2000) break;
    }
    await settleAndCollect();
    expect(read).toBe(2000);
    expect(live.signal.aborted).toBe(false);
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });

  it('still ends at once when its signal aborts with a read pending', async () => {
    const controller = new AbortController();
    const never = new ReadableStream<number>({ pull: () => new Promise(() => undefined) });
    const seen: number[] = [];
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    for await (const value of readStream(never, controller.signal)) seen.push(value);
    expect(seen).toEqual([]);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('yields every chunk in order and stops at the end of the stream', async () => {
    const values: number[] = [];
    const source = new ReadableStream<number>({
      start(controller) {
        for (let i = 0; i < 50; i++) controller.enqueue(i);
        controller.close();
      },
    });
    for await (const value of readStream(source, new AbortController().signal)) values.push(value);
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
