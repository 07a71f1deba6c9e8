import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { compiledEntry } from '../../worker/project-root.js';

/** What each scripted caller says, turn by turn: receptionist questions the engine answers itself. */
export const CALLER_LINES = ['what are your opening hours', 'where are you located', 'what time do you close'] as const;

/** The fixed provider latencies of the `injected` set (issue 6: STT final, LLM first token, TTS first audio). */
export const INJECTED_MS = { sttFinal: 100, llmFirstToken: 300, ttsFirstAudio: 150 } as const;

export type ProviderSet = 'injected' | 'offline';

/**
 * The providers both agents of a latency run get. `injected`: the real Deepgram and OpenAI
 * plugins pointed at local endpoints with fixed delays, so what is left of voice-to-voice is the
 * fleet's own doing. `offline`: the default stack (pocketsphinx, workflow engine, flite), nothing
 * to point anywhere.
 */
export class BenchProviders {
  /** End of speech -> final transcript sent, per utterance, as the STT endpoint measured it. */
  sttDelaysMs: number[] = [];

  private constructor(
    readonly set: ProviderSet,
    readonly env: Record<string, string>,
    readonly stubs?: ProviderStubs,
  ) {}

  static async start(set: ProviderSet): Promise<BenchProviders> {
    if (set === 'offline') return new BenchProviders(set, {});
    const stubs = await ProviderStubs.start();
    return new BenchProviders(set, stubs.env, stubs);
  }

  describe(): string {
    return this.set === 'injected'
      ? `Deepgram plugin -> local endpoint (final ${INJECTED_MS.sttFinal} ms after end of speech), OpenAI plugin -> local endpoint (LLM first token ${INJECTED_MS.llmFirstToken} ms, TTS first audio ${INJECTED_MS.ttsFirstAudio} ms); both in a process of their own`
      : 'offline (silero VAD, pocketsphinx, workflow engine, flite)';
  }

  /** Fetches the STT endpoint's measured delays (into `sttDelaysMs`), then stops the endpoints. */
  async close(): Promise<void> {
    if (!this.stubs || this.#closed) return;
    this.#closed = true;
    this.sttDelaysMs = await this.stubs.report().catch(() => []);
    await this.stubs.close();
  }

  #closed = false;
}

/** The child process of provider-stubs-main.ts, spoken to over its stdio. */
class ProviderStubs {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  private constructor(child: ChildProcess, readonly env: Record<string, string>, lines: AsyncIterator<string>) {
    this.#child = child;
    this.#lines = lines;
  }

  static async start(): Promise<ProviderStubs> {
    const child = spawn(process.execPath, [compiledEntry('scripts/bench/provider-stubs-main.ts')], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    // A stub process that dies mid-run shows up as failed turns, not as a crash of the harness.
    child.stdin!.on('error', () => undefined);
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await Promise.race([
      lines.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('provider stubs did not start within 30 s')), 30_000).unref()),
    ]);
    if (first.done) throw new Error('provider stubs exited before listening');
    const { env } = JSON.parse(first.value) as { env: Record<string, string> };
    return new ProviderStubs(child, env, lines);
  }

  async report(): Promise<number[]> {
    this.#child.stdin!.write('report\n');
    const line = await this.#lines.next();
    return line.done ? [] : (JSON.parse(line.value) as { sttDelaysMs: number[] }).sttDelaysMs;
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.stdin!.end('close\n');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
