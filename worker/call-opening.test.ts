import { initializeLogger, type VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import type { AudioFrame } from '@livekit/rtc-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { RESUME_APOLOGY } from '../agents/workflow/phrases.js';
import { createWorkflow } from '../agents/workflows.js';
import { buildCallContext } from './call-context.js';
import { type CallOpening, fits, openCall, type OpeningInputs } from './call-opening.js';
import { loadConfig } from './config.js';
import { Deployments } from './deployments.js';
import { PocketsphinxSTT } from './providers/local/pocketsphinx-stt.js';
import { CallerSpeech } from './providers/stall-guard-stt.js';

initializeLogger({ pretty: false, level: 'error' });

async function firstFrame(opening: CallOpening): Promise<AudioFrame> {
  const audio = await opening.greeting.audio();
  expect(audio, 'the greeting was synthesized').toBeDefined();
  const reader = audio!.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return value!;
}

describe('openCall', () => {
  let vad: VAD;
  const deployments = Deployments.load('config/deployments.json');

  beforeAll(async () => {
    vad = await silero.VAD.load();
  });

  function inputs(metadata: Record<string, unknown>, extra: Partial<OpeningInputs> = {}): OpeningInputs {
    return {
      config: loadConfig({ VOICEFLEET_RECORDING: 'off' }),
      deployments,
      callContext: buildCallContext({ jobId: 'AJ_test', roomName: 'web-room', rawMetadata: JSON.stringify(metadata) }),
      vad,
      recognizer: new PocketsphinxSTT({ corpus: ['hello'] }),
      callerSpeech: new CallerSpeech(),
      ...extra,
    };
  }

  it('opens a browser call from the metadata alone, wideband, and holds only for a browser caller', async () => {
    const opening = openCall(inputs({ deployment: 'northwind-sales' }), { sip: false });
    expect(opening.deployment.id).toBe('northwind-sales');
    expect(opening.greeting.text).toBe(opening.first.greeting());
    expect((await firstFrame(opening)).sampleRate).toBe(16_000);
    expect(fits(opening, { sip: false })).toBe(true);
    // A phone caller may have dialed another deployment's number, and needs the narrowband voice.
    expect(fits(opening, { sip: true, dialedNumber: '+15550200101' })).toBe(false);
  });

  it('opens a phone call by the number dialed, in the narrowband voice', async () => {
    const opening = openCall(inputs({}), { sip: true, dialedNumber: '+15550200101' });
    expect(opening.deployment.id).toBe('northwind-support');
    expect(opening.unknown).toBeUndefined();
    expect(opening.greeting.text).toBe(createWorkflow(opening.firstWorkflow, opening.settings).greeting());
    expect((await firstFrame(opening)).sampleRate).toBe(8000);
  });

  it('opens a resumed call with the apology and the question it was last asked', async () => {
    const resumed = {
      callId: 'AJ_test',
      room: 'web-room',
      workflow: 'booking' as const,
      metadata: '{}',
      items: [
        { type: 'message' as const, role: 'user' as const, text: 'I need a cleaning' },
        { type: 'message' as const, role: 'assistant' as const, text: 'Would Tuesday at 3 pm suit you?' },
      ],
      turns: 1,
      resumes: 0,
      recordingParts: [],
      savedAt: new Date().toISOString(),
    };
    const opening = openCall(inputs({ resumeCallId: 'AJ_test' }, { resumed }), { sip: false });
    expect(opening.firstWorkflow).toBe('booking');
    expect(opening.greeting.text).toBe(`${RESUME_APOLOGY} Would Tuesday at 3 pm suit you?`);
    opening.greeting.cancel();
  });
});
