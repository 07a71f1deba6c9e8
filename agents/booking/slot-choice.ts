import { normalizeUtterance } from '../workflow/intents.js';
import { describeSlot, hourOf, weekdayOf, type Slot } from './calendar.js';

const NUMBER_WORDS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, noon: 12,
};
const ORDINALS: Record<string, number> = { first: 0, second: 1, third: 2, last: -1 };

/** "Tuesday at 9 AM, Tuesday at 10 AM or Wednesday at 2 PM". */
export function listSlots(slots: readonly Slot[]): string {
  const spoken = slots.map(describeSlot);
  return spoken.length <= 1 ? (spoken[0] ?? '') : `${spoken.slice(0, -1).join(', ')} or ${spoken.at(-1)}`;
}

/**
 * Which offered slot the caller picked: by position ("the second one"), by hour ("two",
 * "2 pm"), narrowed by weekday when they name one. Undefined when it is not clear.
 */
export function chooseSlot(text: string, offered: readonly Slot[]): Slot | undefined {
  const words = normalizeUtterance(text).split(' ');
  for (const word of words) {
    const index = ORDINALS[word];
    if (index !== undefined) return offered.at(index);
  }
  const onDay = offered.filter((s) => words.includes(weekdayOf(s).toLowerCase()));
  const candidates = onDay.length > 0 ? onDay : offered;
  const hours = words.map((w) => NUMBER_WORDS[w] ?? (/^\d{1,2}$/.test(w) ? Number(w) : undefined)).filter((h) => h !== undefined);
  const afternoon = words.includes('pm') || words.includes('afternoon') || (words.includes('p') && words.includes('m'));
  for (const hour of hours) {
    const matches = candidates.filter((s) => hourOf(s) % 12 === hour % 12 && (!afternoon || hourOf(s) >= 12));
    if (matches.length === 1) return matches[0];
  }
  if (hours.length === 0 && onDay.length === 1) return onDay[0];
  return undefined;
}
