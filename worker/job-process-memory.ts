/**
 * Every call runs in a Node process of its own (the framework forks one per job), so what one
 * process costs is what one call costs. Two settings cut it, and both must be in place before a
 * process starts: the framework forks job processes (and its inference process) with the
 * worker's environment, so the worker writes them into its own environment before the first fork.
 *
 * - A small V8 young generation: the default semi-spaces grow to 16 MiB each and stay resident.
 * - MALLOC_ARENA_MAX=2: glibc gives each thread that allocates (rtc-node's Rust runtime,
 *   onnxruntime) an arena of its own, up to 8 per core, and memory freed in one is not returned.
 *
 * Whatever the operator set already (a semi-space flag in NODE_OPTIONS, MALLOC_ARENA_MAX) wins.
 */
export function leanJobProcessEnv(env: NodeJS.ProcessEnv, semiSpaceMb: number): void {
  const nodeOptions = env.NODE_OPTIONS ?? '';
  if (semiSpaceMb > 0 && !/--max-semi-space-size\b/.test(nodeOptions)) {
    env.NODE_OPTIONS = `${nodeOptions} --max-semi-space-size=${semiSpaceMb}`.trim();
  }
  env.MALLOC_ARENA_MAX ??= '2';
}
