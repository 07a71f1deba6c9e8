import type { VAD } from '@livekit/agents';
import { RESUME_APOLOGY } from '../agents/workflow/phrases.js';
import { createWorkflow, type Workflow, type WorkflowName, type WorkflowSettings } from '../agents/workflows.js';
import { PrerenderedSpeech } from './call-audio/prerendered-speech.js';
import type { CallContext } from './call-context.js';
import type { Config } from './config.js';
import { type Deployment, type Deployments, workflowSettingsFor } from './deployments.js';
import type { PocketsphinxSTT } from './providers/local/pocketsphinx-stt.js';
import { buildSessionProviders, type SessionProviders } from './providers/session-providers.js';
import type { CallerSpeech } from './providers/stall-guard-stt.js';
import { openingWords, type RecordingPolicy, recordingPolicy } from './recording/call-recording.js';
import { lastAgentWords, type SavedCallState } from './supervisor/call-state.js';

/** What kind of line the caller is on: a phone leg names the number it dialed. */
export interface CallerLine {
  sip: boolean;
  dialedNumber?: string;
}

/**
 * Everything a call's first words depend on: the deployment (from the job's metadata or the
 * number dialed), the first workflow, the speech stack for the line (narrowband on a phone leg)
 * and the greeting, already being synthesized.
 */
export interface CallOpening {
  line: CallerLine;
  deployment: Deployment;
  unknown?: 'deployment' | 'number';
  firstWorkflow: WorkflowName;
  settings: WorkflowSettings;
  first: Workflow;
  providers: SessionProviders;
  recorded: RecordingPolicy;
  greeting: PrerenderedSpeech;
}

export interface OpeningInputs {
  config: Config;
  deployments: Deployments;
  callContext: CallContext;
  /** The saved state of a call the supervisor brought back, when it is this room's. */
  resumed?: SavedCallState;
  vad: VAD;
  recognizer: PocketsphinxSTT;
  callerSpeech: CallerSpeech;
}

/**
 * The job can open a call before its caller is in the room: a browser caller's call depends only
 * on the job's metadata, so the greeting is synthesized while the agent connects. A phone caller's
 * number can pick another deployment and needs the narrowband voice, so `openCall` is asked again
 * once the caller is known, and `fits` says whether the early opening still holds.
 */
export function openCall(inputs: OpeningInputs, line: CallerLine): CallOpening {
  const { config, callContext, resumed } = inputs;
  const { deployment, unknown } = inputs.deployments.select({ deploymentId: callContext.deployment, dialedNumber: line.dialedNumber });
  const firstWorkflow = resumed?.workflow ?? callContext.workflow ?? deployment.workflow;
  const providers = buildSessionProviders({ config, vad: inputs.vad, recognizer: inputs.recognizer, narrowband: line.sip, callerSpeech: inputs.callerSpeech });
  const recorded = recordingPolicy(config, deployment);
  const settings = workflowSettingsFor(deployment, {
    appointment: callContext.appointment && { bookingId: callContext.appointment.bookingId, slot: { id: callContext.appointment.slotId } },
    contactName: callContext.contactName,
  });
  const first = createWorkflow(firstWorkflow, settings);
  // A resumed call hears an apology and the question it was last asked, then carries on.
  const spoken = resumed
    ? `${RESUME_APOLOGY} ${lastAgentWords(resumed.items) ?? first.greeting()}`
    : callContext.metadataValid
      ? first.greeting()
      : first.genericGreeting();
  // A recorded call says so before anything else.
  const text = openingWords({ greeting: spoken, recording: recorded.enabled, consent: recorded.consent, resumed: Boolean(resumed) });
  return { line, deployment, unknown, firstWorkflow, settings, first, providers, recorded, greeting: PrerenderedSpeech.start(providers.tts, text) };
}

/** An opening made before the caller arrived holds for a caller on this line. */
export function fits(opening: CallOpening, line: CallerLine): boolean {
  return opening.line.sip === line.sip && opening.line.dialedNumber === line.dialedNumber;
}
