import { describe, expect, it } from 'vitest';
import { parseAmount, parseDigitString } from './numbers.js';

describe('parseAmount', () => {
  it.each([
    ['about 5,000 dollars', 5000],
    ['$12000', 12000],
    ['maybe 20k', 20000],
    ['1.5 million', 1_500_000],
    ['five thousand dollars', 5000],
    ['twenty five thousand', 25000],
    ['two hundred and fifty thousand', 250000],
    ['a million', 1_000_000],
    ['around nine hundred', 900],
  ])('%s -> %d', (text, amount) => {
    expect(parseAmount(text)).toBe(amount);
  });

  it('is undefined when no amount is named', () => {
    expect(parseAmount("I'd rather not say")).toBeUndefined();
  });
});

describe('parseDigitString', () => {
  it('joins spoken and written digits', () => {
    expect(parseDigitString('it is one two three four five')).toBe('12345');
    expect(parseDigitString('my account is 88-1234')).toBe('881234');
    expect(parseDigitString('oh four two nine')).toBe('0429');
  });

  it('needs at least four digits', () => {
    expect(parseDigitString('one two')).toBeUndefined();
    expect(parseDigitString('I do not know it')).toBeUndefined();
  });
});
