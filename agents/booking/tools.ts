import { llm } from '@livekit/agents';
import { z } from 'zod';
import type { CalendarPort, CallerKey } from './calendar.js';

export const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
export const FIND_FREE_SLOTS = 'find_free_slots';
export const BOOK_SLOT = 'book_slot';
export const FIND_BOOKING = 'find_booking';
export const RESCHEDULE_BOOKING = 'reschedule_booking';
export const CANCEL_BOOKING = 'cancel_booking';
export const BOOKING_TOOLS = [FIND_FREE_SLOTS, BOOK_SLOT, FIND_BOOKING, RESCHEDULE_BOOKING, CANCEL_BOOKING] as const;
/** How many free times the agent reads out at once: more is hard to remember on the phone. */
export const SLOTS_OFFERED = 3;

const slotId = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
const bookingId = z.string().regex(/^bk_[a-z0-9]{4,32}$/);

/**
 * The calendar tools of a booking conversation, bound to one call and one caller. Arguments are
 * validated before any I/O, and the caller is the worker's, never the model's: a caller can only
 * see, move or cancel their own appointments.
 */
export function createBookingTools(calendar: CalendarPort, call: { callId: string; caller: CallerKey }) {
  return {
    [FIND_FREE_SLOTS]: llm.tool({
      name: FIND_FREE_SLOTS,
      description: 'List the next free appointment times, optionally only on one weekday.',
      parameters: z.object({ weekday: z.enum(WEEKDAY_NAMES).optional() }),
      // The framework serializes what a tool returns; the workflow reads it back as JSON.
      execute: async ({ weekday }) => ({ weekday, slots: await calendar.freeSlots({ weekday, limit: SLOTS_OFFERED }) }),
    }),
    [BOOK_SLOT]: llm.tool({
      name: BOOK_SLOT,
      description: 'Book one of the free times the caller chose and confirmed.',
      parameters: z.object({ slotId }),
      execute: async ({ slotId }) => calendar.book(slotId, call),
    }),
    [FIND_BOOKING]: llm.tool({
      name: FIND_BOOKING,
      description: "Find the caller's next appointment (the caller is known from the phone line).",
      parameters: z.object({}),
      execute: async () => ({ booking: (await calendar.nextBooking(call.caller)) ?? null }),
    }),
    [RESCHEDULE_BOOKING]: llm.tool({
      name: RESCHEDULE_BOOKING,
      description: "Move the caller's appointment to a free time they chose and confirmed.",
      parameters: z.object({ bookingId, slotId }),
      execute: async ({ bookingId, slotId }) => calendar.reschedule(bookingId, slotId, call),
    }),
    [CANCEL_BOOKING]: llm.tool({
      name: CANCEL_BOOKING,
      description: "Cancel the caller's appointment after they confirmed.",
      parameters: z.object({ bookingId }),
      execute: async ({ bookingId }) => calendar.cancel(bookingId, call.caller),
    }),
  };
}
