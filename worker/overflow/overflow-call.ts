import { voice } from '@livekit/agents';
import type { RemoteParticipant, Room } from '@livekit/rtc-node';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { overflowPhrases } from '../../agents/workflow/phrases.js';
import type { CallOutcome } from '../../agents/workflow/outcome.js';
import { AudioClip } from '../call-audio/audio-clip.js';
import type { Deployment } from '../deployments.js';
import type { DialRequest } from '../dialer/dial-request.js';
import type { TransferResult } from '../telephony/human-transfer.js';
import type { CallSlots } from './call-slots.js';
import { holdForAgent } from './hold-line.js';
import { takeOverflowPath } from './overflow-path.js';

export interface OverflowCallOptions {
  slots: CallSlots;
  callId: string;
  deployment: Deployment;
  room: Room;
  caller: RemoteParticipant;
  callerNumber?: string;
  player: voice.BackgroundAudioPlayer;
  /** Publishes the player's track; only a caller put on hold needs it before the greeting. */
  startPlayer?: () => Promise<unknown>;
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
  await options.startPlayer?.();
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

  const end = await takeOverflowPath({ ...options, play: (clip) => options.player.play(clip.play()).waitForPlayout() });
  return { answered: false, overflow: overflow(end.result), disposition: end.disposition, recording: end.recording };
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
