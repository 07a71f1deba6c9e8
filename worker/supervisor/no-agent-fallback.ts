import { voice } from '@livekit/agents';
import { ParticipantKind, Room, RoomEvent, type RemoteParticipant } from '@livekit/rtc-node';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { AccessToken, RoomServiceClient, SipClient } from 'livekit-server-sdk';
import type { Logger } from 'pino';
import { NO_AGENT_APOLOGY } from '../../agents/workflow/phrases.js';
import { AudioClip } from '../call-audio/audio-clip.js';
import type { Deployments } from '../deployments.js';
import { takeOverflowPath, type OverflowEnd } from '../overflow/overflow-path.js';
import { transferToHuman } from '../telephony/human-transfer.js';

export interface NoAgentFallbackOptions {
  livekit: { wsUrl: string; httpUrl: string; apiKey: string; apiSecret: string };
  deployments: Deployments;
  /** The outbound calls queue, for callbacks. */
  calls: Queue;
  dialMaxAttempts: number;
  voicemail: { dir: string; maxMs: number };
  log: Logger;
}

export interface FallbackCall {
  room: string;
  /** The call's id when it is known (a resumed call); otherwise the room names it. */
  callId?: string;
  /** The dispatch metadata, for the deployment it names. */
  metadata?: string;
}

/**
 * Speaks to a caller no agent will answer: none was free when the call arrived, or none took the
 * re-dispatch of a call whose agent died. No job runs for such a call, so the supervisor's own
 * process joins the room as a small agent participant, apologises with a clip rendered ahead by
 * the local TTS (so it needs no provider), and takes the deployment's overflow path (callback or
 * voicemail; the human line on a phone call), then ends the call. Never silence.
 */
export class NoAgentFallback {
  readonly #options: NoAgentFallbackOptions;
  #apology?: Promise<AudioClip>;

  constructor(options: NoAgentFallbackOptions) {
    this.#options = options;
  }

  /** Renders the apology now, so the first caller who needs it hears it without a delay. */
  prepare(): Promise<AudioClip> {
    this.#apology ??= AudioClip.spoken(NO_AGENT_APOLOGY);
    return this.#apology;
  }

  async answer(call: FallbackCall): Promise<OverflowEnd | undefined> {
    const { livekit, log: baseLog } = this.#options;
    const callId = call.callId ?? call.room;
    const log = baseLog.child({ callId, room: call.room });
    const token = new AccessToken(livekit.apiKey, livekit.apiSecret, { identity: `voicefleet-fallback-${randomUUID().slice(0, 8)}`, ttl: '15m' });
    // An agent participant: the caller's side hears it as the business speaking, and the
    // supervisor's own scan sees the room answered.
    token.kind = 'agent';
    token.addGrant({ roomJoin: true, room: call.room, canPublish: true, canSubscribe: true, canPublishData: true, agent: true });
    const room = new Room();
    await room.connect(livekit.wsUrl, await token.toJwt(), { autoSubscribe: true, dynacast: false });
    const player = new voice.BackgroundAudioPlayer();
    try {
      const caller = [...room.remoteParticipants.values()].find((p) => p.kind !== ParticipantKind.AGENT);
      if (!caller) return undefined;
      // A late agent (a worker freed up) takes over: the fallback stops short and leaves it the call.
      const agentCame = agentArrivalSignal(room);
      const gone = AbortSignal.any([callerGoneSignal(room, caller), agentCame]);
      await player.start({ room });
      const play = (clip: AudioClip) => player.play(clip.play()).waitForPlayout();
      await play(await this.prepare());
      log.warn({ event: 'no_agent_fallback', kind: call.callId ? 'resume_not_taken' : 'no_worker' }, 'no agent took the call, the caller heard an apology');

      const isSip = caller.kind === ParticipantKind.SIP;
      const dialedNumber = (isSip && caller.attributes['sip.trunkPhoneNumber']) || undefined;
      const callerNumber = (isSip && caller.attributes['sip.phoneNumber']) || undefined;
      const { deployment } = this.#options.deployments.select({ deploymentId: deploymentIn(call.metadata), dialedNumber });
      const sip = isSip
        ? { client: new SipClient(livekit.httpUrl, livekit.apiKey, livekit.apiSecret), roomName: call.room, participantIdentity: caller.identity }
        : undefined;
      const end = await takeOverflowPath({
        callId,
        deployment,
        room,
        caller,
        callerNumber,
        callerGone: gone,
        calls: this.#options.calls,
        dialMaxAttempts: this.#options.dialMaxAttempts,
        transfer: () => transferToHuman({ transferTo: deployment.humanTransferTo, sip, log }),
        voicemail: this.#options.voicemail,
        play,
        log,
      });
      log.info({ event: 'no_agent_call_ended', result: end.result, disposition: end.disposition }, 'call without an agent ended on the overflow path');
      // A transferred phone call is livekit-sip's now; any other ends here (a phone leg hangs up).
      if (agentCame.aborted) {
        log.info({ event: 'no_agent_fallback_yielded' }, 'an agent joined, the fallback leaves it the call');
        return undefined;
      }
      if (end.result !== 'transferred' && !gone.aborted) {
        await new RoomServiceClient(livekit.httpUrl, livekit.apiKey, livekit.apiSecret).deleteRoom(call.room).catch(() => undefined);
      }
      return end;
    } finally {
      await player.close().catch(() => undefined);
      await room.disconnect().catch(() => undefined);
    }
  }
}

function callerGoneSignal(room: Room, caller: RemoteParticipant): AbortSignal {
  const gone = new AbortController();
  room.on(RoomEvent.ParticipantDisconnected, (p) => {
    if (p.identity === caller.identity) gone.abort();
  });
  room.on(RoomEvent.Disconnected, () => gone.abort());
  return gone.signal;
}

function agentArrivalSignal(room: Room): AbortSignal {
  const came = new AbortController();
  room.on(RoomEvent.ParticipantConnected, (p) => {
    if (p.kind === ParticipantKind.AGENT) came.abort();
  });
  return came.signal;
}

function deploymentIn(metadata: string | undefined): string | undefined {
  try {
    const value = JSON.parse(metadata ?? '') as { deployment?: unknown };
    return typeof value.deployment === 'string' ? value.deployment : undefined;
  } catch {
    return undefined;
  }
}
