/** How often a deadline looks at the clock; a blocked event loop counts as at most two of these. */
const TICK_MS = 50;

export interface ProviderDeadline {
  /** Resolves once the provider has had its time. */
  readonly expired: Promise<void>;
  cancel(): void;
}

/**
 * A deadline for a provider's answer, counted in time this process could have noticed the answer.
 * A stretch where the event loop did not run (a host starved of CPU, a long synchronous task)
 * counts as one tick, not its length: on a loaded host a wall-clock deadline fails a provider
 * whose answer is sitting unread in a socket, and the fallback it hands over to (a local engine)
 * needs more of the CPU the host lacks. When the time is up, I/O already waiting is read first.
 */
export function providerDeadline(ms: number): ProviderDeadline {
  let interval: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const expired = new Promise<void>((resolve) => {
    let waited = 0;
    let last = performance.now();
    interval = setInterval(() => {
      const now = performance.now();
      waited += Math.min(now - last, 2 * TICK_MS);
      last = now;
      if (waited < ms) return;
      clearInterval(interval);
      // The check phase runs after the poll phase: an answer that arrived meanwhile is seen first.
      immediate = setImmediate(resolve);
    }, TICK_MS);
  });
  return {
    expired,
    cancel() {
      clearInterval(interval);
      if (immediate) clearImmediate(immediate);
    },
  };
}
