import { z } from 'zod';
import { knowledgeEntrySchema, type KnowledgeEntry } from '../knowledge/knowledge.js';

/**
 * What agents may say about the business. Answers come only from here, never from a model's
 * imagination; each deployment has its own (config/deployments.json).
 */
export const businessProfileSchema = z.object({
  name: z.string().min(1).max(80),
  /** Bookable hours per weekday (0 = Sunday): [first hour, hour after the last slot). */
  openingHours: z.record(
    z.coerce.number().int().min(0).max(6),
    z.tuple([z.number().int().min(0).max(23), z.number().int().min(1).max(24)]),
  ),
  knowledge: z.array(knowledgeEntrySchema).min(1),
});

export type BusinessProfile = z.infer<typeof businessProfileSchema>;

const DEFAULT_KNOWLEDGE: KnowledgeEntry[] = [
  {
    topic: 'hours',
    keywords: ['hours', 'open', 'opening', 'close', 'closing', 'closed', 'weekend'],
    answer: 'We are open Monday to Friday from 8 AM to 6 PM, and Saturday from 9 AM to 1 PM.',
  },
  {
    topic: 'location',
    keywords: ['where', 'address', 'located', 'location', 'directions', 'find you', 'office'],
    answer: 'We are at 100 Main Street, next to the public library.',
  },
  {
    topic: 'parking',
    keywords: ['parking', 'park'],
    answer: 'There is free parking behind the building.',
  },
  {
    topic: 'prices',
    keywords: ['price', 'prices', 'cost', 'costs', 'how much', 'fee', 'fees', 'charge', 'insurance'],
    answer: 'A standard check up and cleaning costs 95 dollars. We accept most insurance plans.',
  },
  {
    topic: 'payment',
    keywords: ['credit card', 'credit cards', 'pay', 'payment', 'cash'],
    answer: 'We accept cash and all major credit cards.',
  },
];

export const DEFAULT_BUSINESS_PROFILE: BusinessProfile = {
  name: 'Acme Dental',
  openingHours: { 1: [8, 18], 2: [8, 18], 3: [8, 18], 4: [8, 18], 5: [8, 18], 6: [9, 13] },
  knowledge: DEFAULT_KNOWLEDGE,
};

/** The answer on a topic, for prompts and tests. */
export function knowledgeAnswer(profile: BusinessProfile, topic: string): string {
  const entry = profile.knowledge.find((k) => k.topic === topic);
  if (!entry) throw new Error(`business profile of ${profile.name} has no "${topic}" entry`);
  return entry.answer;
}
