import { rm } from 'node:fs/promises';
import { defineAgent, type JobContext, type JobProcess, type llm, voice, type VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { ParticipantKind, RoomEvent } from '@livekit/rtc-node';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SipClient } from 'livekit-server-sdk';
import type { CallOutcome } from '../agents/workflow/outcome.js';
import { HOLDING_PHRASE } from '../agents/workflow/phrases.js';
import { createBookingTools } from '../agents/booking/tools.js';
import { createTicketTools } from '../agents/support-triage/tickets.js';
import { BackgroundTrack } from './call-audio/background-track.js';
import { VoiceTrack } from './call-audio/voice-track.js';
import { DeadAirFiller } from './call-audio/dead-air-filler.js';
import { AudioClip } from './call-audio/audio-clip.js';
import { CallAgents } from './call-agents.js';
import { buildCallContext } from './call-context.js';
import { type CallerLine, fits, openCall } from './call-opening.js';
import { CallOutcomeRecorder } from './call-outcome-recorder.js';
import { buildCallRecord } from './crm/build-call-record.js';
import { CallRecordKeeper } from './crm/call-record-keeper.js';
import { Outbox } from './crm/outbox.js';
import { livekitApiUrl, loadConfig } from './config.js';
import { Deployments } from './deployments.js';
import { createLogger, maskPhoneNumber } from './log.js';
import { FileCalendar } from './ports/file-calendar.js';
import { FileTickets } from './ports/file-tickets.js';
import { CALLER_CORPUS } from './providers/local/caller-corpus.js';
import { PocketsphinxSTT } from './providers/local/pocketsphinx-stt.js';
import { onFailover } from './providers/session-providers.js';
import { CallerSpeech } from './providers/stall-guard-stt.js';
import { warmOpenAI } from './providers/openai-client.js';
import { OUTBOUND_ROOM_PREFIX } from './dialer/call-placer.js';
import { CALLS_QUEUE } from './dialer/dialer.js';
import { crmSyncJobOptions, QUEUES } from './queues/queues.js';
import { connectRedis } from './queues/redis.js';
import { MetricsReporter } from './metrics/metrics-reporter.js';
import { CallSlots } from './overflow/call-slots.js';
import { type OverflowResult, reachAnAgent } from './overflow/overflow-call.js';
import { type CallStats, observeSession } from './session-observer.js';
import { TURN_TRACE_TOPIC, type TurnTrace } from './metrics/turn-trace.js';
import { recordTurnSpan, startTracing } from './telemetry/tracing.js';
import { AliveLease } from './supervisor/alive-lease.js';
import { CallStateStore, restoreItems, saveItems } from './supervisor/call-state.js';
import type { BackgroundRecording } from './recording/background-recording.js';
import { createRecordingStore, keepSessionRecording, recordBackground, recordHold, sessionRecordOption } from './recording/call-recording.js';
import { recordingPart } from './recording/recording-parts.js';
import { watchWorkerShutdownRequest } from './supervisor/worker-shutdown.js';
import { SilenceLadder } from './silence-ladder.js';
import { createHumanTransferTool, transferToHuman } from './telephony/human-transfer.js';
import { SILERO_MIN_SILENCE_MS, sessionTurnHandling } from './turn-handling.js';

/** Voice activity with no words may hold a silence prompt back this long (line noise). */
const MAX_UNTRANSCRIBED_SPEECH_MS = 4000;
/** A conversation slot outlives a dead job process by at most this; renewed at a third of it. */
const SLOT_LEASE_MS = 30_000;
/** An answer this close is not talked over with a holding phrase, whatever the caller waited. */
const DEAD_AIR_MIN_THINKING_MS = 200;
/** What Silero VAD, the end-of-turn model and the STT plugins consume. */
const SESSION_INPUT_RATE = 16_000;
/**
 * The caller's audio arrives in frames of one Silero window (512 samples at 16 kHz), not the
 * native stack's 10 ms: each frame costs an FFI event and a trip through every stream that reads
 * it (VAD, end-of-turn model, STT, recorder), so a third as many frames took a silent call's job
 * process from 0.34 to 0.26 cores. The VAD decides per window either way, so no decision waits longer.
 */
