import { describe, expect, it } from 'vitest';
import { resultsTable, summarise } from './table.js';

describe('chaos table', () => {
  it('counts trials per fault and agent, and takes the worst silence of the calls that survived', () => {
    const summary = summarise([
      { kind: 'kill-job', agent: 'voicefleet', survived: true, contextKept: true, silenceMs: 4200 },
      { kind: 'kill-job', agent: 'voicefleet', survived: true, contextKept: false, silenceMs: 6100 },
      { kind: 'kill-job', agent: 'voicefleet', survived: false, contextKept: false, silenceMs: 30_000, note: 'no agent came back' },
      { kind: 'kill-job', agent: 'stock', survived: false, contextKept: false, note: 'silence until the caller gave up' },
    ]);
    expect(summary).toEqual([
      { kind: 'kill-job', agent: 'voicefleet', trials: 3, survived: 2, contextKept: 1, worstSilenceMs: 6100, notes: ['no agent came back'] },
      { kind: 'kill-job', agent: 'stock', trials: 1, survived: 0, contextKept: 0, notes: ['silence until the caller gave up'] },
    ]);
    const table = resultsTable(summary).split('\n');
    expect(table[2]).toBe('| kill-job | voicefleet | 3 | 2 | 1 | 6.1 s | no agent came back |');
    expect(table[3]).toBe('| kill-job | stock | 1 | 0 | 0 | - | silence until the caller gave up |');
  });
});
