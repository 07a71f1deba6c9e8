import { z } from 'zod';
import { callOutcomeSchema, type CallOutcome } from '../../agents/workflow/outcome.js';

/**
 * What post-call CRM sync carries for one call: who, when, which workflows, what they achieved,
 * what was said (redacted), and how fast the agent answered. Phone numbers are masked: a CRM
 * adapter that needs the real number looks it up by call id in the telephony system.
 */
export const callRecordSchema = z
  .object({
    version: z.literal(1),
    callId: z.string().min(1).max(128),
    room: z.string().max(256),
    deployment: z.string().max(63),
    direction: z.enum(['inbound', 'outbound', 'web']),
    caller: z.string().max(32).optional(),
    dialed: z.string().max(32).optional(),
    externalId: z.string().max(128).optional(),
    startedAt: z.iso.datetime(),
    endedAt: z.iso.datetime(),
    durationMs: z.number().int().nonnegative(),
    endReason: z.string().max(64),
    /**
     * Who produced the record: the worker at call end, the sweep for a call whose worker died, or
     * the supervisor for a call no agent took (it answered with an apology and the overflow path).
     */
    source: z.enum(['worker', 'sweep', 'supervisor']),
    outcome: callOutcomeSchema,
    summary: z.string().max(1000),
    transcript: z.array(z.object({ role: z.enum(['caller', 'agent']), text: z.string().max(2000) })).max(500),
    recording: z.object({ uri: z.string() }).nullable(),
    latency: z.object({
      turns: z.number().int().nonnegative(),
      endOfTurnMs: z.object({ p50: z.number(), max: z.number() }).optional(),
      llmFirstTokenMs: z.object({ p50: z.number(), max: z.number() }).optional(),
      ttsFirstAudioMs: z.object({ p50: z.number(), max: z.number() }).optional(),
    }),
  })
  .strict();

export type CallRecord = z.infer<typeof callRecordSchema>;

/** A record for a call whose worker died before it could write one (found by the sweep). */
export function lostCallRecord(args: {
  callId: string;
  room: string;
  deployment: string;
  startedAt: string;
  lastSeenAt: string;
}): CallRecord {
  const outcome: CallOutcome = { workflows: ['unknown'], disposition: 'unresolved', intents: [] };
  return {
    version: 1,
    callId: args.callId,
    room: args.room,
    deployment: args.deployment,
    direction: 'inbound',
    startedAt: args.startedAt,
    endedAt: args.lastSeenAt,
    durationMs: Math.max(0, Date.parse(args.lastSeenAt) - Date.parse(args.startedAt)),
    endReason: 'worker_lost',
    source: 'sweep',
    outcome,
    summary: 'The agent worker stopped during this call; no outcome was recorded. Follow up with the caller.',
    transcript: [],
    recording: null,
    latency: { turns: 0 },
  };
}

/** One sentence for a CRM timeline, from the outcome alone (no caller words). */
export function summarize(outcome: CallOutcome, businessName: string): string {
  const parts = [`Call with ${businessName} (${outcome.workflows.join(' -> ')}), ${outcome.disposition.replace(/_/g, ' ')}.`];
  if (outcome.booking) parts.push(`Appointment ${outcome.booking.action}${outcome.booking.slotId ? ` for ${outcome.booking.slotId}` : ''}.`);
  if (outcome.lead) parts.push(`Lead score ${outcome.lead.score} (${outcome.lead.qualified ? 'qualified' : 'not qualified'}).`);
  if (outcome.ticket) parts.push(`Ticket ${outcome.ticket.ticketId ?? '(not created)'}: ${outcome.ticket.category}, ${outcome.ticket.urgency}${outcome.ticket.escalated ? ', escalated' : ''}.`);
  if (outcome.faq) parts.push(`Answered: ${outcome.faq.answered.join(', ') || 'nothing'}; unanswered: ${outcome.faq.unanswered}.`);
  if (outcome.followUp) parts.push(`Follow-up: ${outcome.followUp.appointment.replace(/_/g, ' ')}.`);
  if (outcome.escalation) parts.push(`Escalation: ${outcome.escalation.reason.replace(/_/g, ' ')}.`);
  return parts.join(' ');
}
