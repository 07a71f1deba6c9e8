import { defineAgent, type JobContext, type JobProcess, voice, type VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { ParticipantKind } from '@livekit/rtc-node';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SipClient } from 'livekit-server-sdk';
import { createBookingTools } from '../agents/booking/tools.js';
import { createTicketTools } from '../agents/support-triage/tickets.js';
import { createWorkflow } from '../agents/workflows.js';
import { CallAgents } from './call-agents.js';
import { buildCallContext } from './call-context.js';
import { CallOutcomeRecorder } from './call-outcome-recorder.js';
import { buildCallRecord } from './crm/build-call-record.js';
import { CallRecordKeeper } from './crm/call-record-keeper.js';
import { Outbox } from './crm/outbox.js';
import { livekitApiUrl, loadConfig } from './config.js';
import { Deployments, workflowSettingsFor } from './deployments.js';
import { createLogger, maskPhoneNumber } from './log.js';
import { FileCalendar } from './ports/file-calendar.js';
import { FileTickets } from './ports/file-tickets.js';
import { CALLER_CORPUS } from './providers/local/caller-corpus.js';
import { PocketsphinxSTT } from './providers/local/pocketsphinx-stt.js';
import { buildSessionProviders } from './providers/session-providers.js';
import { crmSyncJobOptions, QUEUES } from './queues/queues.js';
import { connectRedis } from './queues/redis.js';
import { observeSession } from './session-observer.js';
import { SilenceLadder } from './silence-ladder.js';
import { createHumanTransferTool } from './telephony/human-transfer.js';
import { sessionTurnHandling } from './turn-handling.js';

/** Voice activity with no words may hold a silence prompt back this long (line noise). */
const MAX_UNTRANSCRIBED_SPEECH_MS = 4000;

/**
 * One call, from job start to hang-up. This is where a call enters voicefleet: the job's metadata
 * and the dialed number pick a deployment, the deployment picks the first workflow, and the
 * session runs it (and any workflow it hands the call to) with the speech stack from the config.
 * When the session closes, the recorder turns the transcript into the call's outcome.
 */

interface ProcessData extends Record<string, unknown> {
  vad: VAD;
  recognizer: PocketsphinxSTT;
  deployments: Deployments;
  /** One Redis connection and queue per job process, for the call's record and heartbeats. */
  crm: { queue: Queue; redis: Redis; outbox: Outbox };
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
    proc.userData.crm = { redis, queue, outbox: new Outbox(config.VOICEFLEET_OUTBOX_DIR) };
    proc.userData.vad = await silero.VAD.load();
    const recognizer = new PocketsphinxSTT({ corpus: CALLER_CORPUS });
    proc.userData.recognizer = recognizer;
    // A broken recognizer must not keep the process from taking calls: the session's fallback
    // and per-call errors handle it, but the reason is said here, once, where it happened.
    await recognizer.warm().catch((error: Error) =>
      log.error({ event: 'recognizer_unavailable', error: error.message }, 'local recognizer failed to start'),
    );
    log.info(
      { event: 'job_process_ready', prewarmMs: Date.now() - startedAt },
      'job process ready for a call',
    );
  },

  entry: async (ctx: JobContext) => {
    const config = loadConfig();
    const { vad, recognizer, deployments, crm } = ctx.proc.userData as ProcessData;
    const callContext = buildCallContext({ jobId: ctx.job.id, roomName: ctx.job.room?.name ?? 'unknown', rawMetadata: ctx.job.metadata });
    const baseLog = createLogger(config.LOG_LEVEL, { callId: callContext.callId, room: callContext.roomName });
    if (!callContext.metadataValid) {
      baseLog.error({ event: 'metadata_invalid', reason: callContext.metadataError }, 'job metadata invalid, using defaults');
    }

    await ctx.connect();
    const caller = await ctx.waitForParticipant();
    const isSip = caller.kind === ParticipantKind.SIP;
    // livekit-sip names the number the caller dialed and the caller's own number in attributes.
    const dialedNumber = caller.attributes['sip.trunkPhoneNumber'] || undefined;
    const callerNumber = caller.attributes['sip.phoneNumber'] || undefined;
    const { deployment, unknown } = deployments.select({ deploymentId: callContext.deployment, dialedNumber });
    const firstWorkflow = callContext.workflow ?? deployment.workflow;
    const log = baseLog.child({ deployment: deployment.id });
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

    const providers = buildSessionProviders({ config, vad, recognizer, narrowband: isSip });
    const session = new voice.AgentSession({ vad, stt: providers.stt, tts: providers.tts, turnHandling: sessionTurnHandling(isSip) });
    const recorder = new CallOutcomeRecorder(log);
    const startedAt = new Date();
    const books = new CallRecordKeeper({ ...crm, log, callId: callContext.callId });
    books.started({ room: callContext.roomName, deployment: deployment.id, startedAt });
    let recordKept: Promise<void> = Promise.resolve();
    const stats = observeSession({
      session,
      log,
      startedAt: startedAt.getTime(),
      // The call's outcome and record, before call_ended; the job waits for the record to be
      // durable (queue or outbox) before it exits.
      onClose: (reason) => {
        const outcome = recorder.finish(reason);
        recordKept = books
          .finish(
            buildCallRecord({
              callId: callContext.callId,
              room: callContext.roomName,
              deployment: deployment.id,
              businessName: deployment.business.name,
              direction: isSip ? (callContext.appointment ? 'outbound' : 'inbound') : 'web',
              caller: maskPhoneNumber(callerNumber),
              dialed: maskPhoneNumber(dialedNumber),
              externalId: callContext.externalId,
              startedAt,
              endedAt: new Date(),
              endReason: reason,
              outcome,
              history: session.history.items,
              stats,
            }),
          )
          .catch((error: Error) => log.error({ event: 'call_record_lost', error: error.message }, 'call record could not be kept'));
      },
    });
    ctx.addShutdownCallback(() => recordKept);

    // Tools act for this caller only: the calendar finds their appointments by their line.
    const callerKey = callerNumber ?? `participant:${caller.identity}`;
    const calendar = new FileCalendar({ path: config.VOICEFLEET_CALENDAR_FILE, openingHours: deployment.business.openingHours, daysAhead: 14 });
    const dataTools = {
      ...createBookingTools(calendar, { callId: callContext.callId, caller: callerKey }),
      ...createTicketTools(new FileTickets(config.VOICEFLEET_TICKETS_FILE), { callId: callContext.callId }),
    };
    const transferTool = createHumanTransferTool({
      transferTo: deployment.humanTransferTo,
      sip: isSip
        ? { client: new SipClient(livekitApiUrl(config), config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET), roomName: ctx.room.name!, participantIdentity: caller.identity }
        : undefined,
      log,
      onResult: (result) => recorder.transferred(result),
    });
    const settings = workflowSettingsFor(deployment, {
      appointment: callContext.appointment && { bookingId: callContext.appointment.bookingId, slot: { id: callContext.appointment.slotId } },
      contactName: callContext.contactName,
    });
    const agents = new CallAgents({ config, settings, dataTools, transferTool, recorder });
    const first = createWorkflow(firstWorkflow, settings);
    const greeting = callContext.metadataValid ? first.greeting() : first.genericGreeting();

    await session.start({
      agent: agents.create(firstWorkflow, { greeting }),
      room: ctx.room,
      inputOptions: { participantIdentity: caller.identity },
    });

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
