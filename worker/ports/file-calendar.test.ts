import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_PROFILE } from '../../agents/workflows.js';
import { FileCalendar } from './file-calendar.js';

describe('FileCalendar', () => {
  let dir: string;
  let calendar: FileCalendar;
  // Monday 30 November 2026, 10:30 local time.
  const now = () => new Date(2026, 10, 30, 10, 30);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'voicefleet-calendar-'));
    calendar = new FileCalendar({
      path: join(dir, 'nested', 'calendar.json'),
      openingHours: DEFAULT_BUSINESS_PROFILE.openingHours,
      daysAhead: 14,
      now,
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('offers the next free hours inside opening hours, never in the past', async () => {
    expect(await calendar.freeSlots({ limit: 3 })).toEqual([
      { id: '2026-11-30T11:00' },
      { id: '2026-11-30T12:00' },
      { id: '2026-11-30T13:00' },
    ]);
  });

  it('filters by weekday and skips closed days', async () => {
    expect((await calendar.freeSlots({ weekday: 'Saturday', limit: 10 })).map((s) => s.id)).toEqual([
      '2026-12-05T09:00',
      '2026-12-05T10:00',
      '2026-12-05T11:00',
      '2026-12-05T12:00',
      '2026-12-12T09:00',
      '2026-12-12T10:00',
      '2026-12-12T11:00',
      '2026-12-12T12:00',
    ]);
    expect(await calendar.freeSlots({ weekday: 'Sunday', limit: 10 })).toEqual([]);
  });

  it('books a free slot durably and stops offering it', async () => {
    const result = await calendar.book('2026-11-30T11:00', { callId: 'AJ_1', caller: 'caller-AJ_1' });
    expect(result).toMatchObject({ ok: true, slot: { id: '2026-11-30T11:00' } });
    const stored = JSON.parse(readFileSync(join(dir, 'nested', 'calendar.json'), 'utf8'));
    expect(stored.bookings).toHaveLength(1);
    expect(stored.bookings[0]).toMatchObject({ slotId: '2026-11-30T11:00', callId: 'AJ_1' });
    expect((await calendar.freeSlots({ limit: 1 }))[0]!.id).toBe('2026-11-30T12:00');
  });

  it('refuses a taken slot, a past slot and a slot outside opening hours', async () => {
    await calendar.book('2026-11-30T11:00', { callId: 'AJ_1', caller: 'caller-AJ_1' });
    expect(await calendar.book('2026-11-30T11:00', { callId: 'AJ_2', caller: 'caller-AJ_2' })).toEqual({ ok: false, reason: 'taken' });
    expect(await calendar.book('2026-11-30T09:00', { callId: 'AJ_2', caller: 'caller-AJ_2' })).toEqual({ ok: false, reason: 'unknown_slot' });
    expect(await calendar.book('2026-11-30T22:00', { callId: 'AJ_2', caller: 'caller-AJ_2' })).toEqual({ ok: false, reason: 'unknown_slot' });
  });

  it('lets only one of two simultaneous callers have the same slot', async () => {
    const results = await Promise.all([
      calendar.book('2026-12-01T09:00', { callId: 'AJ_1', caller: 'caller-AJ_1' }),
      calendar.book('2026-12-01T09:00', { callId: 'AJ_2', caller: 'caller-AJ_2' }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'taken' }]);
  });

  it("finds, moves and cancels only the caller's own appointment", async () => {
    const first = await calendar.book('2026-12-01T09:00', { callId: 'AJ_1', caller: '+15550001' });
    await calendar.book('2026-12-02T09:00', { callId: 'AJ_2', caller: '+15550002' });
    if (!first.ok) throw new Error('booking failed');
    expect(await calendar.nextBooking('+15550001')).toEqual({ bookingId: first.bookingId, slot: { id: '2026-12-01T09:00' } });
    expect(await calendar.nextBooking('+15559999')).toBeUndefined();

    // Someone else cannot move or cancel it, even knowing its id.
    expect(await calendar.cancel(first.bookingId, '+15550002')).toEqual({ ok: false, reason: 'unknown_booking' });
    expect(await calendar.reschedule(first.bookingId, '2026-12-03T09:00', { callId: 'AJ_3', caller: '+15550002' })).toEqual({
      ok: false,
      reason: 'unknown_booking',
    });
    // A move to a taken slot changes nothing.
    expect(await calendar.reschedule(first.bookingId, '2026-12-02T09:00', { callId: 'AJ_3', caller: '+15550001' })).toEqual({
      ok: false,
      reason: 'taken',
    });

    const moved = await calendar.reschedule(first.bookingId, '2026-12-03T10:00', { callId: 'AJ_3', caller: '+15550001' });
    expect(moved).toMatchObject({ ok: true, slot: { id: '2026-12-03T10:00' }, replacedBookingId: first.bookingId });
    const free = (await calendar.freeSlots({ weekday: 'Tuesday', limit: 1 }))[0];
    expect(free?.id).toBe('2026-12-01T08:00');
    expect((await calendar.freeSlots({ weekday: 'Tuesday', limit: 3 })).map((s) => s.id)).toContain('2026-12-01T09:00');

    if (!moved.ok) throw new Error('move failed');
    expect(await calendar.cancel(moved.bookingId, '+15550001')).toMatchObject({ ok: true, slot: { id: '2026-12-03T10:00' } });
    expect(await calendar.nextBooking('+15550001')).toBeUndefined();
    const stored = JSON.parse(readFileSync(join(dir, 'nested', 'calendar.json'), 'utf8'));
    expect(stored.bookings.map((b: { slotId: string }) => b.slotId)).toEqual(['2026-12-02T09:00']);
  });
});
