import { voice } from '@livekit/agents';
import type { RemoteParticipant, Room } from '@livekit/rtc-node';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { overflowPhrases } from '../../agents/workflow/phrases.js';
import type { CallOutcome } from '../../agents/workflow/outcome.js';
import { AudioClip } from '../call-audio/audio-clip.js';
import type { Deployment } from '../deployments.js';
import { addDialJob } from '../dialer/dialer.js';
import type { DialRequest } from '../dialer/dial-request.js';
import { maskPhoneNumber } from '../log.js';
import type { TransferResult } from '../telephony/human-transfer.js';
import type { CallSlots } from './call-slots.js';
import { holdForAgent } from './hold-line.js';
import { recordVoicemail } from './voicemail.js';

export interface OverflowCallOptions {
  slots: CallSlots;
  callId: string;
  deployment: Deployment;
  room: Room;
  caller: RemoteParticipant;
  callerNumber?: string;
  player: voice.BackgroundAudioPlayer;
  callerGone: AbortSignal;
  /** The outbound calls queue, for callbacks. */
  calls: Queue;
  dialMaxAttempts: number;
  transfer: () => Promise<TransferResult>;
  voicemail: { dir: string; maxMs: number };
  hold: { pollMs: number; announceEveryMs: number };
  /** Told when the caller is put on hold. */
  onHold?: () => void;
  log: Logger;
}

/** The call may talk to an agent now, or it ended in the queue with this outcome. */
export type OverflowResult =
  | { answered: true; overflow?: NonNullable<CallOutcome['overflow']> }
  | { answered: false; overflow: NonNullable<CallOutcome['overflow']>; disposition: CallOutcome['disposition']; recording?: string };

/**
 * A call's way to an agent when every agent may be busy. It takes a conversation slot at once if
 * one is free; otherwise the caller waits on hold (`hold-line.ts`), answered in arrival order, and
 * when the deployment's maximum wait runs out gets what the deployment chose: a callback job for
 * their number, a voicemail box, or the human line. A step that cannot be done falls to the next
 * (human -> callback -> voicemail), so a caller is never left without one.
 */
export async function reachAnAgent(options: OverflowCallOptions): Promise<OverflowResult> {
  const { slots, callId, log } = options;
  let first: Awaited<ReturnType<CallSlots['acquire']>>;
  try {
    first = await slots.acquire(callId);
  } catch (error) {
    log.warn({ event: 'call_slots_unavailable', error: (error as Error).message }, 'slot pool unreachable, answering without it');
    return { answered: true };
  }
  if (first.granted) return { answered: true };

  const say = overflowPhrases(options.deployment.business.name);
  log.info({ event: 'call_queued', position: first.position }, 'every agent busy, caller on hold');
  options.onHold?.();
  const waited = await holdForAgent({
    slots,
    callId,
    player: options.player,
    welcome: await AudioClip.spoken(say.welcome),
    position: (n) => AudioClip.spoken(say.position(n)),
    maxWaitMs: options.deployment.overflow.maxWaitSeconds * 1000,
    pollMs: options.hold.pollMs,
    announceEveryMs: options.hold.announceEveryMs,
    callerGone: options.callerGone,
    log,
  });
  const overflow = (result: NonNullable<CallOutcome['overflow']>['result']) => ({ position: first.position, waitedMs: waited.waitedMs, result });
  log.info({ event: 'call_dequeued', result: waited.result, waitedMs: waited.waitedMs }, 'hold ended');
  if (waited.result === 'answered') return { answered: true, overflow: overflow('answered') };
  if (waited.result === 'caller_hung_up') return { answered: false, overflow: overflow('caller_hung_up'), disposition: 'caller_hung_up' };

  const play = (clip: AudioClip) => options.player.play(clip.play()).waitForPlayout();
  const plan = options.deployment.overflow.then;
  if (plan === 'human') {
    await play(await AudioClip.spoken(say.transferring));
    const transfer = await options.transfer();
    if (transfer.transferred) return { answered: false, overflow: overflow('transferred'), disposition: 'transferred' };
    log.warn({ event: 'overflow_transfer_failed', reason: transfer.reason }, 'no human line, offering a callback');
  }
  if (plan !== 'voicemail' && options.callerNumber) {
    try {
      const { jobId, duplicate } = await addDialJob(options.calls, callbackRequest(options.deployment, options.callerNumber, callId), {
        maxAttempts: options.dialMaxAttempts,
      });
      log.info({ event: 'callback_scheduled', jobId, duplicate, to: maskPhoneNumber(options.callerNumber) }, 'callback queued for the held caller');
      await play(await AudioClip.spoken(say.callback));
      return { answered: false, overflow: overflow('callback'), disposition: 'callback_requested' };
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
    callId,
    maxMs: options.voicemail.maxMs,
    endSilenceMs: 4000,
    callerGone: options.callerGone,
  });
  log.info({ event: 'voicemail_saved', durationMs: message.durationMs, spoken: message.spoken }, 'voicemail saved');
  if (!options.callerGone.aborted) await play(await AudioClip.spoken(say.voicemailSaved));
  return { answered: false, overflow: overflow('voicemail'), disposition: 'voicemail_left', recording: `file://${message.path}` };
}

/** A callback to the held caller, in the business's opening hours and its time zone. */
export function callbackRequest(deployment: Deployment, to: string, callId: string): DialRequest {
  const hours = Object.entries(deployment.business.openingHours);
  // A business with no opening hours listed is called back on weekdays, 9 to 5.
  if (hours.length === 0) hours.push(...(['1', '2', '3', '4', '5'] as const).map((d) => [d, [9, 17]] as [string, [number, number]]));
  return {
    to,
    deployment: deployment.id,
    workflow: deployment.workflow,
    context: { externalId: `callback-for-${callId}`.slice(0, 128) },
    window: {
      timeZone: deployment.timeZone,
      startHour: Math.min(...hours.map(([, [start]]) => start)),
      endHour: Math.max(...hours.map(([, [, end]]) => end)),
      days: hours.map(([day]) => Number(day)),
    },
    // Callers who already waited go before campaign calls.
    priority: 2,
  };
}
