import type { voice } from '@livekit/agents';

type TurnHandling = NonNullable<voice.AgentSessionOptions['turnHandling']>;

/** Silero's own end-of-speech silence; the local recognizer cuts utterances with it. */
export const SILERO_MIN_SILENCE_MS = 550;

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
      // Voice over the agent pauses its audio after this much speech (it is not cancelled yet):
      // short, so a caller who talks over the agent is heard at once. Phone lines carry more
      // clicks and breaths than web microphones, hence the longer floor there.
      minDuration: narrowband ? 300 : 200,
      // A pause with no words behind it (a cough, a bump, "mm") resumes the answer where it
      // stopped. The local recognizer transcribes an utterance a few hundred milliseconds after
      // it ends; the timeout leaves room for that so a real interruption is not resumed over.
      resumeFalseInterruption: true,
      falseInterruptionTimeout: 1500,
    },
    preemptiveGeneration: { enabled: true },
  };
}
