import { llm } from '@livekit/agents';
import { z } from 'zod';
import { redactSensitive } from '../guardrails/redact.js';

/**
 * Where support tickets go: a local file by default (worker/ports/file-tickets.ts), a helpdesk's
 * API in production. The workflow never sees which.
 */
export const ticketRequestSchema = z.object({
  category: z.enum(['billing', 'technical', 'account', 'other']),
  urgency: z.enum(['urgent', 'normal']),
  account: z.string().regex(/^\d{4,16}$/).optional(),
  /** The caller's own words about the problem, redacted before they leave the call. */
  summary: z.string().min(1).max(300),
});
export type TicketRequest = z.infer<typeof ticketRequestSchema>;

export interface Ticket extends TicketRequest {
  ticketId: string;
  callId: string;
}

export interface TicketPort {
  create(request: TicketRequest & { callId: string }): Promise<{ ticketId: string }>;
}

export const CREATE_TICKET = 'create_ticket';
export const TICKET_TOOLS = [CREATE_TICKET] as const;

export function createTicketTools(tickets: TicketPort, call: { callId: string }) {
  return {
    [CREATE_TICKET]: llm.tool({
      name: CREATE_TICKET,
      description: 'Open a support ticket with the category, urgency, account number and a short summary of the problem.',
      parameters: ticketRequestSchema,
      execute: async (request) => tickets.create({ ...request, summary: redactSensitive(request.summary), callId: call.callId }),
    }),
  };
}
