import { figure, type BenchResult, type Figure } from './results.js';
import type { LevelRun, Peer } from './latency.js';
import { INJECTED_MS, type ProviderSet } from './latency-providers.js';
import { barPanel, linePanel, svgDocument } from './svg-chart.js';

/** v2v p95 may grow this much over the single-call p95 before a level counts as overloaded. */
export const SWEEP_GROWTH_LIMIT = 1.2;

export interface ReportInputs {
  runs: LevelRun[];
  providers: ProviderSet;
  providersDescription: string;
  turns: number;
  /** Times each level ran in a row, its samples pooled. */
  rounds: number;
  /** The concurrency the headline figures are taken at. */
  headlineCalls: number;
  /** End of speech -> final transcript, as the STT endpoint really sent it (injected set only). */
  sttFinalMs: number[];
  /**
   * Each agent's configured endpointing wait after the last word: the framework commits a turn
   * no sooner than the VAD's silence and no sooner than endpointing's min delay, both counted
   * from the end of speech, so the wait is the larger of the two.
   */
  endpointingMs: Record<Peer, number>;
  durationS: number;
}

const PEER_NAME = 'stock agents-js starter-style agent (default AgentSession turn handling and endpointing, same providers)';

/** Figures of one agent at one level, all named with their units. */
function figuresOf(run: LevelRun, inputs: ReportInputs): Record<string, Figure> {
  const injected = inputs.providers === 'injected';
  const stt = injected ? median(inputs.sttFinalMs) : 0;
  const providerMs = injected ? stt + INJECTED_MS.llmFirstToken + INJECTED_MS.ttsFirstAudio : 0;
  const figures: Record<string, Figure> = {
    v2v_ms: figure(run.v2vMs),
    call_setup_ms: figure(run.setupMs),
    stage_end_of_turn_ms: figure(run.stages.endOfTurnMs),
    stage_transcription_ms: figure(run.stages.transcriptionMs),
    stage_llm_first_token_ms: figure(run.stages.llmFirstTokenMs),
    stage_tts_first_audio_ms: figure(run.stages.ttsFirstAudioMs),
    agent_side_v2v_ms: figure(run.stages.agentSideV2vMs),
    cpu_per_call_cores: single(run.usage.cpuCores / run.calls, 'cores', 3),
    rss_per_call_mb: single(run.usage.peakRssMiB / run.calls, 'MiB', 1),
    rss_added_per_call_mb: single(run.usage.addedRssMiB / run.calls, 'MiB', 1),
    pss_added_per_call_mb: single(run.usage.addedPssMiB / run.calls, 'MiB', 1),
    machine_load_fraction: single(run.usage.machineLoad, 'fraction', 2),
    eot_unlikely_fraction: single(unlikelyShare(run.stages.eotMargin), 'fraction', 3),
  };
  if (injected) figures.overhead_ms = figure(run.v2vMs.map((v) => v - providerMs - inputs.endpointingMs[run.peer]));
  return figures;
}

/** Share of end-of-turn predictions below the model's threshold: turns that waited endpointing's max delay. */
function unlikelyShare(margins: readonly number[]): number {
  return margins.length ? margins.filter((m) => m < 0).length / margins.length : NaN;
}

/** Per agent at the headline level: v2v per caller line and the end-of-turn model's margins, to tell a ceiling hit from a slow fleet. */
function endOfTurnDetails(run: LevelRun) {
  return {
    peer: run.peer,
    v2vByLine: Object.fromEntries(Object.entries(run.v2vByLine).map(([line, samples]) => [line, figure(samples)])),
    eotMargin: marginSummary(run.stages.eotMargin),
  };
}

/** The margins are fractions of one: `figure` would round them away. */
function marginSummary(margins: readonly number[]) {
  const sorted = [...margins].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? null;
  return { min: sorted[0] ?? null, p05: at(0.05), p50: at(0.5), n: sorted.length, belowThreshold: sorted.filter((m) => m < 0).length, unit: 'probability - threshold' };
}

function single(value: number, unit: string, digits: number): Figure {
  const v = Number(value.toFixed(digits));
  return { p50: v, p95: v, p99: v, max: v, n: Number.isFinite(value) ? 1 : 0, unit };
}

