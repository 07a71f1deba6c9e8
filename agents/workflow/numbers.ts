import { normalizeUtterance } from './intents.js';

/** Numbers as recognizers write them: digits ("5,000", "$5000") or words ("five thousand"). */

const UNITS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
  ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16,
  seventeen: 17, eighteen: 18, nineteen: 19,
};
const TENS: Record<string, number> = {
  twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};
const SCALES: Record<string, number> = { thousand: 1_000, k: 1_000, million: 1_000_000 };

const DIGIT_WORDS: Record<string, string> = {
  zero: '0', oh: '0', o: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6',
  seven: '7', eight: '8', nine: '9',
};

/**
 * The first amount in the text, in whole units: "about 5,000 dollars" -> 5000, "twenty five
 * thousand" -> 25000, "a million" -> 1000000. Undefined when it names none.
 */
export function parseAmount(text: string): number | undefined {
  const digits = text.replace(/(\d),(\d{3})/g, '$1$2').match(/(\d+(?:\.\d+)?)\s*(k|thousand|million)?\b/i);
  if (digits) {
    const scale = digits[2] ? SCALES[digits[2].toLowerCase()]! : 1;
    return Math.round(Number(digits[1]) * scale);
  }
  let total = 0;
  let group = 0;
  let seen = false;
  for (const word of normalizeUtterance(text).split(' ')) {
    if (word in UNITS) {
      group += UNITS[word]!;
      seen = true;
    } else if (word in TENS) {
      group += TENS[word]!;
      seen = true;
    } else if (word === 'hundred') {
      group = (group || 1) * 100;
      seen = true;
    } else if (word in SCALES) {
      total += (group || 1) * SCALES[word]!;
      group = 0;
      seen = true;
    } else if (word === 'a' || word === 'and') {
      continue;
    } else if (seen) {
      break;
    }
  }
  return seen ? total + group : undefined;
}

/** Digits read out one by one ("one two three four") or written ("12-34"), joined; at least 4. */
export function parseDigitString(text: string): string | undefined {
  const written = text.replace(/[\s-]/g, '').match(/\d{4,}/);
  if (written) return written[0];
  const spoken = normalizeUtterance(text)
    .split(' ')
    .map((w) => DIGIT_WORDS[w] ?? (/^\d$/.test(w) ? w : ' '))
    .join('')
    .split(' ')
    .find((run) => run.length >= 4);
  return spoken;
}
