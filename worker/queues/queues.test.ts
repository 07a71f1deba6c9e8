import { describe, expect, it } from 'vitest';
import { callRecordJobId, crmBackoff } from './queues.js';

describe('crm-sync retry timing', () => {
  it('doubles from the base, never above the ceiling, jittered between half and all of it', () => {
    const options = { baseMs: 1000, maxDelayMs: 300_000 };
    for (let attempt = 1; attempt <= 300; attempt++) {
      const ceiling = Math.min(300_000, 1000 * 2 ** (attempt - 1));
      const delay = crmBackoff(attempt, options);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
    const spread = new Set(Array.from({ length: 50 }, () => crmBackoff(12, options)));
    expect(spread.size).toBeGreaterThan(10);
  });

  it('keeps retrying a CRM that is down for an hour: 300 attempts last well over a day', () => {
    let total = 0;
    for (let attempt = 1; attempt < 300; attempt++) total += Math.min(300_000, 1000 * 2 ** (attempt - 1)) / 2;
    expect(total).toBeGreaterThan(12 * 3600 * 1000);
  });

  it('builds job ids BullMQ accepts', () => {
    expect(callRecordJobId('AJ_x:y')).toBe('call-AJ_x_y');
    expect(callRecordJobId('123')).toBe('call-123');
  });
});