const SESSION_INPUT_FRAME_MS = 32;
/** The alive lease (3 s) is renewed this often. */
const ALIVE_RENEW_MS = 1000;
/** How often a held caller's place in line is checked. */
const HOLD_POLL_MS = 500;

/** Aborts when the caller leaves the room (hangs up) or the room goes away. */
function callerHangUpSignal(ctx: JobContext, identity: string): AbortSignal {
  const gone = new AbortController();
  ctx.room.on(RoomEvent.ParticipantDisconnected, (participant) => {
    if (participant.identity === identity) gone.abort();
  });
  ctx.room.on(RoomEvent.Disconnected, () => gone.abort());
  return gone.signal;
}

/**
 * One call, from job start to hang-up. This is where a call enters voicefleet: the job's metadata
 * and the dialed number pick a deployment, the deployment picks the first workflow, and the
 * session runs it (and any workflow it hands the call to) with the speech stack from the config.
 * When the session closes, the recorder turns the transcript into the call's outcome.
 */

interface ProcessData extends Record<string, unknown> {
  /** Turn-taking (VOICEFLEET_VAD_MIN_SILENCE_MS). */
  vad: VAD;
  /** Cuts utterances for the local recognizer (Silero's default silence). */
  segmentationVad: VAD;
  recognizer: PocketsphinxSTT;
  deployments: Deployments;
  /** This process's line to the worker's /metrics. */
  metrics: MetricsReporter;
  /** Played when the agent is slow to answer; rendered once, so it needs no provider. */
  holdingPhrase: AudioClip;
  /** One Redis connection and queue per job process, for the call's record and heartbeats. */
  crm: { queue: Queue; redis: Redis; outbox: Outbox; calls: Queue };
}

