import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { BackgroundRecording, mixIntoAgentChannel } from './background-recording.js';
import { joinRecordingParts, readableHere, type JoinablePart, type RecordingPart } from './recording-parts.js';
import { LocalRecordingStore } from './local-recording-store.js';
import type { RecordingStore } from './recording-store.js';
import { S3RecordingStore } from './s3-recording-store.js';

type RecordOption = NonNullable<Parameters<voice.AgentSession['start']>[0]['record']>;

/**
 * The framework's session recorder (RecorderIO) writes the call as stereo Ogg-Opus, left the
 * caller's audio as the session heard it, right what the agent played (cut where it was
 * interrupted), both on one wall clock, streamed through ffmpeg to the job's session folder.
 * Only audio: traces, logs and transcripts stay here (they would go to LiveKit Cloud only).
 */
export const SESSION_AUDIO_ONLY = { audio: true, traces: false, logs: false, transcript: false } as const satisfies RecordOption;

/** What the framework names the recording in the job's session directory. */
export const SESSION_AUDIO_FILE = 'audio.ogg';
/** The background track's audio beside it (BackgroundRecording), and the two mixed. */
const BACKGROUND_AUDIO_FILE = 'background.s16le';
/** What a caller put on hold heard before the session (and its recorder) began, on the hold's clock. */
const HOLD_AUDIO_FILE = 'hold.s16le';
const MIXED_AUDIO_FILE = 'audio.mixed.ogg';
/** This agent's part and those of the agents before it on a resumed call, as one file. */
const JOINED_AUDIO_FILE = 'audio.joined.ogg';

/** Where the background track's audio waits for the end of the call, on the recording's clock. */
export function recordBackground(sessionDirectory: string, recordingStartedAt: number): BackgroundRecording {
  return new BackgroundRecording(join(sessionDirectory, BACKGROUND_AUDIO_FILE), recordingStartedAt);
}

type StoreConfig = Pick<
  Config,
  'VOICEFLEET_RECORDINGS_DIR' | 'VOICEFLEET_RECORDINGS_STORE' | 'VOICEFLEET_RECORDINGS_S3_BUCKET' | 'VOICEFLEET_RECORDINGS_S3_PREFIX' | 'VOICEFLEET_RECORDINGS_S3_REGION' | 'VOICEFLEET_RECORDINGS_S3_ENDPOINT'
>;

/**
 * Where hold music and queue messages wait for the end of the call: a caller on hold is not
 * recorded (no agent talks to them yet, and no consent has been asked), but what they heard is
 * part of the call, and the recording keeps it on the agent's channel ahead of the session.
 */
export function recordHold(sessionDirectory: string, heldAt: number): BackgroundRecording {
  return new BackgroundRecording(join(sessionDirectory, HOLD_AUDIO_FILE), heldAt);
}

/** The configured store; loadConfig has already refused an S3 store without its bucket. */
export function createRecordingStore(config: StoreConfig): RecordingStore {
  if (config.VOICEFLEET_RECORDINGS_STORE !== 's3') return new LocalRecordingStore(config.VOICEFLEET_RECORDINGS_DIR);
  return new S3RecordingStore({
    bucket: config.VOICEFLEET_RECORDINGS_S3_BUCKET!,
    prefix: config.VOICEFLEET_RECORDINGS_S3_PREFIX,
    region: config.VOICEFLEET_RECORDINGS_S3_REGION,
    endpoint: config.VOICEFLEET_RECORDINGS_S3_ENDPOINT,
  });
}

/**
 * `record` for AgentSession.start: the recorder on, or every recording category off. A job with
 * LiveKit Cloud redaction on must also upload the transcript with the audio (the framework refuses
 * to start the session otherwise), and Cloud then redacts both.
 */
export function sessionRecordOption(policy: RecordingPolicy, job: { enableRedaction?: boolean } = {}): RecordOption {
  if (!policy.enabled) return false;
  return job.enableRedaction ? { ...SESSION_AUDIO_ONLY, transcript: true } : SESSION_AUDIO_ONLY;
}

/** The words a recorded call opens with: the consent announcement, then the greeting. */
export function openingWords(args: { greeting: string; recording: boolean; consent: string; resumed: boolean }): string {
  // A resumed call was announced when it started; its recording is a new file all the same.
  if (!args.recording || args.consent === '' || args.resumed) return args.greeting;
  return `${args.consent} ${args.greeting}`;
}

