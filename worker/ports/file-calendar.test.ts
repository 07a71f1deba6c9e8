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
    const result = await calendar.book('2026-11-30T11:00', 'AJ_1');
    expect(result).toMatchObject({ ok: true, slot: { id: '2026-11-30T11:00' } });
    const stored = JSON.parse(readFileSync(join(dir, 'nested', 'calendar.json'), 'utf8'));
    expect(stored.bookings).toHaveLength(1);
    expect(stored.bookings[0]).toMatchObject({ slotId: '2026-11-30T11:00', callId: 'AJ_1' });
    expect((await calendar.freeSlots({ limit: 1 }))[0]!.id).toBe('2026-11-30T12:00');
  });

  it('refuses a taken slot, a past slot and a slot outside opening hours', async () => {
    await calendar.book('2026-11-30T11:00', 'AJ_1');
    expect(await calendar.book('2026-11-30T11:00', 'AJ_2')).toEqual({ ok: false, reason: 'taken' });
    expect(await calendar.book('2026-11-30T09:00', 'AJ_2')).toEqual({ ok: false, reason: 'unknown_slot' });
    expect(await calendar.book('2026-11-30T22:00', 'AJ_2')).toEqual({ ok: false, reason: 'unknown_slot' });
  });

  it('lets only one of two simultaneous callers have the same slot', async () => {
    const results = await Promise.all([
      calendar.book('2026-12-01T09:00', 'AJ_1'),
      calendar.book('2026-12-01T09:00', 'AJ_2'),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'taken' }]);
  });
});
