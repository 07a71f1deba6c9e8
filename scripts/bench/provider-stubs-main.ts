import { createInterface } from 'node:readline';
import { createWorkflow } from '../../agents/workflows.js';
import { DeepgramCompatibleServer } from '../../test/support/deepgram-compatible-server.js';
import { OpenAICompatibleServer } from '../../test/support/openai-compatible-server.js';
import { CALLER_LINES, INJECTED_MS } from './latency-providers.js';

/**
 * The injected-latency providers in a process of their own (started by latency-providers.ts).
 * In the harness's process they shared one event loop with every caller's audio, and at four
 * callers their "150 ms" answers took over 1.5 s: the fixed latencies were not fixed.
 *
 * Protocol on stdio, one JSON line each: it prints {"env": {...}} once listening; "report" on
 * stdin prints {"sttDelaysMs": [...]}; "close" (or the end of stdin) closes both and exits.
 */
async function main(): Promise<void> {
  const stt = await DeepgramCompatibleServer.start();
  stt.phrases = [...CALLER_LINES];
  stt.finalDelayMs = INJECTED_MS.sttFinal;
  const openai = await OpenAICompatibleServer.start(createWorkflow('receptionist'));
  openai.latency = { llmFirstTokenMs: INJECTED_MS.llmFirstToken, ttsFirstAudioMs: INJECTED_MS.ttsFirstAudio };
  // The stock agent greets through the LLM, as the starter does.
  openai.greetWhenAsked = true;
  const close = async () => {
    await stt.close();
    await openai.close();
    process.exit(0);
  };
  const commands = createInterface({ input: process.stdin });
  commands.on('line', (line) => {
    if (line.trim() === 'report') process.stdout.write(`${JSON.stringify({ sttDelaysMs: stt.sttDelaysMs })}\n`);
    if (line.trim() === 'close') void close();
  });
  commands.on('close', () => void close());
  process.stdout.write(
    `${JSON.stringify({ env: { OPENAI_API_KEY: 'sk-local-bench', OPENAI_BASE_URL: openai.baseURL, DEEPGRAM_API_KEY: 'dg-local-bench', DEEPGRAM_BASE_URL: stt.baseUrl } })}\n`,
  );
}

void main();
