import { llm } from '@livekit/agents';
import { z } from 'zod';
import type { CalendarPort } from './calendar.js';

export const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
export const FIND_FREE_SLOTS = 'find_free_slots';
export const BOOK_SLOT = 'book_slot';
/** How many free times the agent reads out at once: more is hard to remember on the phone. */
export const SLOTS_OFFERED = 3;

/** The calendar tools of a booking conversation; arguments are validated before any I/O. */
export function createBookingTools(calendar: CalendarPort, callId: string) {
  return [
    llm.tool({
      name: FIND_FREE_SLOTS,
      description: 'List the next free appointment times, optionally only on one weekday.',
      parameters: z.object({ weekday: z.enum(WEEKDAY_NAMES).optional() }),
      // The framework serializes what a tool returns; the workflow reads it back as JSON.
      execute: async ({ weekday }) => ({ weekday, slots: await calendar.freeSlots({ weekday, limit: SLOTS_OFFERED }) }),
    }),
    llm.tool({
      name: BOOK_SLOT,
      description: 'Book one of the free times the caller chose and confirmed.',
      parameters: z.object({ slotId: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/) }),
      execute: async ({ slotId }) => calendar.book(slotId, callId),
    }),
  ];
}
