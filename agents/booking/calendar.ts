import { z } from 'zod';

/**
 * The calendar a booking workflow reads free times from and writes appointments to. The
 * workflow never sees where it lives: a local file by default (worker/ports/file-calendar.ts),
 * a practice-management system's API in production.
 */
export const slotSchema = z.object({
  /** Stable id: the slot's local start time, e.g. "2026-12-01T14:00". */
  id: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/),
});
export type Slot = z.infer<typeof slotSchema>;

export type BookingResult = { ok: true; slot: Slot; bookingId: string } | { ok: false; reason: 'taken' | 'unknown_slot' };
export type RescheduleResult =
  | { ok: true; slot: Slot; bookingId: string; replacedBookingId: string }
  | { ok: false; reason: 'taken' | 'unknown_slot' | 'unknown_booking' };
export type CancelResult = { ok: true; bookingId: string; slot: Slot } | { ok: false; reason: 'unknown_booking' };

/** An appointment as the caller who made it may see it. */
export interface Booking {
  bookingId: string;
  slot: Slot;
}

/**
 * Who the caller is, for finding their own appointments: their phone number (SIP) or their
 * participant identity. It is bound by the worker, never taken from what the caller says.
 */
export type CallerKey = string;

export interface CalendarPort {
  /** Free slots from now on, earliest first; only on `weekday` (e.g. "Tuesday") when given. */
  freeSlots(options: { weekday?: string; limit: number }): Promise<Slot[]>;
  /** Books a slot for a call; refuses one that is no longer free. */
  book(slotId: string, booking: { callId: string; caller: CallerKey }): Promise<BookingResult>;
  /** The caller's next upcoming appointment. */
  nextBooking(caller: CallerKey): Promise<Booking | undefined>;
  /** Moves one of the caller's appointments to a free slot, in one step: never both, never none. */
  reschedule(bookingId: string, slotId: string, booking: { callId: string; caller: CallerKey }): Promise<RescheduleResult>;
  /** Cancels one of the caller's appointments. */
  cancel(bookingId: string, caller: CallerKey): Promise<CancelResult>;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function weekdayOf(slot: Slot): string {
  const [y, m, d] = slot.id.slice(0, 10).split('-').map(Number) as [number, number, number];
  return WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()]!;
}

export function hourOf(slot: Slot): number {
  return Number(slot.id.slice(11, 13));
}

/** "Tuesday at 2 PM" / "Tuesday at 9 30 AM": how the agent says a slot. */
export function describeSlot(slot: Slot): string {
  const hour = hourOf(slot);
  const minutes = slot.id.slice(14, 16);
  const h12 = hour % 12 === 0 ? 12 : hour % 12;
  return `${weekdayOf(slot)} at ${h12}${minutes === '00' ? '' : ` ${minutes}`} ${hour < 12 ? 'AM' : 'PM'}`;
}
