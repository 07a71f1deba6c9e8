import { telemetry } from '@livekit/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiver } from '../../test/support/otlp-receiver.js';
import type { TurnTrace } from '../metrics/turn-trace.js';
import { recordTurnSpan, startTracing, TURN_SPAN_NAME, type Tracing } from './tracing.js';

describe('turn spans over OTLP/HTTP protobuf', () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing;

  beforeAll(async () => {
    receiver = await new OtlpReceiver().start();
    tracing = startTracing({ endpoint: `${receiver.endpoint}/`, serviceName: 'voicefleet-test', attributes: { 'voicefleet.call_id': 'call-9' } });
  });
  afterAll(async () => receiver.stop());

  it("exports a turn's stages as a span from end of speech to first audio, and strips the framework's content attributes", async () => {
    const trace: TurnTrace = {
      callId: 'call-9',
      turn: 2,
      speechId: 'speech_x',
      interrupted: false,
      speechEndedAt: 1_800_000_000_000,
      stages: { eouDecisionMs: 410, sttFinalMs: 180, llmFirstTokenMs: 450, ttsFirstAudioMs: 485, firstAudioPublishedMs: 497 },
      llmTtftMs: 30,
      ttsTtfbMs: 25,
      totalMs: 497,
    };
    recordTurnSpan(trace);
    // A span the way the framework makes them, carrying a transcript.
    telemetry.tracer.startSpan({ name: 'user_turn', attributes: { 'lk.pii.user_transcript': 'my number is 555 0100' } }).end();
    await tracing.flush();

    const turn = await receiver.waitForSpan((s) => s.name === TURN_SPAN_NAME, 5000);
    expect(turn.startMs).toBe(trace.speechEndedAt);
    expect(turn.endMs).toBe(trace.speechEndedAt + 497);
    expect(turn.attributes).toMatchObject({
      'voicefleet.call_id': 'call-9',
      'voicefleet.turn': 2,
      'voicefleet.interrupted': false,
      'voicefleet.stage.eou_decision_ms': 410,
      'voicefleet.stage.stt_final_ms': 180,
      'voicefleet.stage.llm_first_token_ms': 450,
      'voicefleet.stage.tts_first_audio_ms': 485,
      'voicefleet.stage.first_audio_published_ms': 497,
      'voicefleet.total_ms': 497,
    });
    const framework = await receiver.waitForSpan((s) => s.name === 'user_turn', 5000);
    expect(framework.attributes['voicefleet.call_id']).toBe('call-9');
    expect(Object.keys(framework.attributes).some((k) => k.includes('pii'))).toBe(false);
    expect(Buffer.concat(receiver.bodies).includes('555 0100')).toBe(false);
  });
});
