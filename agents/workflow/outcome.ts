import { z } from 'zod';

/**
 * What a call achieved, filled in as the call goes and handed to CRM sync when it ends. Each
 * workflow reports the fields it owns (`OutcomeFields`); the worker merges them across handoffs.
 */
export const bookingOutcomeSchema = z.object({
  action: z.enum(['booked', 'rescheduled', 'cancelled']),
  bookingId: z.string(),
  slotId: z.string().optional(),
  /** The booking a reschedule replaced. */
  replacedBookingId: z.string().optional(),
});

export const leadOutcomeSchema = z.object({
  need: z.string().optional(),
  /** Budget in whole currency units, as the caller said it. */
  budget: z.number().int().nonnegative().optional(),
  /** Whether the caller decides the purchase. */
  authority: z.boolean().optional(),
  timeline: z.enum(['now', 'this_month', 'this_quarter', 'later']).optional(),
  contactName: z.string().optional(),
  /** 0..100 from the BANT answers; see agents/lead-qualification/score.ts. */
  score: z.number().int().min(0).max(100),
  qualified: z.boolean(),
});

export const ticketOutcomeSchema = z.object({
  ticketId: z.string().optional(),
  category: z.enum(['billing', 'technical', 'account', 'other']),
  urgency: z.enum(['urgent', 'normal']),
  account: z.string().optional(),
  escalated: z.boolean(),
});

export const callOutcomeSchema = z.object({
  /** Workflows in the order they ran the call. */
  workflows: z.array(z.string()).min(1),
  disposition: z.enum(['resolved', 'transferred', 'callback_requested', 'voicemail_left', 'caller_hung_up', 'silent_hang_up', 'unresolved']),
  /** Every intent the agent answered, in order (for reporting; no caller words). */
  intents: z.array(z.string()),
  booking: bookingOutcomeSchema.optional(),
  lead: leadOutcomeSchema.optional(),
  ticket: ticketOutcomeSchema.optional(),
  faq: z.object({ answered: z.array(z.string()), unanswered: z.number().int().nonnegative() }).optional(),
  followUp: z.object({ appointment: z.enum(['confirmed', 'reschedule', 'cancel', 'opted_out', 'unknown']) }).optional(),
  escalation: z.object({ reason: z.string() }).optional(),
  /** The call waited on hold for an agent (every slot was busy when it came in). */
  overflow: z
    .object({
      /** Place in line on arrival, 1 = next. */
      position: z.number().int().positive(),
      waitedMs: z.number().int().nonnegative(),
      result: z.enum(['answered', 'callback', 'voicemail', 'transferred', 'caller_hung_up']),
    })
    .optional(),
});

export type CallOutcome = z.infer<typeof callOutcomeSchema>;
export type OutcomeFields = Partial<Omit<CallOutcome, 'workflows' | 'disposition' | 'intents'>> & {
  /** Set when the workflow finished its job (booked, answered, ticket created). */
  resolved?: boolean;
};

/** Later workflows win field by field: a reschedule after a booking reports the reschedule. */
export function mergeOutcomeFields(parts: readonly OutcomeFields[]): OutcomeFields {
  return Object.assign({}, ...parts) as OutcomeFields;
}
