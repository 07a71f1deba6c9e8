import { APIConnectionError } from '@livekit/agents';
import { spawn } from 'node:child_process';

/**
 * Runs a local speech engine to completion with its output collected, killed at once when the
 * caller interrupts (abort), and a missing binary reported with the package that provides it.
 */
export async function runSpeechProcess(args: {
  binary: string;
  argv: string[];
  debianPackage: string;
  signal?: AbortSignal;
  stdin?: Buffer;
  onSpawn?: (pid: number) => void;
}): Promise<Buffer> {
  const { binary, argv, debianPackage, signal } = args;
  if (signal?.aborted) throw abortError();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, argv, { stdio: [args.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (child.pid !== undefined) args.onSpawn?.(child.pid);
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (args.stdin) child.stdin!.end(args.stdin);
    child.on('error', (error: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      const message =
        error.code === 'ENOENT'
          ? `${binary} not found: install the Debian package ${debianPackage} (scripts/setup does)`
          : `${binary} failed to start: ${error.message}`;
      reject(new APIConnectionError({ message, options: { retryable: false } }));
    });
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(abortError());
      if (code === 0) return resolve(Buffer.concat(out));
      const detail = Buffer.concat(err).toString('utf8').trim().slice(0, 300);
      reject(new APIConnectionError({ message: `${binary} exited with ${code ?? sig}: ${detail}` }));
    });
  });
}

function abortError(): Error {
  const error = new Error('speech synthesis aborted');
  error.name = 'AbortError';
  return error;
}
