import type { RemoteParticipant, Room } from '@livekit/rtc-node';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { overflowPhrases } from '../../agents/workflow/phrases.js';
import type { CallOutcome } from '../../agents/workflow/outcome.js';
import { AudioClip } from '../call-audio/audio-clip.js';
import type { Deployment } from '../deployments.js';
import { addDialJob } from '../dialer/dialer.js';
import { maskPhoneNumber } from '../log.js';
import type { TransferResult } from '../telephony/human-transfer.js';
import { callbackRequest } from './overflow-call.js';
import { recordVoicemail } from './voicemail.js';

export interface OverflowPathOptions {
  callId: string;
  deployment: Deployment;
  room: Room;
  caller: RemoteParticipant;
  callerNumber?: string;
  callerGone: AbortSignal;
  /** The outbound calls queue, for callbacks. */
  calls: Queue;
  dialMaxAttempts: number;
  transfer: () => Promise<TransferResult>;
  voicemail: { dir: string; maxMs: number };
  /** Plays a clip to the caller and resolves when it has been heard. */
  play: (clip: AudioClip) => Promise<void>;
  log: Logger;
}

export interface OverflowEnd {
  result: 'transferred' | 'callback' | 'voicemail';
  disposition: CallOutcome['disposition'];
  recording?: string;
}

/**
 * What a caller no agent can answer gets, as the deployment chose: the human line, a callback job
 * for their number, or a voicemail box. A step that cannot be done falls to the next
 * (human -> callback -> voicemail), so a caller is never left without one. Used by the hold line
 * (the wait ran out) and by the call supervisor (no worker took the call at all).
 */
export async function takeOverflowPath(options: OverflowPathOptions): Promise<OverflowEnd> {
  const { play, log } = options;
  const say = overflowPhrases(options.deployment.business.name);
  const plan = options.deployment.overflow.then;
  if (plan === 'human') {
    await play(await AudioClip.spoken(say.transferring));
    const transfer = await options.transfer();
    if (transfer.transferred) return { result: 'transferred', disposition: 'transferred' };
    log.warn({ event: 'overflow_transfer_failed', reason: transfer.reason }, 'no human line, offering a callback');
  }
  if (plan !== 'voicemail' && options.callerNumber) {
    try {
      const { jobId, duplicate } = await addDialJob(options.calls, callbackRequest(options.deployment, options.callerNumber, options.callId), {
        maxAttempts: options.dialMaxAttempts,
      });
      log.info({ event: 'callback_scheduled', jobId, duplicate, to: maskPhoneNumber(options.callerNumber) }, 'callback queued for the held caller');
      await play(await AudioClip.spoken(say.callback));
      return { result: 'callback', disposition: 'callback_requested' };
    } catch (error) {
      log.warn({ event: 'callback_not_scheduled', error: (error as Error).message }, 'callback could not be queued, taking a voicemail');
    }
  }
  await play(await AudioClip.spoken(say.voicemail));
  await play(AudioClip.tone(1000, 400));
  const message = await recordVoicemail({
    room: options.room,
    caller: options.caller,
    dir: options.voicemail.dir,
    callId: options.callId,
    maxMs: options.voicemail.maxMs,
    endSilenceMs: 4000,
    callerGone: options.callerGone,
  });
  log.info({ event: 'voicemail_saved', durationMs: message.durationMs, spoken: message.spoken }, 'voicemail saved');
  if (!options.callerGone.aborted) await play(await AudioClip.spoken(say.voicemailSaved));
  return { result: 'voicemail', disposition: 'voicemail_left', recording: `file://${message.path}` };
}
