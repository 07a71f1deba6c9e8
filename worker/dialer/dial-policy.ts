import type { DialOutcome, DialRequest } from './dial-request.js';

/**
 * When a call may be placed and what happens after each outcome: pure functions, so the rules a
 * compliance reviewer reads are the rules the dialer runs.
 */

/** The callee's local weekday and hour at `at`. */
export function localTime(at: Date, timeZone: string): { day: number; hour: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return { day, hour: Number(get('hour')), minute: Number(get('minute')) };
}

export function inWindow(at: Date, window: DialRequest['window']): boolean {
  const { day, hour } = localTime(at, window.timeZone);
  return window.days.includes(day) && hour >= window.startHour && hour < window.endHour;
}

const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * The first moment at or after `from` inside the window. Local hours start on a UTC quarter hour
 * in every time zone, so quarter-hour steps over eight days find it exactly, across DST changes.
 */
export function nextWindowStart(from: Date, window: DialRequest['window']): Date | undefined {
  if (inWindow(from, window)) return from;
  const start = Math.ceil(from.getTime() / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
  for (let step = 0; step <= 8 * 24 * 4; step += 1) {
    const at = new Date(start + step * QUARTER_HOUR_MS);
    if (inWindow(at, window)) return at;
  }
  return undefined;
}

/** Retry after busy, no answer or voicemail; never after an invalid number; done when answered. */
export function retryDelayMs(outcome: DialOutcome, attemptsMade: number, baseMs: number): number | undefined {
  switch (outcome) {
    case 'answered':
    case 'invalid_number':
      return undefined;
    case 'busy':
    case 'no_answer':
    case 'voicemail':
    case 'failed':
      // 1x, 4x, 16x the base: a busy line is retried soon, an absent callee later.
      return baseMs * 4 ** Math.max(0, attemptsMade - 1);
  }
}

/** Numbers the deployment may call: E.164 prefixes, e.g. "+1" or "+4420". Empty allows none. */
export function allowed(to: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => to.startsWith(prefix));
}
