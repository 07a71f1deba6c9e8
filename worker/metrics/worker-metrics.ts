import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Stages of one turn, caller end of speech to the agent's first audio, as the framework reports
 * them; `voice_to_voice` is the whole of it (caller end of speech -> first agent audio published).
 */
export const TURN_STAGES = ['end_of_turn', 'transcription', 'llm_first_token', 'tts_first_audio', 'voice_to_voice'] as const;
export type TurnStage = (typeof TURN_STAGES)[number];

/** What a call is doing, for the active-calls gauge. */
export type CallActivity = 'holding' | 'talking';

const SECONDS_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];

/**
 * Every metric a worker exports, in one registry (prom-client, served at /metrics). Names follow
 * Prometheus conventions: base units (seconds), `_total` counters, snake_case labels.
 */
export function createWorkerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'voicefleet_worker_' });
  return {
    registry,
    stageSeconds: new Histogram({
      name: 'voicefleet_turn_stage_seconds',
      help: 'Latency of each stage of a turn: end of turn (caller stops -> turn committed), transcription, LLM first token, TTS first audio, voice to voice (caller stops -> first agent audio published).',
      labelNames: ['stage'],
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    }),
    activeCalls: new Gauge({ name: 'voicefleet_active_calls', help: 'Calls on this worker now, talking to an agent or on hold.', labelNames: ['activity'], registers: [registry] }),
    jobs: new Gauge({ name: 'voicefleet_jobs', help: 'Job processes of this worker with a call.', registers: [registry] }),
    callsTotal: new Counter({ name: 'voicefleet_calls_total', help: 'Calls ended, by disposition.', labelNames: ['disposition'], registers: [registry] }),
    fallbacksTotal: new Counter({ name: 'voicefleet_provider_fallbacks_total', help: 'Times a provider failed over to the next one.', labelNames: ['provider'], registers: [registry] }),
    errorsTotal: new Counter({ name: 'voicefleet_errors_total', help: 'Provider and session errors.', labelNames: ['source'], registers: [registry] }),
    deadAirTotal: new Counter({ name: 'voicefleet_dead_air_filled_total', help: 'Holding phrases played because an answer was slow.', registers: [registry] }),
    holdSeconds: new Histogram({
      name: 'voicefleet_hold_wait_seconds',
      help: 'How long callers waited on hold for an agent, by how the wait ended.',
      labelNames: ['result'],
      buckets: [1, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/** One observation, as a job process reports it to its worker (newline-delimited JSON). */
export type MetricEvent =
  | { kind: 'stage'; stage: TurnStage; seconds: number }
  | { kind: 'activity'; activity: CallActivity }
  | { kind: 'call_ended'; disposition: string; jobId?: string }
  | { kind: 'fallback'; provider: string }
  | { kind: 'error'; source: string }
  | { kind: 'dead_air' }
  | { kind: 'hold'; result: string; seconds: number }
  /** A job names the LiveKit worker id its worker registered under (the worker's own loop never learns it). */
  | { kind: 'worker'; livekitWorkerId: string };
