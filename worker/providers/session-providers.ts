import { llm, stt, tts, type VAD } from '@livekit/agents';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import * as openai from '@livekit/agents-plugin-openai';
import type { Workflow, WorkflowReply } from '../../agents/workflows.js';
import type { Config } from '../config.js';
import { LocalTTS } from './local/local-tts.js';
import { openAIClient } from './openai-client.js';
import type { PocketsphinxSTT } from './local/pocketsphinx-stt.js';
import { ReplayingFallbackSTT } from './replaying-fallback-stt.js';
import { StallGuardLLM } from './stall-guard-llm.js';
import { StallGuardSTT, type CallerSpeech } from './stall-guard-stt.js';
import { StallGuardTTS } from './stall-guard-tts.js';
import { WorkflowLLM } from './workflow-llm.js';

/**
 * The speech stack of one call. Cloud providers lead when their keys are set; the offline stack
 * always stands last behind them, so a cloud outage degrades the voice instead of ending the call.
 */
export interface SessionProviders {
  stt: stt.STT;
  tts: tts.TTS;
}

export interface ProviderInputs {
  config: Config;
  vad: VAD;
  /** The local recognizer, warmed up by the job process before the call arrived. */
  recognizer: PocketsphinxSTT;
  /** Phone audio is 8 kHz narrowband; the local recognizer needs a model tuned for it. */
  narrowband: boolean;
  /** Fed by the job from the session's VAD: a cloud STT must answer the speech it is sent. */
  callerSpeech: CallerSpeech;
}

/**
 * The LLM of one workflow's agent (each agent of a call has its own): OpenAI (or any OpenAI-compatible endpoint) when a key is set, with the
 * scripted workflow engine behind it; the engine alone otherwise.
 */
export function buildLLM(
  config: Config,
  workflow: Workflow,
  onReply?: (reply: WorkflowReply) => void,
): { llm: llm.LLM; workflowLLM: WorkflowLLM } {
  const workflowLLM = new WorkflowLLM(workflow);
  workflowLLM.onReply = onReply;
  if (!config.OPENAI_API_KEY) return { llm: workflowLLM, workflowLLM };
  const cloud = new openai.LLM({ model: config.OPENAI_LLM_MODEL, client: openAIClient(config) });
  return {
    llm: new llm.FallbackAdapter({
      llms: [new StallGuardLLM(cloud, config.VOICEFLEET_LLM_ATTEMPT_TIMEOUT_MS), workflowLLM],
      attemptTimeout: config.VOICEFLEET_LLM_ATTEMPT_TIMEOUT_MS / 1000,
      // A stalled answer is abandoned even after its first words played: a restart from the
      // engine beats dead air.
      retryOnChunkSent: true,
    }),
    workflowLLM,
  };
}

export function buildSessionProviders({ config, vad, recognizer, narrowband, callerSpeech }: ProviderInputs): SessionProviders {
  const attemptTimeoutMs = config.VOICEFLEET_STT_ATTEMPT_TIMEOUT_MS;

  const localSTT = new stt.StreamAdapter(recognizer, vad);
  const sttProvider = config.DEEPGRAM_API_KEY
    ? new ReplayingFallbackSTT({
        sttInstances: [
          new StallGuardSTT(new deepgram.STT({ apiKey: config.DEEPGRAM_API_KEY, model: config.DEEPGRAM_STT_MODEL, baseUrl: config.DEEPGRAM_BASE_URL }), {
            speech: callerSpeech,
            finalTimeoutMs: config.VOICEFLEET_STT_FINAL_TIMEOUT_MS,
          }),
          localSTT,
        ],
        vad,
        attemptTimeoutMs,
      })
    : localSTT;

  const localTTS = new LocalTTS({
    engine: config.VOICEFLEET_LOCAL_TTS,
    sampleRate: narrowband ? 8000 : 16000,
  });
  const ttsProvider = config.OPENAI_API_KEY ? buildTTSFallback(config, localTTS) : localTTS;

  return { stt: sttProvider, tts: ttsProvider };
}

/**
 * OpenAI TTS with the local TTS behind it. One attempt each: a retry of a stalled provider is
 * more dead air, and the local TTS answers in well under 100 ms.
 */
export function buildTTSFallback(config: Config, localTTS: tts.TTS): tts.TTS {
  const cloud = new openai.TTS({ model: config.OPENAI_TTS_MODEL, voice: config.OPENAI_TTS_VOICE as openai.TTSVoices, client: openAIClient(config) });
  return new tts.FallbackAdapter({
    ttsInstances: [new StallGuardTTS(cloud, { firstAudioTimeoutMs: config.VOICEFLEET_TTS_ATTEMPT_TIMEOUT_MS }), localTTS],
    maxRetryPerTTS: 0,
  });
}

/** Calls back each time a fallback adapter takes a provider out of service (it failed over). */
export function onFailover(provider: unknown, kind: 'llm' | 'stt' | 'tts', callback: (kind: 'llm' | 'stt' | 'tts') => void): void {
  if (!(provider instanceof llm.FallbackAdapter || provider instanceof tts.FallbackAdapter || provider instanceof stt.FallbackAdapter)) return;
  (provider as unknown as { on(event: string, listener: (ev: { available: boolean }) => void): void }).on(`${kind}_availability_changed`, (ev) => {
    if (!ev.available) callback(kind);
  });
}
