/**
 * Keyword intent matching for scripted workflows. Recognizers on phone audio drop and swap small
 * words, so intents match on a few robust content words rather than whole phrases.
 */

export interface IntentPattern<Name extends string = string> {
  name: Name;
  patterns: readonly RegExp[];
}

/** Lowercases, drops punctuation and folds whitespace so patterns see plain words. */
export function normalizeUtterance(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’']/g, "'")
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The first intent (in priority order) with a matching pattern, or undefined. */
export function matchIntent<Name extends string>(
  text: string,
  intents: readonly IntentPattern<Name>[],
): Name | undefined {
  const normalized = normalizeUtterance(text);
  if (normalized === '') return undefined;
  return intents.find((intent) => intent.patterns.some((p) => p.test(normalized)))?.name;
}

export const YES = /\b(yes|yeah|yep|sure|please|okay|ok|correct|right|absolutely|definitely)\b/;
export const NO = /\b(no|nope|nah|not really|nothing|that's all|that is all|i'm good|i am good)\b/;

export const WEEKDAYS = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;

/** A day the caller named ("tuesday", "tomorrow", "today"), if any. */
export function findDay(text: string): string | undefined {
  const normalized = normalizeUtterance(text);
  const day = WEEKDAYS.find((d) => new RegExp(`\\b${d}\\b`).test(normalized));
  if (day) return day[0]!.toUpperCase() + day.slice(1);
  if (/\btomorrow\b/.test(normalized)) return 'tomorrow';
  if (/\btoday\b/.test(normalized)) return 'today';
  return undefined;
}
