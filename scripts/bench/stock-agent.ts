import { defineAgent, type JobContext, type JobProcess, llm, stt, tts, voice, type VAD } from '@livekit/agents';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import * as openai from '@livekit/agents-plugin-openai';
import * as silero from '@livekit/agents-plugin-silero';
import { createWorkflow } from '../../agents/workflows.js';
import { loadConfig, type Config } from '../../worker/config.js';
import { createLogger } from '../../worker/log.js';
import { observeSession } from '../../worker/session-observer.js';
import { CALLER_CORPUS } from '../../worker/providers/local/caller-corpus.js';
import { LocalTTS } from '../../worker/providers/local/local-tts.js';
import { PocketsphinxSTT } from '../../worker/providers/local/pocketsphinx-stt.js';
import { WorkflowLLM } from '../../worker/providers/workflow-llm.js';

/**
 * The benchmark's peer: the agent a LiveKit user starts from (livekit-examples/agent-starter-node
 * shape: Silero VAD prewarmed, a default AgentSession, one Agent with plain instructions, a
 * generated greeting), run with the same providers voicefleet gets, so the harness can report
 * voicefleet / stock ratios. Nothing here is tuned on purpose: default turn handling, default
 * endpointing (min 500 / max 3000 ms), the framework's default end-of-turn detector (the local
 * model in @livekit/agents 1.9; the starter's MultilingualModel needs a Hugging Face download,
 * which this machine cannot make), no fallback adapters, no stall guards.
 *
 * It reads the same environment as the worker (worker/config.ts): LIVEKIT_*, VOICEFLEET_AGENT_NAME,
 * OPENAI_API_KEY / OPENAI_BASE_URL / OPENAI_*_MODEL, DEEPGRAM_API_KEY / DEEPGRAM_BASE_URL. Without
 * keys it runs the offline stack (pocketsphinx, the receptionist workflow engine, flite).
 */
export const STOCK_INSTRUCTIONS = 'You are a helpful voice AI assistant.';

interface StockProcessData extends Record<string, unknown> {
  vad: VAD;
  recognizer: PocketsphinxSTT;
}

/** The same providers voicefleet's worker would choose from this config, minus its guards. */
export function stockProviders(config: Config, vad: VAD, recognizer: PocketsphinxSTT): { stt: stt.STT; llm: llm.LLM; tts: tts.TTS; cloudLLM: boolean } {
  return {
    stt: config.DEEPGRAM_API_KEY
      ? new deepgram.STT({ apiKey: config.DEEPGRAM_API_KEY, model: config.DEEPGRAM_STT_MODEL, baseUrl: config.DEEPGRAM_BASE_URL })
      : new stt.StreamAdapter(recognizer, vad),
    llm: config.OPENAI_API_KEY
      ? new openai.LLM({ model: config.OPENAI_LLM_MODEL, apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL })
      : new WorkflowLLM(createWorkflow('receptionist')),
    tts: config.OPENAI_API_KEY
      ? new openai.TTS({ model: config.OPENAI_TTS_MODEL, voice: config.OPENAI_TTS_VOICE as openai.TTSVoices, apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL })
      : new LocalTTS({ engine: config.VOICEFLEET_LOCAL_TTS, sampleRate: 16000 }),
    cloudLLM: Boolean(config.OPENAI_API_KEY),
  };
}

export default defineAgent({
  prewarm: async (proc: JobProcess) => {
    const startedAt = Date.now();
    const config = loadConfig();
    proc.userData.vad = await silero.VAD.load();
    const recognizer = new PocketsphinxSTT({ corpus: CALLER_CORPUS });
    proc.userData.recognizer = recognizer;
    // The offline recognizer is only used without a Deepgram key; its warm-up is the same cost
    // voicefleet's job processes pay, so start-up stays comparable.
    if (!config.DEEPGRAM_API_KEY) await recognizer.warm();
    createLogger(config.LOG_LEVEL, { role: 'stock-job-process' }).info(
      { event: 'job_process_ready', prewarmMs: Date.now() - startedAt },
      'job process ready for a call',
    );
  },

  entry: async (ctx: JobContext) => {
    const config = loadConfig();
    const { vad, recognizer } = ctx.proc.userData as StockProcessData;
    const providers = stockProviders(config, vad, recognizer);
    const session = new voice.AgentSession({ vad, stt: providers.stt, llm: providers.llm, tts: providers.tts });
    // The starter logs the session's metrics; here they go out in voicefleet's line shape, so the
    // harness reads both agents' stage latencies the same way. Observation only.
    observeSession({ session, log: createLogger(config.LOG_LEVEL, { role: 'stock-agent', room: ctx.job.room?.name }), startedAt: Date.now() });
    await session.start({ agent: new voice.Agent({ instructions: STOCK_INSTRUCTIONS }), room: ctx.room });
    await ctx.connect();
    // The starter greets through the LLM. The workflow engine cannot follow an instruction, so
    // offline the stock agent speaks the same greeting voicefleet's receptionist does.
    if (providers.cloudLLM) session.generateReply({ instructions: 'Greet the user and offer your assistance.' });
    else session.say(createWorkflow('receptionist').greeting());
  },
});
