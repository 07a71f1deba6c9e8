import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/support/servers.js';
import { latencySuite } from './latency-suite.js';
import { mostCallsWithinLimit } from './latency-report.js';

/**
 * `npm run bench -- --suite latency` at its smallest: one caller, one turn, voicefleet and the
 * stock peer, the injected-latency providers through the real Deepgram and OpenAI plugins. It
 * checks that the harness measures both agents and writes its JSON and chart; the figures
 * themselves belong to a full run on a quiet machine.
 */
describe('latency benchmark harness', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('measures voicefleet and the stock agent on the same call and writes results and a chart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'voicefleet-bench-'));
    const path = await latencySuite(stack, { calls: 1, turns: 1, providers: 'injected', sweep: [], peers: ['voicefleet', 'stock'], resultsDir: dir });
    const result = JSON.parse(readFileSync(path, 'utf8')) as {
      machine: { cpus: number };
      figures: Record<string, { p50: number; n: number }>;
      peer: { figures: Record<string, { p50: number; n: number }> };
      ratios: Record<string, number>;
      config: { sttFinalMeasuredMs: { n: number; p50: number } };
    };
    expect(result.machine.cpus).toBeGreaterThan(0);
    for (const figures of [result.figures, result.peer.figures]) {
      expect(figures.v2v_ms!.n).toBe(1);
      // The answer cannot come before the providers' injected latencies (LLM 300 + TTS 150 ms).
      expect(figures.v2v_ms!.p50).toBeGreaterThan(450);
      expect(figures.call_setup_ms!.n).toBe(1);
      // The agent's own trace of the turn: its end-of-turn decision, and a TTS that took at least
      // the injected 150 ms (the LLM's stage is missing from turns answered preemptively).
      expect(figures.stage_end_of_turn_ms!.n).toBeGreaterThanOrEqual(1);
      expect(figures.stage_tts_first_audio_ms!.p50).toBeGreaterThanOrEqual(140);
      // The end-of-turn model's prediction for the turn was read from the agent's log.
      expect(figures.eot_unlikely_fraction!.n).toBe(1);
      // What the call itself added to the worker's tree: its job process at least (a Node process
      // with the audio stack is well over 50 MiB), and less than the whole tree.
      expect(figures.rss_added_per_call_mb!.p50).toBeGreaterThan(50);
      expect(figures.rss_added_per_call_mb!.p50).toBeLessThan(figures.rss_per_call_mb!.p50);
      // Counted proportionally (shared library pages split), still a whole Node process.
      expect(figures.pss_added_per_call_mb!.p50).toBeGreaterThan(30);
      expect(figures.pss_added_per_call_mb!.p50).toBeLessThan(figures.rss_per_call_mb!.p50);
    }
    // Both agents' speech went through the Deepgram stub, which answered after the caller stopped.
    expect(result.config.sttFinalMeasuredMs.n).toBeGreaterThanOrEqual(2);
    expect(result.config.sttFinalMeasuredMs.p50).toBeGreaterThanOrEqual(90);
    expect(result.ratios.v2v_ms_p95).toBeGreaterThan(0);
    const svg = path.replace(/\.json$/, '.svg');
    expect(existsSync(svg)).toBe(true);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*voicefleet p95[\s\S]*stock p95[\s\S]*<\/svg>\n$/);
  }, 420_000);

  it('finds the most calls before v2v p95 grows by more than 20%', () => {
    expect(mostCallsWithinLimit([{ calls: 1, p95: 700 }, { calls: 4, p95: 800 }, { calls: 8, p95: 900 }, { calls: 16, p95: 820 }])).toBe(4);
    expect(mostCallsWithinLimit([{ calls: 2, p95: 500 }, { calls: 1, p95: 500 }])).toBe(2);
    expect(mostCallsWithinLimit([])).toBeUndefined();
  });
});
