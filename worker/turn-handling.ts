import type { voice } from '@livekit/agents';

type TurnHandling = NonNullable<voice.AgentSessionOptions['turnHandling']>;

/**
 * Turn-taking for phone and web callers. The framework's end-of-turn model decides when a caller
 * has finished (its default detector runs locally), so the fixed silence floor can be short.
 */
export function sessionTurnHandling(narrowband: boolean): TurnHandling {
  return {
    // The end-of-turn model holds the turn open while a caller sounds unfinished; the ceiling
    // bounds how long a caller who has stopped waits when the model stays unsure.
    endpointing: { minDelay: 400, maxDelay: 1500 },
    interruption: {
      // Line noise and breaths on phone audio trip a short threshold; web microphones are cleaner.
      minDuration: narrowband ? 600 : 500,
      resumeFalseInterruption: true,
      // The local recognizer transcribes an utterance only after it ends; a caller's real
      // interruption must not be taken for a cough just because its words are still coming.
      falseInterruptionTimeout: 3500,
    },
    preemptiveGeneration: { enabled: true },
  };
}
