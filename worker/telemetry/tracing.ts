import { telemetry } from '@livekit/agents';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TurnTrace } from '../metrics/turn-trace.js';

/** Name of the span each answered caller turn gets, beside the framework's own (agent_turn, llm_node, tts_node...). */
export const TURN_SPAN_NAME = 'voicefleet.turn';

export interface Tracing {
  /** Sends every span still batched; the job waits for it before the process exits. */
  flush(): Promise<void>;
}

/**
 * Points the framework's tracer (`telemetry.setTracerProvider`) at an OTLP/HTTP protobuf
 * collector, so a job process exports the framework's session spans and voicefleet's turn spans
 * in one trace pipeline. Content attributes (`lk.pii.*`: transcripts, instructions, room name)
 * are stripped in-process by the framework before export (`allowPii: false`).
 *
 * @param endpoint the base OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`); `/v1/traces` is appended as the OTel spec says.
 */
export function startTracing(options: { endpoint: string; serviceName: string; attributes?: Record<string, string> }): Tracing {
  const exporter = new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const fanout = new telemetry.FanoutSpanProcessor();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName, ...options.attributes }),
    spanProcessors: [new BatchSpanProcessor(exporter), fanout],
  });
  telemetry.setTracerProvider(provider, {
    metadata: options.attributes,
    registerSpanProcessor: (processor) => fanout.add(processor),
    allowPii: false,
  });
  return { flush: () => provider.forceFlush() };
}

/**
 * Records a finished turn as a span from the caller's end of speech to the first agent audio
 * published, with each stage as a millisecond attribute. No transcript, no phone number.
 */
export function recordTurnSpan(trace: TurnTrace): void {
  const end = trace.speechEndedAt + Math.max(0, trace.totalMs ?? 0);
  const attributes: Record<string, string | number | boolean> = {
    'voicefleet.call_id': trace.callId,
    'voicefleet.turn': trace.turn,
    'voicefleet.interrupted': trace.interrupted,
    'lk.speech_id': trace.speechId,
  };
  for (const [stage, value] of Object.entries(trace.stages)) attributes[`voicefleet.stage.${snake(stage)}`] = value;
  if (trace.llmTtftMs !== undefined) attributes['voicefleet.llm_ttft_ms'] = trace.llmTtftMs;
  if (trace.ttsTtfbMs !== undefined) attributes['voicefleet.tts_ttfb_ms'] = trace.ttsTtfbMs;
  if (trace.totalMs !== undefined) attributes['voicefleet.total_ms'] = trace.totalMs;
  const span = telemetry.tracer.startSpan({ name: TURN_SPAN_NAME, startTime: trace.speechEndedAt, attributes });
  span.end(end);
}

/** `eouDecisionMs` -> `eou_decision_ms`. */
function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
