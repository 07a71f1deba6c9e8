import type { CallOutcome } from '../workflow/outcome.js';

type Lead = NonNullable<CallOutcome['lead']>;

/** What a qualification call collects, before scoring. */
export interface LeadFields {
  need?: string;
  budget?: number;
  authority?: boolean;
  timeline?: Lead['timeline'];
  name?: string;
}

/** Points per BANT answer; a lead with 60 or more is worth a salesperson's call today. */
const TIMELINE_POINTS: Record<NonNullable<Lead['timeline']>, number> = { now: 25, this_month: 20, this_quarter: 10, later: 0 };
export const QUALIFIED_SCORE = 60;

export function scoreLead(fields: LeadFields, minBudget: number): { score: number; qualified: boolean } {
  let score = 0;
  if (fields.need) score += 10;
  if (fields.budget !== undefined) score += fields.budget >= minBudget ? 30 : 10;
  if (fields.authority) score += 25;
  if (fields.timeline) score += TIMELINE_POINTS[fields.timeline];
  if (fields.name) score += 10;
  return { score, qualified: score >= QUALIFIED_SCORE };
}
