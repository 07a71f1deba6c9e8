import { createWorkflow } from '../../agents/workflows.js';
import { DeepgramCompatibleServer } from '../../test/support/deepgram-compatible-server.js';
import { OpenAICompatibleServer } from '../../test/support/openai-compatible-server.js';

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
  private constructor(
    readonly set: ProviderSet,
    readonly env: Record<string, string>,
    readonly stt?: DeepgramCompatibleServer,
    readonly openai?: OpenAICompatibleServer,
  ) {}

  static async start(set: ProviderSet): Promise<BenchProviders> {
    if (set === 'offline') return new BenchProviders(set, {});
    const stt = await DeepgramCompatibleServer.start();
    stt.phrases = [...CALLER_LINES];
    stt.finalDelayMs = INJECTED_MS.sttFinal;
    const openai = await OpenAICompatibleServer.start(createWorkflow('receptionist'));
    openai.latency = { llmFirstTokenMs: INJECTED_MS.llmFirstToken, ttsFirstAudioMs: INJECTED_MS.ttsFirstAudio };
    // The stock agent greets through the LLM, as the starter does.
    openai.greetWhenAsked = true;
    return new BenchProviders(
      set,
      { OPENAI_API_KEY: 'sk-local-bench', OPENAI_BASE_URL: openai.baseURL, DEEPGRAM_API_KEY: 'dg-local-bench', DEEPGRAM_BASE_URL: stt.baseUrl },
      stt,
      openai,
    );
  }

  describe(): string {
    return this.set === 'injected'
      ? `Deepgram plugin -> local endpoint (final ${INJECTED_MS.sttFinal} ms after end of speech), OpenAI plugin -> local endpoint (LLM first token ${INJECTED_MS.llmFirstToken} ms, TTS first audio ${INJECTED_MS.ttsFirstAudio} ms)`
      : 'offline (silero VAD, pocketsphinx, workflow engine, flite)';
  }

  async close(): Promise<void> {
    await this.stt?.close();
    await this.openai?.close();
  }
}
