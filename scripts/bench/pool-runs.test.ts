import { describe, expect, it } from 'vitest';
import { type LevelRun, poolRuns } from './latency.js';

function run(setupMs: number, cpuCores: number, seconds: number, peakRssMiB: number): LevelRun {
  return {
    peer: 'voicefleet',
    calls: 1,
    v2vMs: [setupMs / 2],
    v2vByLine: setupMs > 1500 ? { 'where are you located': [setupMs / 2] } : { 'what are your opening hours': [setupMs / 2] },
    setupMs: [setupMs],
    stages: { endOfTurnMs: [1], transcriptionMs: [2], llmFirstTokenMs: [], ttsFirstAudioMs: [3], agentSideV2vMs: [4], eotMargin: [setupMs > 1500 ? -0.01 : 0.2] },
    usage: { cpuCores, peakRssMiB, addedRssMiB: peakRssMiB - 800, addedPssMiB: peakRssMiB - 900, machineLoad: cpuCores / 2, seconds },
    failedTurns: 1,
    failedCalls: 0,
  };
}

describe('poolRuns', () => {
  it('keeps every sample of both rounds and weights their usage by how long each ran', () => {
    const pooled = poolRuns(run(1000, 0.2, 10, 900), run(2000, 0.5, 30, 1100));
    expect(pooled.setupMs).toEqual([1000, 2000]);
    expect(pooled.v2vMs).toEqual([500, 1000]);
    expect(pooled.stages.ttsFirstAudioMs).toEqual([3, 3]);
    expect(pooled.stages.llmFirstTokenMs).toEqual([]);
    expect(pooled.stages.eotMargin).toEqual([0.2, -0.01]);
    expect(pooled.v2vByLine).toEqual({ 'what are your opening hours': [500], 'where are you located': [1000] });
    expect(pooled.usage.cpuCores).toBeCloseTo((0.2 * 10 + 0.5 * 30) / 40);
    expect(pooled.usage.peakRssMiB).toBe(1100);
    expect(pooled.usage.addedRssMiB).toBe(300);
    expect(pooled.usage.addedPssMiB).toBe(200);
    expect(pooled.usage.seconds).toBe(40);
    expect(pooled.failedTurns).toBe(2);
    expect(pooled.calls).toBe(1);
  });
});
