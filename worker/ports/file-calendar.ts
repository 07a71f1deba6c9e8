import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type {
  Booking,
  BookingResult,
  CalendarPort,
  CallerKey,
  CancelResult,
  RescheduleResult,
  Slot,
} from '../../agents/booking/calendar.js';
import { weekdayOf } from '../../agents/booking/calendar.js';

export interface FileCalendarOptions {
  /** JSON file holding the bookings; created on the first booking. */
  path: string;
  /** Opening hours per weekday (0 = Sunday): [first hour, hour after the last slot). */
  openingHours: Record<number, [number, number]>;
  /** How many days ahead slots are offered. */
  daysAhead: number;
  /** The clock, in the business's local time; injectable for tests. */
  now?: () => Date;
}

interface StoredBooking {
  bookingId: string;
  slotId: string;
  callId: string;
  caller?: CallerKey;
  bookedAt: string;
}

interface Stored {
  bookings: StoredBooking[];
}

/**
 * A calendar in a local JSON file: one-hour slots in opening hours, minus bookings. Writes go to
 * a temp file that is fsync'd and renamed, so a crash never leaves a half-written calendar.
 */
export class FileCalendar implements CalendarPort {
  readonly #options: FileCalendarOptions;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(options: FileCalendarOptions) {
    this.#options = options;
  }

  async freeSlots({ weekday, limit }: { weekday?: string; limit: number }): Promise<Slot[]> {
    const booked = new Set((await this.#read()).bookings.map((b) => b.slotId));
    const now = this.#now();
    const slots: Slot[] = [];
    for (let day = 0; day <= this.#options.daysAhead && slots.length < limit; day++) {
      const date = new Date(now.getFullYear(), now.getMonth(), now.getDate() + day);
      const hours = this.#options.openingHours[date.getDay()];
      if (!hours) continue;
      for (let hour = hours[0]; hour < hours[1] && slots.length < limit; hour++) {
        const start = new Date(date.getFullYear(), date.getMonth(), date.getDate(), hour);
        if (start <= now) continue;
        const slot = { id: localId(start) };
        if (booked.has(slot.id)) continue;
        if (weekday && weekdayOf(slot).toLowerCase() !== weekday.toLowerCase()) continue;
        slots.push(slot);
      }
    }
    return slots;
  }

  book(slotId: string, booking: { callId: string; caller: CallerKey }): Promise<BookingResult> {
    return this.#serialized(() => this.#book(slotId, booking));
  }

  async nextBooking(caller: CallerKey): Promise<Booking | undefined> {
    const nowId = localId(this.#now());
    const mine = (await this.#read()).bookings
      .filter((b) => b.caller === caller && b.slotId > nowId)
      .sort((a, b) => a.slotId.localeCompare(b.slotId));
    const next = mine[0];
    return next && { bookingId: next.bookingId, slot: { id: next.slotId } };
  }

  reschedule(
    bookingId: string,
    slotId: string,
    booking: { callId: string; caller: CallerKey },
  ): Promise<RescheduleResult> {
    return this.#serialized(async () => {
      const stored = await this.#read();
      const index = stored.bookings.findIndex((b) => b.bookingId === bookingId && b.caller === booking.caller);
      if (index < 0) return { ok: false, reason: 'unknown_booking' };
      const refusal = await this.#refusal(stored, slotId);
      if (refusal) return { ok: false, reason: refusal };
      // One write replaces the old appointment with the new: a crash leaves one or the other.
      const [old] = stored.bookings.splice(index, 1);
      const moved = { ...old!, bookingId: newBookingId(), slotId, callId: booking.callId, bookedAt: new Date().toISOString() };
      stored.bookings.push(moved);
      await this.#write(stored);
      return { ok: true, slot: { id: slotId }, bookingId: moved.bookingId, replacedBookingId: bookingId };
    });
  }

  cancel(bookingId: string, caller: CallerKey): Promise<CancelResult> {
    return this.#serialized(async () => {
      const stored = await this.#read();
      const index = stored.bookings.findIndex((b) => b.bookingId === bookingId && b.caller === caller);
      if (index < 0) return { ok: false, reason: 'unknown_booking' };
      const [cancelled] = stored.bookings.splice(index, 1);
      await this.#write(stored);
      return { ok: true, bookingId, slot: { id: cancelled!.slotId } };
    });
  }

  /** Writes are serialized so that two calls in one process cannot take the same slot. */
  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#writes.then(work);
    this.#writes = result.catch(() => undefined);
    return result;
  }

  async #refusal(stored: Stored, slotId: string): Promise<'taken' | 'unknown_slot' | undefined> {
    if (stored.bookings.some((b) => b.slotId === slotId)) return 'taken';
    const free = await this.freeSlots({ limit: 10_000 });
    if (!free.some((s) => s.id === slotId)) return 'unknown_slot';
    return undefined;
  }

  async #book(slotId: string, booking: { callId: string; caller: CallerKey }): Promise<BookingResult> {
    const stored = await this.#read();
    const refusal = await this.#refusal(stored, slotId);
    if (refusal) return { ok: false, reason: refusal };
    const bookingId = newBookingId();
    stored.bookings.push({ bookingId, slotId, callId: booking.callId, caller: booking.caller, bookedAt: new Date().toISOString() });
    await this.#write(stored);
    return { ok: true, slot: { id: slotId }, bookingId };
  }

  #now(): Date {
    return (this.#options.now ?? (() => new Date()))();
  }

  async #read(): Promise<Stored> {
    try {
      return JSON.parse(await readFile(this.#options.path, 'utf8')) as Stored;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { bookings: [] };
      throw error;
    }
  }

  async #write(stored: Stored): Promise<void> {
    await mkdir(dirname(this.#options.path), { recursive: true });
    const temp = `${this.#options.path}.${process.pid}.tmp`;
    const file = await open(temp, 'w');
    try {
      await file.writeFile(JSON.stringify(stored, null, 2));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, this.#options.path);
  }
}

function newBookingId(): string {
  return `bk_${randomUUID().slice(0, 8)}`;
}

function localId(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:00`;
}
