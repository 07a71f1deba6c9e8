/**
 * Removes payment card numbers and US social security numbers from text before it is logged or
 * stored. Callers read numbers out, so recognizers produce them as digits ("4111 1111 ...") or
 * as words ("four one one one ..."); both forms are caught.
 */

const DIGIT_WORDS: Record<string, string> = {
  zero: '0', oh: '0', o: '0', one: '1', two: '2', three: '3', four: '4', five: '5',
  six: '6', seven: '7', eight: '8', nine: '9',
};

export const CARD_MASK = '[card number]';
export const SSN_MASK = '[ssn]';

/** Luhn checksum, which every payment card number satisfies. */
function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function classify(digits: string): string | undefined {
  if (digits.length >= 13 && digits.length <= 19 && passesLuhn(digits)) return CARD_MASK;
  if (digits.length === 9) return SSN_MASK;
  return undefined;
}

export function redactSensitive(text: string): string {
  // Digits, possibly grouped by spaces or dashes.
  let out = text.replace(/\b\d(?:[ -]?\d){8,18}\b/g, (match) => classify(match.replace(/\D/g, '')) ?? match);
  // Runs of spoken digits.
  const word = Object.keys(DIGIT_WORDS).join('|');
  const spoken = new RegExp(`\\b(?:${word})(?:[\\s,-]+(?:${word})){8,18}\\b`, 'gi');
  out = out.replace(spoken, (match) => {
    const digits = match
      .toLowerCase()
      .split(/[\s,-]+/)
      .map((w) => DIGIT_WORDS[w] ?? '')
      .join('');
    return classify(digits) ?? match;
  });
  return out;
}
