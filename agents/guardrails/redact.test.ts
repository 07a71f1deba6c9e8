import { describe, expect, it } from 'vitest';
import { CARD_MASK, redactSensitive, SSN_MASK } from './redact.js';

describe('redactSensitive', () => {
  it.each([
    ['my card is 4111 1111 1111 1111 thanks', `my card is ${CARD_MASK} thanks`],
    ['4111-1111-1111-1111', CARD_MASK],
    ['5500005555555559', CARD_MASK],
    ['my social is 123-45-6789', `my social is ${SSN_MASK}`],
    ['my social is 123456789', `my social is ${SSN_MASK}`],
    [
      'it is four one one one one one one one one one one one one one one one',
      `it is ${CARD_MASK}`,
    ],
    ['one two three four five six seven eight nine', SSN_MASK],
  ])('masks %j', (input, expected) => {
    expect(redactSensitive(input)).toBe(expected);
  });

  it.each([
    'call me at 555 0100',
    'my booking is for tuesday at 3',
    '4111 1111 1111 1112', // fails the card checksum
    'I have two kids and one dog',
  ])('leaves %j alone', (input) => {
    expect(redactSensitive(input)).toBe(input);
  });
});
