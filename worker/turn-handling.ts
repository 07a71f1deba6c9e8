import type { voice } from '@livekit/agents';

type TurnHandling = NonNullable<voice.AgentSessionOptions['turnHandling']>;

/**
 * Turn-taking for phone and web callers. The framework's end-of-turn model decides when a caller
 * has finished (its default detector runs locally), so the fixed silence floor can be short.
 */
export function sessionTurnHandling(narrowband: boolean): TurnHandling {
  return {
    endpointing: { minDelay: 400, maxDelay: 2500 },
    interruption: {
      // Line noise and breaths on phone audio trip a short threshold; web microphones are cleaner.
      minDuration: narrowband ? 600 : 500,
      resumeFalseInterruption: true,
    },
    preemptiveGeneration: { enabled: true },
  };
}