/**
 * Moves the finished session recording into the store, with what the background track played
 * mixed into the agent's channel; its uri for the call record, or undefined when there is none
 * (recording off, the session never started, an empty file). A mix that fails keeps the
 * framework's recording as it is: a recording without the filler beats no recording.
 */
export async function keepSessionRecording(args: {
  store: RecordingStore;
  callId: string;
  sessionDirectory: string;
  background?: BackgroundRecording;
  /** When this agent's recorder began (RecorderIO.recordingStartedAt). */
  startedAt?: number;
  /** What the caller heard on hold before this agent's session, if it held them (recordHold). */
  hold?: BackgroundRecording;
  /** A resumed call: what the agents before this one recorded (call state). */
  earlier?: readonly RecordingPart[];
  log: Logger;
}): Promise<string | undefined> {
  const path = join(args.sessionDirectory, SESSION_AUDIO_FILE);
  const mixed = join(args.sessionDirectory, MIXED_AUDIO_FILE);
  const joined = join(args.sessionDirectory, JOINED_AUDIO_FILE);
  try {
    const held = await holdPart(args.hold, args.log);
    const found = await stat(path).catch(() => undefined);
    if (!found || found.size === 0) {
      args.log.warn({ event: 'recording_missing' }, 'call recording not found after the session');
      return undefined;
    }
    let upload = await withBackground(path, mixed, args);
    let released: EarlierPart[] = [];
    const earlier = [...(args.earlier?.length ? await earlierParts(args.earlier, args.log) : []), ...held];
    if (earlier.length && args.startedAt !== undefined) {
      try {
        const { gapsMs } = await joinRecordingParts([...earlier, { path: upload, startedAt: args.startedAt }], joined);
        args.log.info({ event: 'recording_parts_joined', parts: earlier.length + 1, hold: held.length > 0, gapsMs }, 'recording joined with what came before this session');
        upload = joined;
        released = earlier;
      } catch (error) {
        args.log.warn({ event: 'recording_parts_not_joined', error: (error as Error).message }, 'earlier parts of the call could not be joined; stored from this session, earlier parts kept');
      }
    }
    return await saveReleasingParts(args, upload, released);
  } finally {
    // Closed even when there is no recording, so the taps stop taking frames.
    await args.background?.close();
    await args.hold?.close();
    for (const file of [path, mixed, joined, args.background?.path, args.hold?.path]) if (file) await rm(file, { force: true }).catch(() => undefined);
  }
}

/** The hold recording as a part to join, when the caller was held and heard something. */
async function holdPart(hold: BackgroundRecording | undefined, log: Logger): Promise<EarlierPart[]> {
  if (!hold) return [];
  const kept = await hold.close();
  if (kept.error) log.warn({ event: 'recording_hold_not_kept', error: kept.error.message }, 'hold audio could not be kept; recording stored without it');
  if (kept.error || kept.seconds === 0) return [];
  return [{ path: hold.path, startedAt: hold.startedAt, agentOnly: true }];
}

/**
 * A call whose agent died and that no agent took up again (the caller hung up during the
 * hand-over, the fallback answered it, or it ran out of resumes): its agents' parts on this
 * machine's disk are the only copy of it. Stored as the call's recording, joined as a resumed
 * call's would be; undefined when none of them is readable here.
 */