export default defineAgent({
  // Runs once per warm job process (each takes one call), so a call never waits for models to
  // load: the VAD, and the local recognizer with its language model built.
  prewarm: async (proc: JobProcess) => {
    const startedAt = Date.now();
    const config = loadConfig();
    const log = createLogger(config.LOG_LEVEL, { role: 'job-process' });
    proc.userData.deployments = Deployments.load(config.VOICEFLEET_DEPLOYMENTS_FILE);
    const redis = connectRedis(config.REDIS_URL, 'producer');
    // Redis being away is handled per write (outbox, best-effort heartbeats), so connection
    // errors are only worth a debug line.
    const onRedisError = (error: Error) => log.debug({ event: 'redis_unavailable', error: error.message }, 'redis unavailable');
    redis.on('error', onRedisError);
    const queue = new Queue(QUEUES.crmSync, { connection: redis, defaultJobOptions: crmSyncJobOptions() });
    queue.on('error', onRedisError);
    // Callbacks for callers whose wait on hold ran out.
    const calls = new Queue(CALLS_QUEUE, { connection: redis });
    calls.on('error', onRedisError);
    proc.userData.crm = { redis, queue, outbox: new Outbox(config.VOICEFLEET_OUTBOX_DIR), calls };
    // Turn-taking may hear the caller out sooner than the local recognizer should cut an utterance.
    proc.userData.segmentationVad = await silero.VAD.load();
    proc.userData.vad =
      config.VOICEFLEET_VAD_MIN_SILENCE_MS === SILERO_MIN_SILENCE_MS
        ? proc.userData.segmentationVad
        : await silero.VAD.load({ minSilenceDuration: config.VOICEFLEET_VAD_MIN_SILENCE_MS });
    proc.userData.holdingPhrase = await AudioClip.spoken(HOLDING_PHRASE);
    proc.userData.metrics = new MetricsReporter();
    const recognizer = new PocketsphinxSTT({ corpus: CALLER_CORPUS });
    proc.userData.recognizer = recognizer;
    // A broken recognizer must not keep the process from taking calls: the session's fallback
    // and per-call errors handle it, but the reason is said here, once, where it happened.
    await recognizer.warm().catch((error: Error) =>
      log.error({ event: 'recognizer_unavailable', error: error.message }, 'local recognizer failed to start'),
    );
    const openAIWarmMs = await warmOpenAI(config);
    log.info(
      { event: 'job_process_ready', prewarmMs: Date.now() - startedAt, openAIWarmMs },
      'job process ready for a call',
    );
  },

  entry: async (ctx: JobContext) => {
    const config = loadConfig();
    // A worker that died outright leaves this job orphaned: the call goes to another worker now.
    const workerStopping = watchWorkerShutdownRequest(() => ctx.shutdown('worker_gone'));
    const { vad, segmentationVad, recognizer, deployments, crm, holdingPhrase, metrics } = ctx.proc.userData as ProcessData;
    // Idle connections have closed since the process warmed up; the greeting's TTS request (and
    // the first answer's) should find one open. Runs while the room connects.
    void warmOpenAI(config);
    const callContext = buildCallContext({ jobId: ctx.job.id, roomName: ctx.job.room?.name ?? 'unknown', rawMetadata: ctx.job.metadata });
    const baseLog = createLogger(config.LOG_LEVEL, { callId: callContext.callId, room: callContext.roomName });
    // Before the session exists, so the framework's session spans go to the same collector.
    if (config.OTEL_EXPORTER_OTLP_ENDPOINT) {
      const tracing = startTracing({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: 'voicefleet-agent', attributes: { 'voicefleet.call_id': callContext.callId } });
      ctx.addShutdownCallback(() => tracing.flush().catch(() => undefined));
    }
    // The worker's heartbeat names it by the id livekit-server gave it, which only jobs are told.
    if (ctx.workerId) metrics.report({ kind: 'worker', livekitWorkerId: ctx.workerId });
    if (!callContext.metadataValid) {
      baseLog.error({ event: 'metadata_invalid', reason: callContext.metadataError }, 'job metadata invalid, using defaults');
    }

    // A call the supervisor brought back after its agent died: its saved state, if it is this room's.
    const states = new CallStateStore(crm.redis);
    const saved = callContext.resumed ? await states.load(callContext.callId).catch(() => undefined) : undefined;
    const resumed = saved?.room === callContext.roomName ? saved : undefined;
    // The greeting is synthesized while the agent connects, for a browser caller; a phone caller's
    // number and narrowband voice are known only once it is in the room, so it gets its own then
    // (and the dialer's calls, always phone legs, wait for it).
    const callerSpeech = new CallerSpeech();
    const openingInputs = { config, deployments, callContext, resumed, vad: segmentationVad, recognizer, callerSpeech };
    const early = callContext.roomName.startsWith(OUTBOUND_ROOM_PREFIX) ? undefined : openCall(openingInputs, { sip: false });
    ctx.addShutdownCallback(async () => early?.greeting.cancel());

    await ctx.connect();
    const caller = await ctx.waitForParticipant();
    const isSip = caller.kind === ParticipantKind.SIP;
    // livekit-sip names the number the caller dialed and the caller's own number in attributes.
    // Only a SIP participant's are its trunk's word; a browser caller could set its own.
    const line: CallerLine = { sip: isSip, dialedNumber: (isSip && caller.attributes['sip.trunkPhoneNumber']) || undefined };
    const callerNumber = (isSip && caller.attributes['sip.phoneNumber']) || undefined;
    let opening = early;
    if (!opening || !fits(opening, line)) {
      early?.greeting.cancel();
      const own = openCall(openingInputs, line);
      ctx.addShutdownCallback(async () => own.greeting.cancel());
      opening = own;
    }
    const { deployment, unknown, firstWorkflow, providers, recorded, settings, first, greeting: greetingSpeech } = opening;
    const dialedNumber = line.dialedNumber;
    const log = baseLog.child({ deployment: deployment.id });
    if (callContext.resumed && !resumed) log.warn({ event: 'resume_state_missing' }, 'no saved state for the resumed call, starting afresh');
    if (unknown) {
      log.warn(
        { event: unknown === 'number' ? 'unknown_number' : 'unknown_deployment', dialed: maskPhoneNumber(dialedNumber), named: callContext.deployment },
        'no deployment for this call, the default answers',
      );
    }
    log.info(
      { event: 'call_started', callerKind: ParticipantKind[caller.kind], narrowband: isSip, workflow: firstWorkflow, caller: maskPhoneNumber(callerNumber) },
      'call started',
    );

    const direction = isSip ? (callContext.appointment ? 'outbound' : 'inbound') : 'web';
    const startedAt = new Date();
    const books = new CallRecordKeeper({ ...crm, log, callId: callContext.callId });
    books.started({ room: callContext.roomName, deployment: deployment.id, startedAt, workflow: firstWorkflow, worker: ctx.workerId || undefined });
    let recordKept: Promise<void> = Promise.resolve();
    // The job waits for the record to be durable (queue or outbox) before it exits.
    ctx.addShutdownCallback(() => recordKept);
    const keepRecord = (ended: { reason: string; outcome: CallOutcome; history?: readonly llm.ChatItem[]; stats?: CallStats; recording?: string | Promise<string | undefined> }) => {
      // A call recording is moved into its store first, so the record can name it.
      recordKept = Promise.resolve(ended.recording)
        .then((recording) => books.finish(
          buildCallRecord({
            callId: callContext.callId,
            room: callContext.roomName,
            deployment: deployment.id,
            businessName: deployment.business.name,
            direction,
            caller: maskPhoneNumber(callerNumber),
            dialed: maskPhoneNumber(dialedNumber),
            externalId: callContext.externalId,
            startedAt,
            endedAt: new Date(),
            endReason: ended.reason,
            outcome: ended.outcome,
            history: ended.history ?? [],
            stats: ended.stats,
            recording,
          }),
        ))
        .catch((error: Error) => log.error({ event: 'call_record_lost', error: error.message }, 'call record could not be kept'));
    };

    // Hold music, queue messages and the dead-air filler play on this second track; livekit-sip
    // mixes it into the phone leg, browsers play it alongside the agent's voice. A caller put on
    // hold has it at once; any other call once the greeting has been said.
    const background = new BackgroundTrack(ctx.room);
    ctx.addShutdownCallback(() => background.close());
    // The agent's voice is published now, so its negotiation with the caller is over by the time
    // the session starts and the greeting plays (closed once the session has let go of it).
    const voiceTrack = new VoiceTrack(ctx.room, providers.tts.sampleRate);
    voiceTrack.publish().catch((error: Error) => log.warn({ event: 'voice_track_failed', error: error.message }, 'voice track could not be published'));
    ctx.addShutdownCallback(() => voiceTrack.close());

    // Every agent of this worker may be busy: an inbound caller then waits on hold, in arrival
    // order. A callee the dialer reached is answered at once (the dialer keeps to fleet capacity).
    const callerGone = callerHangUpSignal(ctx, caller.identity);
    const slots = new CallSlots(crm.redis, { pool: ctx.workerId || 'local', limit: config.VOICEFLEET_MAX_CALLS_PER_WORKER, leaseMs: SLOT_LEASE_MS });
    const sip = isSip
      ? { client: new SipClient(livekitApiUrl(config), config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET), roomName: ctx.room.name!, participantIdentity: caller.identity }
      : undefined;
    // A caller put on hold is not recorded before an agent talks to them, but what they heard
    // there is part of the call: the recording keeps it ahead of the session.
    const holdRecording = recorded.enabled && direction !== 'outbound' && !resumed ? recordHold(ctx.sessionDirectory, Date.now()) : undefined;
    if (holdRecording && !background.recordInto(holdRecording)) log.warn({ event: 'recording_background_untapped' }, 'background track cannot be recorded with this framework version');
    // A resumed call has already waited its turn.
    const reached: OverflowResult = direction === 'outbound' || resumed ? { answered: true } : await reachAnAgent({
      slots,
      callId: callContext.callId,
      deployment,
      room: ctx.room,
      caller,
      callerNumber,
      player: background.player,
      startPlayer: () => background.start(),
      callerGone,
      calls: crm.calls,
      dialMaxAttempts: config.VOICEFLEET_DIAL_MAX_ATTEMPTS,
      transfer: () => transferToHuman({ transferTo: deployment.humanTransferTo, sip, log }),
      voicemail: { dir: config.VOICEFLEET_RECORDINGS_DIR, maxMs: config.VOICEFLEET_VOICEMAIL_MAX_MS },
      hold: { pollMs: HOLD_POLL_MS, announceEveryMs: config.VOICEFLEET_HOLD_ANNOUNCE_EVERY_MS },
      onHold: () => metrics.report({ kind: 'activity', activity: 'holding' }),
      log,
    });
    if (reached.overflow) metrics.report({ kind: 'hold', result: reached.overflow.result, seconds: reached.overflow.waitedMs / 1000 });
    // Takes no more frames: the session's own background recording follows.
    const heldFor = holdRecording && (await holdRecording.close()).seconds > 0 ? holdRecording : undefined;
    if (!reached.answered) {
      if (holdRecording) await rm(holdRecording.path, { force: true }).catch(() => undefined);
      greetingSpeech.cancel();
      metrics.report({ kind: 'call_ended', disposition: reached.disposition, jobId: ctx.job.id });
      keepRecord({
        reason: reached.overflow.result,
        outcome: { workflows: [firstWorkflow], disposition: reached.disposition, intents: [], overflow: reached.overflow },
        recording: reached.recording,
      });
      log.info({ event: 'call_ended', reason: reached.overflow.result, durationMs: Date.now() - startedAt.getTime() }, 'call ended in the queue');
      if (!callerGone.aborted) await ctx.deleteRoom();
      ctx.shutdown(reached.overflow.result);
      return;
    }
    // An outbound call holds no slot; renewing and releasing one it never took is harmless.
    metrics.report({ kind: 'activity', activity: 'talking' });
    const renewal = setInterval(() => void slots.renew(callContext.callId).catch(() => undefined), SLOT_LEASE_MS / 3);
    let slotReleased: Promise<void> | undefined;
    const releaseSlot = () => {
      clearInterval(renewal);
      slotReleased ??= slots.release(callContext.callId).catch(() => undefined);
      return slotReleased;
    };
    // The next caller in line gets the slot the moment this one hangs up: the job's own shutdown
    // (session close, record, recording) comes seconds later on a busy host.
    callerGone.addEventListener('abort', () => void releaseSlot(), { once: true });
    ctx.addShutdownCallback(releaseSlot);

    // The alive lease's thread starts now, so it is up and renewing before the call has saved
    // state for the supervisor to act on; a loaded host takes seconds to start a thread.
    const alive: { lease?: AliveLease; handedOver?: Promise<void> } = {
      lease: AliveLease.start(config.REDIS_URL, callContext.callId, ALIVE_RENEW_MS, (leaseMs) => void states.alive(callContext.callId, leaseMs).catch(() => undefined)),
    };
    ctx.addShutdownCallback(async () => {
      await alive.lease?.stop();
      await alive.handedOver;
    });
    const session = new voice.AgentSession({ vad, stt: providers.stt, tts: providers.tts, turnHandling: sessionTurnHandling(isSip) });
    session.output.audio = voiceTrack.output;
    session.on(voice.AgentSessionEventTypes.UserStateChanged, (ev) => callerSpeech.set(ev.newState === 'speaking'));
    // Published once the greeting has been said, or the caller speaks first: its negotiation (and
    // the job's CPU for it) then stays out of the greeting's first frames, and it is through well
    // before a slow answer to the caller's first words needs the filler.
    const startBackground = () => {
      if (background.started) return;
      background.start().catch((error: Error) => log.warn({ event: 'background_track_failed', error: error.message }, 'background track could not be published'));
    };
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, (ev) => ev.oldState === 'speaking' && startBackground());
    session.on(voice.AgentSessionEventTypes.UserStateChanged, (ev) => ev.newState === 'speaking' && startBackground());
    const recorder = new CallOutcomeRecorder(log);
    // Set once the session's recorder runs: what the background track plays goes into the recording.
    let backgroundRecording: BackgroundRecording | undefined;
    const stats = observeSession({
      session,
      log,
      metrics,
      callId: callContext.callId,
      // The browser console draws each turn as a waterfall from this topic.
      onTurn: (trace: TurnTrace) => {
        if (config.OTEL_EXPORTER_OTLP_ENDPOINT) recordTurnSpan(trace);
        void ctx.room.localParticipant?.sendText(JSON.stringify(trace), { topic: TURN_TRACE_TOPIC }).catch(() => undefined);
      },
      startedAt: startedAt.getTime(),
      // The call's outcome and record, before call_ended.
      onClose: (reason) => {
        const leaseStopped = alive.lease?.stop() ?? Promise.resolve();
        // The worker's drain ran out with the caller still talking: the call is not over, it is
        // left (state kept, lease dropped once no renewal can follow) for the supervisor to give
        // to another worker.
        if (workerStopping.requested && !callerGone.aborted) {
          alive.handedOver = leaseStopped.then(() => states.handover(callContext.callId)).catch(() => undefined);
          log.warn({ event: 'call_handed_over', reason }, 'worker stopping with the caller on the line, call handed to the supervisor');
          return;
        }
        void leaseStopped.then(() => states.ended(callContext.callId, resumed?.resumes ?? 0)).catch(() => undefined);
        const outcome = recorder.finish(reason);
        metrics.report({ kind: 'call_ended', disposition: outcome.disposition, jobId: ctx.job.id });
        const recording = recorded.enabled
          ? keepSessionRecording({
              store: createRecordingStore(config),
              callId: callContext.callId,
              sessionDirectory: ctx.sessionDirectory,
              background: backgroundRecording,
              startedAt: session._recorderIO?.recordingStartedAt,
              hold: heldFor,
              earlier: resumed?.recordingParts,
              log,
            })
          : undefined;
        keepRecord({ reason, outcome: reached.overflow ? { ...outcome, overflow: reached.overflow } : outcome, history: session.history.items, stats, recording });
      },
    });

    // Tools act for this caller only: the calendar finds their appointments by their line.
    const callerKey = callerNumber ?? `participant:${caller.identity}`;
    const calendar = new FileCalendar({ path: config.VOICEFLEET_CALENDAR_FILE, openingHours: deployment.business.openingHours, daysAhead: 14 });
    const dataTools = {
      ...createBookingTools(calendar, { callId: callContext.callId, caller: callerKey }),
      ...createTicketTools(new FileTickets(config.VOICEFLEET_TICKETS_FILE), { callId: callContext.callId }),
    };
    const transferTool = createHumanTransferTool({
      transferTo: deployment.humanTransferTo,
      sip,
      log,
      onResult: (result) => recorder.transferred(result),
    });
    const failedOver = (kind: 'llm' | 'stt' | 'tts') => {
      metrics.report({ kind: 'fallback', provider: kind });
      log.warn({ event: 'provider_failover', provider: kind }, 'provider failed over to the next');
    };
    onFailover(providers.stt, 'stt', failedOver);
    onFailover(providers.tts, 'tts', failedOver);
    const agents = new CallAgents({ config, settings, dataTools, transferTool, recorder, onFailover: failedOver });
    if (resumed) log.info({ event: 'call_resumed', workflow: firstWorkflow, turns: resumed.turns, resume: resumed.resumes }, 'call resumed after its agent died');

    await session.start({
      agent: agents.create(firstWorkflow, { greeting: greetingSpeech, history: resumed && restoreItems(resumed.items) }),
      room: ctx.room,
      // The room's audio arrives at the rate VAD, end-of-turn model and STT all take (16 kHz),
      // resampled once in the native stack, instead of at the framework's 24 kHz with a
      // JavaScript resampler round trip per consumer per 10 ms frame. The agent's audio leaves on
      // the voice track above, at the TTS's own rate, so the framework resamples none of it
      // either; RoomIO publishes no track of its own.
      inputOptions: { participantIdentity: caller.identity, audioSampleRate: SESSION_INPUT_RATE, audioFrameSizeMs: SESSION_INPUT_FRAME_MS },
      outputOptions: { audioEnabled: false },
      record: sessionRecordOption(recorded, ctx.job),
    });
    const recordingStartedAt = session._recorderIO?.recordingStartedAt;
    if (recordingStartedAt !== undefined) {
      backgroundRecording = recordBackground(ctx.sessionDirectory, recordingStartedAt);
      if (!background.recordInto(backgroundRecording)) log.warn({ event: 'recording_background_untapped' }, 'background track cannot be recorded with this framework version');
    }

    // The call's state after every turn, and a lease that says its job is alive: if this process
    // dies, the supervisor (in crm-sync) gives the call to a new agent that resumes from here.
    let turns = resumed?.turns ?? 0;
    // A later agent joins these with its own part when the call ends (keepSessionRecording).
    const recordingParts = [...(resumed?.recordingParts ?? []), ...(recordingStartedAt !== undefined ? [recordingPart(ctx.sessionDirectory, recordingStartedAt, heldFor?.startedAt)] : [])];
    const saveState = () => {
      const agent = agents.current;
      if (!agent) return;
      void states
        .save({
          callId: callContext.callId,
          room: callContext.roomName,
          workflow: agent.workflowName,
          metadata: callContext.rawMetadata,
          items: saveItems(agent.chatCtx.items),
          turns,
          resumes: resumed?.resumes ?? 0,
          recordingParts,
          savedAt: new Date().toISOString(),
        })
        .catch((error: Error) => log.debug({ event: 'call_state_not_saved', error: error.message }, 'call state not saved'));
    };
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (ev) => {
      if (ev.item.type === 'message' && ev.item.role === 'user') turns += 1;
      saveState();
    });
    session.on(voice.AgentSessionEventTypes.FunctionToolsExecuted, saveState);
    saveState();

    if (config.VOICEFLEET_DEAD_AIR_BUDGET_MS > 0) {
      new DeadAirFiller(session, background.player, holdingPhrase, {
        budgetMs: config.VOICEFLEET_DEAD_AIR_BUDGET_MS,
        minThinkingMs: DEAD_AIR_MIN_THINKING_MS,
        onFilled: (thinkingMs) => {
          metrics.report({ kind: 'dead_air' });
          log.info({ event: 'dead_air_filled', thinkingMs }, 'agent slow to answer, holding phrase played');
        },
      }).start();
    }

    new SilenceLadder(session, {
      // The agent on the call now decides what a silent caller hears.
      prompts: () => (agents.current?.workflow ?? first).silencePrompts(),
      promptAfterMs: config.VOICEFLEET_SILENCE_PROMPT_AFTER_MS,
      maxUntranscribedSpeechMs: MAX_UNTRANSCRIBED_SPEECH_MS,
      hangUp: async () => {
        recorder.silenceHangUp();
        await ctx.deleteRoom();
      },
      onRung: (rung, kind) => log.info({ event: 'silence_prompt', rung, kind }, 'caller silent, prompting'),
    }).start();
  },
});
