import { describe, expect, it } from 'vitest';
import { outcomeOfSipError } from './call-placer.js';
import { allowed, inWindow, localTime, nextWindowStart, retryDelayMs } from './dial-policy.js';

const weekdays9to17 = { timeZone: 'America/New_York', startHour: 9, endHour: 17, days: [1, 2, 3, 4, 5] };

describe('calling window (callee time zone)', () => {
  it('reads the local hour and weekday in the callee time zone', () => {
    // 2026-11-25 14:30 UTC is Wednesday 09:30 in New York (EST, UTC-5).
    expect(localTime(new Date('2026-11-25T14:30:00Z'), 'America/New_York')).toEqual({ day: 3, hour: 9, minute: 30 });
    expect(inWindow(new Date('2026-11-25T14:30:00Z'), weekdays9to17)).toBe(true);
    expect(inWindow(new Date('2026-11-25T13:59:00Z'), weekdays9to17)).toBe(false);
    expect(inWindow(new Date('2026-11-25T22:00:00Z'), weekdays9to17)).toBe(false);
  });

  it('waits for the next opening: later today, tomorrow, or after the weekend', () => {
    expect(nextWindowStart(new Date('2026-11-25T12:00:00Z'), weekdays9to17)?.toISOString()).toBe('2026-11-25T14:00:00.000Z');
    expect(nextWindowStart(new Date('2026-11-25T23:00:00Z'), weekdays9to17)?.toISOString()).toBe('2026-11-26T14:00:00.000Z');
    // Friday 18:00 in New York -> Monday 09:00.
    expect(nextWindowStart(new Date('2026-11-27T23:00:00Z'), weekdays9to17)?.toISOString()).toBe('2026-11-30T14:00:00.000Z');
  });

  it('follows daylight saving time', () => {
    // Monday 9 March 2026: New York is on EDT (UTC-4) since Sunday.
    expect(nextWindowStart(new Date('2026-03-09T05:00:00Z'), weekdays9to17)?.toISOString()).toBe('2026-03-09T13:00:00.000Z');
  });

  it('never opens a window with no allowed day hours', () => {
    expect(nextWindowStart(new Date('2026-11-25T12:00:00Z'), { ...weekdays9to17, days: [] })).toBeUndefined();
  });
});

describe('what an outcome means', () => {
  it('retries busy, no answer and voicemail with growing delays; stops on answer or invalid number', () => {
    expect(retryDelayMs('busy', 1, 1000)).toBe(1000);
    expect(retryDelayMs('no_answer', 2, 1000)).toBe(4000);
    expect(retryDelayMs('voicemail', 3, 1000)).toBe(16000);
    expect(retryDelayMs('answered', 1, 1000)).toBeUndefined();
    expect(retryDelayMs('invalid_number', 1, 1000)).toBeUndefined();
  });

  it('reads SIP failure codes from livekit-sip errors', () => {
    expect(outcomeOfSipError(new Error('twirp error unknown: INVITE failed: sip status: 486: Busy Here'))).toBe('busy');
    expect(outcomeOfSipError(new Error('sip status: 480: Temporarily Unavailable'))).toBe('no_answer');
    expect(outcomeOfSipError(new Error('sip status: 404: Not Found'))).toBe('invalid_number');
    expect(outcomeOfSipError(new Error('connection refused'))).toBe('failed');
  });

  it('allows only listed prefixes', () => {
    expect(allowed('+15550100', ['+1'])).toBe(true);
    expect(allowed('+445550100', ['+1'])).toBe(false);
    expect(allowed('+15550100', [])).toBe(false);
  });
});
