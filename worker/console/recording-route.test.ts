import { describe, expect, it } from 'vitest';
import { parseRange } from './recording-route.js';

describe('recording byte ranges', () => {
  it('reads the single ranges players send and ignores the rest', () => {
    expect(parseRange('bytes=0-')).toEqual({ start: 0 });
    expect(parseRange('bytes=100-199')).toEqual({ start: 100, end: 199 });
    expect(parseRange(undefined)).toBeUndefined();
    expect(parseRange('bytes=-500')).toBeUndefined();
    expect(parseRange('bytes=0-1,5-9')).toBeUndefined();
    expect(parseRange('items=0-1')).toBeUndefined();
  });
});