function median(samples: readonly number[]): number {
  return figure(samples).p50;
}

/** The largest level whose v2v p95 stays within the growth limit of the single-call p95 (every level below it too). */
export function mostCallsWithinLimit(levels: { calls: number; p95: number }[]): number | undefined {
  const sorted = [...levels].sort((a, b) => a.calls - b.calls);
  const base = sorted[0]?.p95;
  if (base === undefined || !Number.isFinite(base)) return undefined;
  let best: number | undefined;
  for (const level of sorted) {
    if (!(level.p95 <= base * SWEEP_GROWTH_LIMIT)) break;
    best = level.calls;
  }
  return best;
}

export function latencyReport(inputs: ReportInputs): BenchResult {
  const at = (peer: Peer) => inputs.runs.find((r) => r.peer === peer && r.calls === inputs.headlineCalls);
  const ours = at('voicefleet');
  const stock = at('stock');
  const figures = ours ? figuresOf(ours, inputs) : {};
  const peerFigures = stock ? figuresOf(stock, inputs) : undefined;

  const sweep = (['voicefleet', 'stock'] as const).flatMap((peer) => {
    const levels = inputs.runs.filter((r) => r.peer === peer).map((r) => ({ calls: r.calls, ...figure(r.v2vMs), cpuCores: Number(r.usage.cpuCores.toFixed(3)), peakRssMiB: Math.round(r.usage.peakRssMiB), addedRssMiB: Math.round(r.usage.addedRssMiB), addedPssMiB: Math.round(r.usage.addedPssMiB), machineLoad: Number(r.usage.machineLoad.toFixed(2)), failedTurns: r.failedTurns }));
    return levels.length ? [{ peer, levels, mostCallsWithinLimit: mostCallsWithinLimit(levels) ?? null }] : [];
  });
  const most = (peer: Peer) => sweep.find((s) => s.peer === peer)?.mostCallsWithinLimit;
  if (sweep.length && inputs.runs.some((r) => r.calls !== inputs.headlineCalls)) {
    const ourMost = most('voicefleet');
    const stockMost = most('stock');
    if (ourMost != null) figures.most_calls_per_worker_within_20pct = single(ourMost, 'calls', 0);
    if (peerFigures && stockMost != null) peerFigures.most_calls_per_worker_within_20pct = single(stockMost, 'calls', 0);
  }

  const ratios: Record<string, number> = {};
  if (peerFigures) {
    for (const [name, f] of Object.entries(figures)) {
      const p = peerFigures[name];
      if (!p || name === 'overhead_ms' || name === 'eot_unlikely_fraction') continue;
      for (const q of ['p50', 'p95'] as const) {
        if (Number.isFinite(f[q]) && Number.isFinite(p[q]) && p[q] !== 0) ratios[`${name}_${q}`] = Number((f[q] / p[q]).toFixed(3));
      }
    }
  }
  const failedTurns = inputs.runs.reduce((sum, r) => sum + r.failedTurns, 0);
  const failedCalls = inputs.runs.reduce((sum, r) => sum + r.failedCalls, 0);

  return {
    suite: 'latency',
    config: {
      transport: 'webrtc',
      sip: 'not measured: livekit-sip cannot be built on this machine (the Go module proxy refuses it), so no SIP legs ran',
      concurrentCalls: inputs.headlineCalls,
      sweepLevels: [...new Set(inputs.runs.map((r) => r.calls))].sort((a, b) => a - b),
      turnsPerCall: inputs.turns,
      roundsPerLevel: inputs.rounds,
      providers: inputs.providers,
      providersDescription: inputs.providersDescription,
      ...(inputs.providers === 'injected' ? { injectedMs: { stt: INJECTED_MS.sttFinal, llm: INJECTED_MS.llmFirstToken, tts: INJECTED_MS.ttsFirstAudio }, sttFinalMeasuredMs: figure(inputs.sttFinalMs) } : {}),
      endpointingMs: inputs.endpointingMs,
      durationS: Math.round(inputs.durationS),
    },
    figures,
    ...(peerFigures ? { peer: { name: PEER_NAME, figures: peerFigures }, ratios } : {}),
    details: { sweep, endOfTurn: [ours, stock].flatMap((r) => (r ? [endOfTurnDetails(r)] : [])) },
    faults: { failedTurns, failedCalls },
    svg: chart(inputs, figures, peerFigures, sweep),
    notes: [
      'v2v: caller end of speech (the last audible sample out of its microphone; the quiet tail the synthesized voice trails off into is not counted) -> first audible agent audio at the caller, WebRTC over loopback; every turn of every call at the headline concurrency.',
      'call_setup: caller joined the room (the WebRTC "answer") -> first greeting audio at the caller; voicefleet speaks a fixed greeting, the stock agent generates one through the LLM as the starter does.',
      'stage_*: the agent session\'s own per-turn trace (`turn` log lines): end of turn = caller\'s last word -> turn committed, transcription = last word -> final transcript, LLM time to first token and TTS time to first byte from their own requests; agent_side_v2v = last word -> first answer audio published, by the agent\'s clock (v2v minus it is WebRTC transport and playout).',
      'overhead (injected only): v2v - (measured STT final delay p50 + injected LLM and TTS latencies) - the agent\'s configured endpointing wait (endpointingMs). With preemptive generation the provider latencies overlap the endpointing wait, so overhead can be negative.',
      'cpu_per_call / rss_per_call: the worker\'s whole process group (worker, job processes, inference process) while the callers talked, divided by the concurrent calls; rss_added_per_call: that peak less the group\'s memory just before the callers joined (worker, inference process, warm job processes), divided by the calls: what one more call costs; pss_added_per_call: the same in proportional set size, which splits pages mapped by several processes (the Node binary, rtc-node\'s and onnxruntime\'s libraries) between them where RSS counts them in every process: the memory one more call really takes; machine_load: busy fraction of all CPUs over the same window, every process on the machine included (callers and livekit-server run here too).',
      'eot_unlikely_fraction: share of the end-of-turn model\'s predictions below its threshold (the model judged the caller not finished), after which endpointing waits its max delay (voicefleet 1500 ms, stock 3000 ms): those turns set the v2v p95. details.endOfTurn gives v2v per caller line and the model\'s margins (probability - threshold).',
      'most_calls_per_worker_within_20pct: the largest swept concurrency whose v2v p95 stays within 1.2x of the single-call p95.',
      'The machine is shared while this runs: absolute times drift, the voicefleet / stock ratios are the headline.',
      'SIP: not measured (see config.sip).',
    ].join(' '),
  };
}

