import { z } from 'zod';
import { WORKFLOW_NAMES } from '../../agents/workflows.js';

/** A time zone the runtime knows, by its IANA name. */
export const ianaTimeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as America/New_York');

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +15550100');

/**
 * One outbound call to place: whom, which workflow with what context, and when the callee may be
 * called (hours in their own time zone). Validated when enqueued and again when taken.
 */
export const dialRequestSchema = z
  .object({
    to: e164,
    deployment: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    workflow: z.enum(WORKFLOW_NAMES),
    context: z
      .object({
        appointment: z.object({ bookingId: z.string().regex(/^bk_[a-z0-9]{4,32}$/), slotId: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/) }).strict().optional(),
        contactName: z.string().min(1).max(60).optional(),
        externalId: z.string().max(128).optional(),
      })
      .strict()
      .default({}),
    window: z
      .object({
        timeZone: ianaTimeZone,
        /** Local hours [start, end) on allowed days. */
        startHour: z.number().int().min(0).max(23),
        endHour: z.number().int().min(1).max(24),
        /** 0 = Sunday. */
        days: z.array(z.number().int().min(0).max(6)).min(1).default([1, 2, 3, 4, 5]),
      })
      .strict()
      .refine((w) => w.startHour < w.endHour, 'startHour must be before endHour'),
    /** 1 (first) .. 10; BullMQ takes lower numbers first. */
    priority: z.number().int().min(1).max(10).default(5),
  })
  .strict();

export type DialRequest = z.infer<typeof dialRequestSchema>;

/** How a placed call went, from the telephony side. */
export type DialOutcome = 'answered' | 'busy' | 'no_answer' | 'voicemail' | 'invalid_number' | 'failed';
