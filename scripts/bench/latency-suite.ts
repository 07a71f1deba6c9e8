import type { TestStack } from '../../test/support/servers.js';
import { loadConfig } from '../../worker/config.js';
import { sessionTurnHandling, SILERO_MIN_SILENCE_MS } from '../../worker/turn-handling.js';
import { type Peer, runLatency } from './latency.js';
import { BenchProviders, type ProviderSet } from './latency-providers.js';
import { latencyReport } from './latency-report.js';
import { writeResult } from './results.js';

/** The framework's defaults the stock agent runs with: Silero's 550 ms silence, endpointing min 500 ms. */
const STOCK_ENDPOINTING_MS = Math.max(SILERO_MIN_SILENCE_MS, 500);

export interface LatencySuiteOptions {
  calls: number;
  turns: number;
  providers: ProviderSet;
  /** Extra concurrency levels for the sweep; the headline `calls` level always runs. */
  sweep: number[];
  peers: Peer[];
  /** Times each level runs in a row, samples pooled (default 1). */
  rounds?: number;
  /** Where results go (tests write to a temporary folder). */
  resultsDir?: string;
}

/** `npm run bench -- --suite latency`: voicefleet and the stock agent, same callers, same providers. */
export async function latencySuite(stack: TestStack, options: LatencySuiteOptions): Promise<string> {
  const startedAt = performance.now();
  const providers = await BenchProviders.start(options.providers);
  try {
    const levels = [...new Set([...options.sweep, options.calls])].sort((a, b) => a - b);
    const runs = await runLatency({ stack, providers, levels, turns: options.turns, peers: options.peers, rounds: options.rounds });
    // The STT endpoint's own measurements come back when it stops.
    await providers.close();
    const endpointing = sessionTurnHandling(false).endpointing as { minDelay: number };
    const result = latencyReport({
      runs,
      providers: options.providers,
      providersDescription: providers.describe(),
      turns: options.turns,
      rounds: options.rounds ?? 1,
      headlineCalls: options.calls,
      sttFinalMs: providers.sttDelaysMs,
      endpointingMs: { voicefleet: Math.max(loadConfig().VOICEFLEET_VAD_MIN_SILENCE_MS, endpointing.minDelay), stock: STOCK_ENDPOINTING_MS },
      durationS: (performance.now() - startedAt) / 1000,
    });
    return writeResult(result, options.resultsDir);
  } finally {
    await providers.close();
  }
}
