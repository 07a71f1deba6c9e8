/**
 * Whether this job process's worker asked it to stop, or is gone. The framework sends the job a
 * `shutdownRequest` over IPC when the worker closes (its drain timeout ran out, or it was told to
 * stop) and gives the job's own code no other sign; a worker killed outright just closes the IPC
 * channel, and the framework would let its orphaned job talk on for 15 s before it exits. A call
 * that ends for either reason while the caller is still on the line is not over: it is handed to
 * the supervisor to carry on with another worker.
 */
export function watchWorkerShutdownRequest(onWorkerGone: () => void, proc: NodeJS.Process = process): { readonly requested: boolean } {
  const seen = { requested: false };
  proc.on('message', (message: unknown) => {
    if (message && typeof message === 'object' && (message as { case?: unknown }).case === 'shutdownRequest') seen.requested = true;
  });
  proc.once('disconnect', () => {
    seen.requested = true;
    onWorkerGone();
  });
  return seen;
}
