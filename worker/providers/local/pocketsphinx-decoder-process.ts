import { APIConnectionError } from '@livekit/agents';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const DECODER_SCRIPT = fileURLToPath(new URL('./pocketsphinx_decoder.py', import.meta.url));
/** Debian's python3-pocketsphinx is importable only by the system interpreter, not pyenv's. */
const SYSTEM_PYTHON = '/usr/bin/python3';

export interface Hypothesis {
  text: string;
  score: number;
  ms: number;
}

export interface DecoderProcessOptions {
  /** Domain sentences for a small language model; omit for the stock 130k-word model. */
  corpus?: readonly string[];
  /** A JSGF grammar instead of a language model (forces speech onto its phrases). */
  jsgf?: string;
  python?: string;
}

interface Pending {
  resolve: (line: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

/**
 * One long-lived pocketsphinx decoder (a Python child process): the model loads once per call,
 * and each utterance costs only its decode. Requests are answered strictly in order, so an
 * aborted request still consumes its answer and the stream never gets out of step.
 */
export class DecoderProcess {
  readonly #options: DecoderProcessOptions;
  #child?: ChildProcess;
  #workdir?: string;
  readonly #pending: Pending[] = [];
  #stderr = '';

  constructor(options: DecoderProcessOptions = {}) {
    this.#options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the process if needed and resolves once its model is loaded. */
  async ready(): Promise<void> {
    await this.#request(Buffer.alloc(0));
  }

  async decode(pcm16k: Int16Array): Promise<Hypothesis> {
    const line = await this.#request(Buffer.from(pcm16k.buffer, pcm16k.byteOffset, pcm16k.byteLength));
    return { text: String(line.text ?? ''), score: Number(line.score ?? 0), ms: Number(line.ms ?? 0) };
  }

  close(): void {
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null) child.kill('SIGKILL');
    this.#failPending(new APIConnectionError({ message: 'pocketsphinx decoder closed' }));
    if (this.#workdir) rmSync(this.#workdir, { recursive: true, force: true });
    this.#workdir = undefined;
  }

  #request(payload: Buffer): Promise<Record<string, unknown>> {
    const child = this.#child ?? this.#start();
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      const header = Buffer.alloc(4);
      header.writeUInt32LE(payload.length, 0);
      child.stdin!.write(Buffer.concat([header, payload]));
    });
  }

  #start(): ChildProcess {
    const argv = [DECODER_SCRIPT];
    if (this.#options.jsgf || this.#options.corpus) {
      this.#workdir = mkdtempSync(join(tmpdir(), 'voicefleet-stt-'));
      if (this.#options.jsgf) {
        writeFileSync(join(this.#workdir, 'grammar.jsgf'), this.#options.jsgf);
        argv.push('--jsgf', join(this.#workdir, 'grammar.jsgf'));
      } else {
        writeFileSync(join(this.#workdir, 'corpus.txt'), this.#options.corpus!.join('\n'));
        argv.push('--corpus', join(this.#workdir, 'corpus.txt'));
      }
    }
    const child = spawn(this.#options.python ?? SYSTEM_PYTHON, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    this.#stderr = '';
    child.stdin!.on('error', () => undefined); // a dead child surfaces through 'exit' below
    child.stderr!.on('data', (b: Buffer) => {
      this.#stderr = (this.#stderr + b.toString('utf8')).slice(-2000);
    });
    createInterface({ input: child.stdout! }).on('line', (raw) => {
      const waiter = this.#pending.shift();
      if (!waiter) return;
      try {
        waiter.resolve(JSON.parse(raw) as Record<string, unknown>);
      } catch {
        waiter.reject(new APIConnectionError({ message: `pocketsphinx decoder sent garbage: ${raw.slice(0, 100)}` }));
      }
    });
    const onGone = (reason: string) => {
      if (this.#child === child) this.#child = undefined;
      const detail = this.#stderr.trim().split('\n').slice(-3).join(' | ');
      this.#failPending(new APIConnectionError({ message: `pocketsphinx decoder ${reason}${detail ? `: ${detail}` : ''}` }));
    };
    child.on('error', (error) => onGone(`failed to start (${error.message}); install python3-pocketsphinx`));
    child.on('exit', (code, signal) => onGone(`exited (${code ?? signal})`));
    return child;
  }

  #failPending(error: Error): void {
    for (const waiter of this.#pending.splice(0)) waiter.reject(error);
  }
}