export async function keepUnresumedRecording(args: { store: RecordingStore; callId: string; parts: readonly RecordingPart[]; log: Logger }): Promise<string | undefined> {
  const parts = await earlierParts(args.parts, args.log);
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return saveReleasingParts(args, parts[0]!.path, parts);
  const scratch = await mkdtemp(join(tmpdir(), 'voicefleet-parts-'));
  try {
    const joined = join(scratch, JOINED_AUDIO_FILE);
    const { gapsMs } = await joinRecordingParts(parts, joined);
    args.log.info({ event: 'recording_parts_joined', parts: parts.length, gapsMs }, 'recording of the unresumed call joined from its parts');
    return await saveReleasingParts(args, joined, parts);
  } catch (error) {
    args.log.warn({ event: 'recording_parts_not_joined', error: (error as Error).message }, 'parts of the unresumed call could not be joined; kept where they are');
    return undefined;
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Saves `upload` as the call's recording; only then are the dead agents' parts, until now the only copy, deleted. */
async function saveReleasingParts(args: { store: RecordingStore; callId: string; log: Logger }, upload: string, parts: readonly EarlierPart[]): Promise<string | undefined> {
  try {
    const saved = await args.store.save(args.callId, createReadStream(upload), { contentType: 'audio/ogg' });
    args.log.info({ event: 'recording_saved', bytes: saved.bytes, store: args.store.kind, parts: parts.length || undefined }, 'call recording saved');
    for (const part of parts) if (part.directory) await rm(part.directory, { recursive: true, force: true }).catch(() => undefined);
    return saved.uri;
  } catch (error) {
    args.log.error({ event: 'recording_not_saved', error: (error as Error).message }, 'call recording could not be saved');
    return undefined;
  }
}

/** A part to join before this agent's own; its directory is deleted once the store has the call. */
interface EarlierPart extends JoinablePart {
  directory?: string;
}

/**
 * The parts recorded by the agents before this one that this machine still has: each the
 * framework's file with its background track mixed in, as the part's own agent would have
 * stored it, after the hold that agent played before it. A part on another host, or gone, is
 * named in the log and left out.
 */
async function earlierParts(parts: readonly RecordingPart[], log: Logger): Promise<EarlierPart[]> {
  const ready: EarlierPart[] = [];
  for (const part of parts) {
    if (!readableHere(part)) {
      log.warn({ event: 'recording_part_elsewhere', host: part.host }, 'a part of the call recorded by an agent that died is on another host and is left out');
      continue;
    }
    const audio = join(part.directory, SESSION_AUDIO_FILE);
    const found = await stat(audio).catch(() => undefined);
    if (!found || found.size === 0) {
      log.warn({ event: 'recording_part_missing' }, 'a part of the call recorded by an agent that died is missing and is left out');
      continue;
    }
    const background = join(part.directory, BACKGROUND_AUDIO_FILE);
    const mixed = join(part.directory, MIXED_AUDIO_FILE);
    let path = audio;
    if (((await stat(background).catch(() => undefined))?.size ?? 0) > 0) {
      path = await mixIntoAgentChannel(audio, background, mixed).then(
        () => mixed,
        (error: Error) => {
          log.warn({ event: 'recording_background_not_mixed', error: error.message }, "background audio of a dead agent's part could not be mixed");
          return audio;
        },
      );
    }
    // The caller's wait on hold before that agent's session, when it held them.
    const hold = join(part.directory, HOLD_AUDIO_FILE);
    if (part.holdStartedAt !== undefined && ((await stat(hold).catch(() => undefined))?.size ?? 0) > 0) {
      ready.push({ path: hold, startedAt: part.holdStartedAt, agentOnly: true, directory: part.directory });
    }
    ready.push({ path, startedAt: part.startedAt, directory: part.directory });
  }
  return ready;
}

/** The file to store: the mix when the background track played during the recording. */
async function withBackground(path: string, mixed: string, args: { background?: BackgroundRecording; log: Logger }): Promise<string> {
  if (!args.background) return path;
  const kept = await args.background.close();
  if (kept.skippedSeconds > 0) args.log.warn({ event: 'recording_background_skipped', seconds: kept.skippedSeconds }, 'background audio at an unexpected sample rate left out of the recording');
  if (kept.error) {
    args.log.warn({ event: 'recording_background_not_mixed', error: kept.error.message }, 'background audio could not be kept; recording stored without it');
    return path;
  }
  if (kept.seconds === 0) return path;
  try {
    await mixIntoAgentChannel(path, args.background.path, mixed);
    args.log.info({ event: 'recording_background_mixed', seconds: Math.round(kept.seconds * 10) / 10 }, 'background audio mixed into the recording');
    return mixed;
  } catch (error) {
    args.log.warn({ event: 'recording_background_not_mixed', error: (error as Error).message }, 'background audio could not be mixed; recording stored without it');
    return path;
  }
}

export interface RecordingPolicy {
  enabled: boolean;
  /** Said first on a recorded call; empty for none. */
  consent: string;
}

/** The deployment's own recording settings, else the fleet's (VOICEFLEET_RECORDING*). */
export function recordingPolicy(
  config: Pick<Config, 'VOICEFLEET_RECORDING' | 'VOICEFLEET_RECORDING_CONSENT'>,
  deployment: { recording?: { enabled?: boolean; consent?: string } },
): RecordingPolicy {
  return {
    enabled: deployment.recording?.enabled ?? config.VOICEFLEET_RECORDING === 'on',
    consent: deployment.recording?.consent ?? config.VOICEFLEET_RECORDING_CONSENT,
  };
}
