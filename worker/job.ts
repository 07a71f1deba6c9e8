import { defineAgent, type JobContext, type JobProcess, voice, type VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { ParticipantKind } from '@livekit/rtc-node';
import { createBookingTools } from '../agents/booking/tools.js';
import { CallAgent } from '../agents/call-agent.js';
import { createWorkflow, DEFAULT_BUSINESS_PROFILE } from '../agents/workflows.js';
import { buildCallContext } from './call-context.js';
import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { FileCalendar } from './ports/file-calendar.js';
import { PocketsphinxSTT } from './providers/local/pocketsphinx-stt.js';
import { RECEPTIONIST_CORPUS } from './providers/local/receptionist-corpus.js';
import { buildSessionProviders } from './providers/session-providers.js';
import { observeSession } from './session-observer.js';
import { SilenceLadder } from './silence-ladder.js';
import { sessionTurnHandling } from './turn-handling.js';

/** Voice activity with no words may hold a silence prompt back this long (line noise). */
const MAX_UNTRANSCRIBED_SPEECH_MS = 4000;

/**
 * One call, from job start to hang-up. This is where a call enters voicefleet: the job's metadata
 * becomes a CallContext, the context picks a workflow, and the session runs it with the speech
 * stack from the config.
 */

interface ProcessData extends Record<string, unknown> {
  vad: VAD;
  recognizer: PocketsphinxSTT;
}

export default defineAgent({
  // Runs once per warm job process (each takes one call), so a call never waits for models to
  // load: the VAD, and the local recognizer with its language model built.
  prewarm: async (proc: JobProcess) => {
    const startedAt = Date.now();
    const config = loadConfig();
    proc.userData.vad = await silero.VAD.load();
    const recognizer = new PocketsphinxSTT({ corpus: RECEPTIONIST_CORPUS });
    proc.userData.recognizer = recognizer;
    const log = createLogger(config.LOG_LEVEL, { role: 'job-process' });
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
    const callContext = buildCallContext({
      jobId: ctx.job.id,
      roomName: ctx.job.room?.name ?? 'unknown',
      rawMetadata: ctx.job.metadata,
      defaultWorkflow: config.VOICEFLEET_DEFAULT_WORKFLOW,
    });
    const log = createLogger(config.LOG_LEVEL, {
      callId: callContext.callId,
      room: callContext.roomName,
      workflow: callContext.workflow,
    });
    if (!callContext.metadataValid) {
      log.error({ event: 'metadata_invalid', reason: callContext.metadataError }, 'job metadata invalid, using defaults');
    }

    const { vad, recognizer } = ctx.proc.userData as ProcessData;
    await ctx.connect();
    const caller = await ctx.waitForParticipant();
    const narrowband = caller.kind === ParticipantKind.SIP;
    log.info({ event: 'call_started', callerKind: ParticipantKind[caller.kind], narrowband }, 'call started');

    const profile = { ...DEFAULT_BUSINESS_PROFILE, name: config.VOICEFLEET_BUSINESS_NAME };
    const workflow = createWorkflow(callContext.workflow, profile);
    const providers = buildSessionProviders({ config, vad, recognizer, workflow, narrowband });

    const session = new voice.AgentSession({
      vad,
      stt: providers.stt,
      llm: providers.llm,
      tts: providers.tts,
      turnHandling: sessionTurnHandling(narrowband),
    });
    observeSession({ session, log, workflowLLM: providers.workflowLLM, startedAt: Date.now() });

    const calendar = new FileCalendar({ path: config.VOICEFLEET_CALENDAR_FILE, openingHours: profile.openingHours, daysAhead: 14 });

    await session.start({
      agent: new CallAgent({
        profile,
        greeting: callContext.metadataValid ? workflow.greeting() : workflow.genericGreeting(),
        tools: createBookingTools(calendar, callContext.callId),
      }),
      room: ctx.room,
      inputOptions: { participantIdentity: caller.identity },
    });

    new SilenceLadder(session, {
      prompts: workflow.silencePrompts(),
      promptAfterMs: config.VOICEFLEET_SILENCE_PROMPT_AFTER_MS,
      maxUntranscribedSpeechMs: MAX_UNTRANSCRIBED_SPEECH_MS,
      hangUp: () => ctx.deleteRoom(),
      onRung: (rung, kind) => log.info({ event: 'silence_prompt', rung, kind }, 'caller silent, prompting'),
    }).start();
  },
});
