import { z } from 'zod';
import { normalizeUtterance } from '../workflow/intents.js';

/**
 * A deployment's knowledge: the only facts an agent may state. Each entry is found by a few
 * content words, because recognizers on phone audio drop and swap the small ones.
 */
export const knowledgeEntrySchema = z.object({
  /** Stable id, reported in outcomes ("hours", "parking"). */
  topic: z.string().regex(/^[a-z0-9_-]{1,40}$/),
  /** Words or short phrases that point to this entry; any one is enough. */
  keywords: z.array(z.string().min(2)).min(1),
  /** The answer, phrased for speech. */
  answer: z.string().min(1).max(400),
});

export type KnowledgeEntry = z.infer<typeof knowledgeEntrySchema>;

/**
 * The entry the caller asked about: the one with most keyword hits, earlier entries first on a
 * tie. Undefined when nothing matches: the agent then says it does not know, never guesses.
 */
export function findAnswer(text: string, knowledge: readonly KnowledgeEntry[]): KnowledgeEntry | undefined {
  const normalized = ` ${normalizeUtterance(text)} `;
  let best: { entry: KnowledgeEntry; hits: number } | undefined;
  for (const entry of knowledge) {
    const hits = entry.keywords.filter((k) => normalized.includes(` ${normalizeUtterance(k)} `)).length;
    if (hits > 0 && (!best || hits > best.hits)) best = { entry, hits };
  }
  return best?.entry;
}

/** Topics the agent answered, in order, read back from what it said (answers are verbatim). */
export function answeredTopics(agentTexts: readonly string[], knowledge: readonly KnowledgeEntry[]): string[] {
  return agentTexts.flatMap((text) => knowledge.filter((k) => text.startsWith(k.answer)).map((k) => k.topic));
}
