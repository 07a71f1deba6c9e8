import type { TrialResult } from './trials.js';

export interface KindSummary {
  kind: string;
  agent: TrialResult['agent'];
  trials: number;
  survived: number;
  contextKept: number;
  /** The worst silence at the caller over the kind's surviving trials (ms). */
  worstSilenceMs?: number;
  notes: string[];
}

export function summarise(results: readonly TrialResult[]): KindSummary[] {
  const byKey = new Map<string, KindSummary>();
  for (const r of results) {
    const key = `${r.agent}:${r.kind}`;
    const s = byKey.get(key) ?? { kind: r.kind, agent: r.agent, trials: 0, survived: 0, contextKept: 0, notes: [] };
    s.trials += 1;
    if (r.survived) s.survived += 1;
    if (r.contextKept) s.contextKept += 1;
    if (r.survived && r.silenceMs !== undefined) s.worstSilenceMs = Math.max(s.worstSilenceMs ?? 0, r.silenceMs);
    if (r.note && !s.notes.includes(r.note)) s.notes.push(r.note);
    byKey.set(key, s);
  }
  return [...byKey.values()];
}

/** The chaos table in markdown: one row per fault and agent. */
export function resultsTable(summary: readonly KindSummary[]): string {
  const rows = summary.map(
    (s) =>
      `| ${s.kind} | ${s.agent} | ${s.trials} | ${s.survived} | ${s.contextKept} | ${s.worstSilenceMs === undefined ? '-' : `${(s.worstSilenceMs / 1000).toFixed(1)} s`} | ${s.notes.slice(0, 2).join('; ').replace(/\|/g, '/')} |`,
  );
  return ['| fault | agent | trials | survived | context kept | worst silence | notes |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}
