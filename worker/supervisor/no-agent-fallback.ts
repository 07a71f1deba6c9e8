import { llm, voice } from '@livekit/agents';
import { ParticipantKind, Room, RoomEvent, type RemoteParticipant } from '@livekit/rtc-node';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { AccessToken, RoomServiceClient, SipClient } from 'livekit-server-sdk';
import type { Logger } from 'pino';
import { NO_AGENT_APOLOGY } from '../../agents/workflow/phrases.js';
import { AudioClip } from '../call-audio/audio-clip.js';
import { buildCallRecord } from '../crm/build-call-record.js';
import { CallRecordKeeper } from '../crm/call-record-keeper.js';
import type { Outbox } from '../crm/outbox.js';
import type { Deployments } from '../deployments.js';
import { maskPhoneNumber } from '../log.js';
import { takeOverflowPath, type OverflowEnd } from '../overflow/overflow-path.js';
import { CallRegistry } from '../queues/call-registry.js';
import { keepUnresumedRecording } from '../recording/call-recording.js';
import type { RecordingStore } from '../recording/recording-store.js';
import { transferToHuman } from '../telephony/human-transfer.js';
import { CallStateStore, restoreItems } from './call-state.js';

export interface NoAgentFallbackOptions {
  livekit: { wsUrl: string; httpUrl: string; apiKey: string; apiSecret: string };
  deployments: Deployments;
  /** The outbound calls queue, for callbacks. */
  calls: Queue;
  /** Where the call's record goes (as a worker's would): the crm-sync queue, or the outbox. */
  records: { queue: Queue; redis: Redis; outbox: Outbox };
  dialMaxAttempts: number;
  voicemail: { dir: string; maxMs: number };
  /** Where the recording of a resumed call's dead agents goes when the fallback ends that call. */
  recordings?: RecordingStore;
  log: Logger;
}

export interface FallbackCall {
  room: string;
  /** The call's id when it is known (a resumed call); otherwise the room names it. */
  callId?: string;
  /** The dispatch metadata, for the deployment it names. */
  metadata?: string;
  /** When the caller arrived (the room's creation); a resumed call keeps its registered start. */
  arrivedAt?: Date;
}

/**
 * Speaks to a caller no agent will answer: none was free when the call arrived, or none took the
 * re-dispatch of a call whose agent died. No job runs for such a call, so the supervisor's own
 * process joins the room as a small agent participant, apologises with a clip rendered ahead by
 * the local TTS (so it needs no provider), and takes the deployment's overflow path (callback or
 * voicemail; the human line on a phone call), then ends the call. Never silence. The call gets a
 * record like any other (source `supervisor`), so the CRM hears of the voicemail or callback.
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
      const isSip = caller.kind === ParticipantKind.SIP;
      const dialedNumber = (isSip && caller.attributes['sip.trunkPhoneNumber']) || undefined;
      const callerNumber = (isSip && caller.attributes['sip.phoneNumber']) || undefined;
      const { deployment } = this.#options.deployments.select({ deploymentId: deploymentIn(call.metadata), dialedNumber });
      // Read alongside the apology: a Redis that is away delays the books, never the caller.
      const booksOpened = this.#openBooks(call, callId, deployment.id, log);

      // A late agent (a worker freed up) takes over: the fallback stops short and leaves it the call.
      const agentCame = agentArrivalSignal(room);
      const gone = AbortSignal.any([callerGoneSignal(room, caller), agentCame]);
      await player.start({ room });
      const play = (clip: AudioClip) => player.play(clip.play()).waitForPlayout();
      await play(await this.prepare());
      log.warn({ event: 'no_agent_fallback', kind: call.callId ? 'resume_not_taken' : 'no_worker' }, 'no agent took the call, the caller heard an apology');
      const books = await booksOpened;

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
      if (agentCame.aborted) {
        log.info({ event: 'no_agent_fallback_yielded' }, 'an agent joined, the fallback leaves it the call');
        // Its job keeps the books; a resumed call keeps its id (and its live entry) for it.
        await books.keeper.leave({ endLive: !call.callId });
        return undefined;
      }
      // The dead agents' parts are kept whatever the overflow path did; a voicemail message stays
      // the record's recording, as it is what the business acts on.
      const earlier =
        books.recordingParts.length && this.#options.recordings
          ? await keepUnresumedRecording({ store: this.#options.recordings, callId, parts: books.recordingParts, log })
          : undefined;
      await books.keeper.finish(
        buildCallRecord({
          callId,
          room: call.room,
          deployment: deployment.id,
          businessName: deployment.business.name,
          direction: isSip ? 'inbound' : 'web',
          caller: maskPhoneNumber(callerNumber),
          dialed: maskPhoneNumber(dialedNumber),
          startedAt: books.startedAt,
          endedAt: new Date(),
          endReason: call.callId ? 'agent_lost' : 'no_agent',
          outcome: { workflows: [books.workflow ?? deployment.workflow], disposition: end.disposition, intents: [] },
          history: [...books.history, llm.ChatMessage.create({ role: 'assistant', content: [NO_AGENT_APOLOGY] })],
          recording: end.recording ?? earlier,
          source: 'supervisor',
        }),
      );
      // A transferred phone call is livekit-sip's now; any other ends here (a phone leg hangs up).
      if (end.result !== 'transferred' && !gone.aborted) {
        await new RoomServiceClient(livekit.httpUrl, livekit.apiKey, livekit.apiSecret).deleteRoom(call.room).catch(() => undefined);
      }
      return end;
    } finally {
      await player.close().catch(() => undefined);
      await room.disconnect().catch(() => undefined);
    }
  }

  /**
   * The call's books while the fallback has it: live (heartbeats) in the call registry, so the
   * sweep leaves it be, and for a resumed call what its dead agent had said and done.
   */
  async #openBooks(call: FallbackCall, callId: string, deploymentId: string, log: Logger) {
    const { queue, redis, outbox } = this.#options.records;
    const [details, state] = call.callId
      ? await Promise.all([within(BOOKS_READ_MS, new CallRegistry(redis).details(callId), {} as Record<string, string>), within(BOOKS_READ_MS, new CallStateStore(redis).load(callId), undefined)])
      : [{} as Record<string, string>, undefined];
    const registered = details.startedAt ? new Date(details.startedAt) : undefined;
    const startedAt = registered && !Number.isNaN(registered.getTime()) ? registered : (call.arrivedAt ?? new Date());
    const keeper = new CallRecordKeeper({ queue, redis, outbox, log, callId });
    keeper.started({ room: call.room, deployment: deploymentId, startedAt, workflow: state?.workflow, worker: 'supervisor' });
    return { keeper, startedAt, workflow: state?.workflow, history: state ? restoreItems(state.items) : [], recordingParts: state?.recordingParts ?? [] };
  }
}

/** How long the fallback waits for what Redis knows of a resumed call before it goes without. */
const BOOKS_READ_MS = 2000;

function within<T, F>(ms: number, promise: Promise<T>, otherwise: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(otherwise), ms);
  });
  return Promise.race([promise.catch(() => otherwise), late]).finally(() => clearTimeout(timer));
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