function chart(inputs: ReportInputs, ours: Record<string, Figure>, stock: Record<string, Figure> | undefined, sweep: { peer: Peer; levels: { calls: number; p95: number }[] }[]): string {
  const names: [string, string][] = [
    ['v2v_ms', 'voice-to-voice'],
    ['call_setup_ms', 'call setup'],
    ['stage_end_of_turn_ms', 'end of turn'],
    ['stage_transcription_ms', 'transcription'],
    ['stage_llm_first_token_ms', 'LLM 1st token'],
    ['stage_tts_first_audio_ms', 'TTS 1st audio'],
  ];
  const series = stock ? ['voicefleet p95', 'stock p95'] : ['voicefleet p95'];
  const groups = names.map(([key, label]) => ({ label, values: [ours[key]?.p95 ?? NaN, ...(stock ? [stock[key]?.p95 ?? NaN] : [])] }));
  const panels = [
    barPanel({ x: 10, y: 40, width: 760, height: 330, title: `p95 per stage at ${inputs.headlineCalls} concurrent calls (${inputs.providers} providers, WebRTC)`, unit: 'ms', series, groups }),
    linePanel({
      x: 10,
      y: 380,
      width: 760,
      height: 320,
      title: 'voice-to-voice p95 against concurrent calls per worker',
      xLabel: 'concurrent calls',
      unit: 'ms',
      series: sweep.map((s) => ({ name: `${s.peer} v2v p95`, points: s.levels.map((l) => ({ x: l.calls, y: l.p95 })) })),
    }),
  ];
  return svgDocument(780, 710, 'voicefleet latency vs stock agents-js agent', panels);
}
