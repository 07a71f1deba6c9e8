import { initializeLogger, log } from '@livekit/agents';
import {
  LocalAudioTrack,
  ParticipantKind,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
  type RemoteParticipant,
  type RemoteTrack,
  type TextStreamReader,
} from '@livekit/rtc-node';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { LocalTTS, toFrames } from '../providers/local/local-tts.js';
import { concatSamples, encodeWav, parseWav, trailingSilenceMs } from '../providers/local/wav.js';
import { mintParticipantToken } from '../tokens.js';
import { TURN_TRACE_TOPIC, turnTraceSchema, type TurnTrace } from '../metrics/turn-trace.js';
import { AgentAudioMonitor, type SpeechBurst } from './agent-audio-monitor.js';
import { CallerMicrophone } from './caller-microphone.js';

const TRANSCRIPTION_TOPIC = 'lk.transcription';
/** The framework's BackgroundAudioPlayer publishes under this name. */
const BACKGROUND_TRACK_NAME = 'background_audio';
const SAMPLE_RATE = 16000;
/** Audible, for either side: a 10 ms window at or above this level (-40 dBFS), as a listener hears it. */
const AUDIBLE_RMS = 0.01;
/** How much earlier a transcript segment's stream may open than its audio reaches the ear. */
const TRANSCRIPT_LEAD_MS = 500;

export interface CallerOptions {
  url: string;
  apiKey: string;
  apiSecret: string;
  /** Agent to dispatch into the room through the token's room configuration. */
  agentName: string;
  /** Job metadata for the dispatch (a string, so tests can send malformed metadata too). */
  metadata?: string;
  roomName?: string;
  identity?: string;
}

export interface Transcript {
  speaker: 'agent' | 'caller';
  text: string;
  at: number;
}

export interface TurnReport {
  said: string;
  /** Caller end of speech -> first audible agent audio at the caller. */
  firstAgentAudioMs: number;
  /**
   * Caller end of speech -> the first thing the caller heard from the agent on either track: its
   * answer, or a holding phrase on the background track while the answer was slow.
   */
  firstHeardMs: number;
  agentTranscript: string;
}

export interface CallReport {
  room: string;
  joinToGreetingMs?: number;
  greeting?: string;
  turns: TurnReport[];
  transcripts: Transcript[];
  agentStates: { state: string; at: number }[];
  /** The agent's per-turn stage traces (`voicefleet.turn`), with the caller's ear added. */
  turnTraces: TurnTrace[];
}

/**
 * A scripted caller over WebRTC: joins a room (which dispatches the agent), speaks generated
 * speech through a live microphone track, and measures what it hears at its own ear.
 */
export class Caller {
  readonly room: Room;
  readonly roomName: string;
  readonly joinedAt: number;
  /** Final transcripts, each stamped with when its segment started (performance.now()). */
  readonly transcripts: Transcript[] = [];
  readonly agentStates: { state: string; at: number }[] = [];
  /** The agent's audio tracks as this caller subscribed to them: `voice` or `background`. */
  readonly agentTracks: { kind: 'voice' | 'background'; at: number }[] = [];
  readonly turns: TurnReport[] = [];
  /**
   * The agent's per-turn latency traces (topic `voicefleet.turn`), each with
   * `stages.firstAudioAtCallerMs` added from this caller's ear (same machine, same clock).
   */
  readonly turnTraces: TurnTrace[] = [];
  readonly #mic: CallerMicrophone;
  readonly #monitor = new AgentAudioMonitor({ sampleRate: SAMPLE_RATE, speechThreshold: AUDIBLE_RMS, burstGapMs: 600 });
  /** The agent's background track (holding phrases, hold music), heard apart from its voice. */
  readonly #background = new AgentAudioMonitor({ sampleRate: SAMPLE_RATE, speechThreshold: AUDIBLE_RMS, burstGapMs: 600 });
  readonly #voice = new LocalTTS({ sampleRate: SAMPLE_RATE });
  #micTrackSid?: string;
  #agent?: RemoteParticipant;
  #greeting?: { joinToGreetingMs: number; text: string };
  #disconnected = false;

  private constructor(room: Room, roomName: string, mic: CallerMicrophone, joinedAt: number) {
    this.room = room;
    this.roomName = roomName;
    this.#mic = mic;
    this.joinedAt = joinedAt;
  }

  static async join(options: CallerOptions): Promise<Caller> {
    ensureFrameworkLogger();
    const roomName = options.roomName ?? `call-${randomUUID().slice(0, 8)}`;
    const token = await mintParticipantToken({
      apiKey: options.apiKey,
      apiSecret: options.apiSecret,
      identity: options.identity ?? `caller-${randomUUID().slice(0, 8)}`,
      room: roomName,
      agentName: options.agentName,
      metadata: options.metadata,
      ttl: '10m',
    });

    const room = new Room();
    const mic = new CallerMicrophone(SAMPLE_RATE);
    const caller = new Caller(room, roomName, mic, 0);
    caller.#wire();
    try {
      await room.connect(options.url, token, { autoSubscribe: true, dynacast: false });
    } catch (error) {
      await mic.close();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`could not join ${options.url} (is \`npm start\` running?): ${reason}`);
    }
    (caller as { joinedAt: number }).joinedAt = performance.now();
    const publication = await room.localParticipant!.publishTrack(
      LocalAudioTrack.createAudioTrack('caller-mic', mic.source),
      new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
    );
    caller.#micTrackSid = publication.sid;
    return caller;
  }

  #wire(): void {
    this.room.on(RoomEvent.Disconnected, () => {
      this.#disconnected = true;
    });
    this.room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack, publication, participant: RemoteParticipant) => {
      if (track.kind !== TrackKind.KIND_AUDIO || participant.kind !== ParticipantKind.AGENT) return;
      this.#agent ??= participant;
      // A track can be gone by the time its stream opens (the agent published it as the caller
      // hung up); nothing more will be heard on it, and a wait on it fails on its own.
      const background = publication.name === BACKGROUND_TRACK_NAME;
      this.agentTracks.push({ kind: background ? 'background' : 'voice', at: performance.now() });
      const monitor = background ? this.#background : this.#monitor;
      monitor.listen(track).catch(() => undefined);
    });
    this.room.on(RoomEvent.ParticipantAttributesChanged, (changed: Record<string, string>, participant) => {
      const state = changed['lk.agent.state'];
      if (state && participant.identity !== this.room.localParticipant?.identity) {
        this.agentStates.push({ state, at: performance.now() });
      }
    });
    this.room.registerTextStreamHandler(TRANSCRIPTION_TOPIC, (reader: TextStreamReader) => {
      void this.#collectTranscript(reader);
    });
    this.room.registerTextStreamHandler(TURN_TRACE_TOPIC, (reader: TextStreamReader) => {
      void this.#collectTurnTrace(reader);
    });
  }

  async #collectTranscript(reader: TextStreamReader): Promise<void> {
    // A segment counts from when it starts (its stream opens as the words start to play), so a
    // cut-off segment that closes late is not taken for the answer that followed it.
    const openedAt = performance.now();
    const attributes = reader.info.attributes ?? {};
    // A segment's stream closes when the segment is complete; its text is then final. A stream
    // cut off by hang-up has no final text to report.
    const text = (await reader.readAll().catch(() => '')).trim();
    if (!text) return;
    const speaker = attributes['lk.transcribed_track_id'] === this.#micTrackSid ? 'caller' : 'agent';
    this.transcripts.push({ speaker, text, at: openedAt });
  }

  async #collectTurnTrace(reader: TextStreamReader): Promise<void> {
    const text = await reader.readAll().catch(() => '');
    let parsed;
    try {
      parsed = turnTraceSchema.safeParse(JSON.parse(text));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const trace = parsed.data;
    const published = trace.stages.firstAudioPublishedMs;
    if (published !== undefined) {
      // Bursts are stamped with performance.now(), the trace with the wall clock; the offset is
      // taken now rather than from timeOrigin, which drifts from Date.now() in long runs.
      const wallAtZero = Date.now() - performance.now();
      // The first burst heard once the frame was published (a little margin for the level detector's frame).
      const publishedAt = trace.speechEndedAt + published - wallAtZero - 20;
      const heard = this.#monitor.bursts.find((b) => b.startedAt >= publishedAt);
      if (heard) trace.stages.firstAudioAtCallerMs = Math.round(heard.startedAt + wallAtZero - trace.speechEndedAt);
    }
    this.turnTraces.push(trace);
  }

  /** Waits for the agent's first words; returns them with the join-to-audio latency. */
  async greeting(timeoutMs = 20_000): Promise<{ joinToGreetingMs: number; text: string }> {
    const burst = await this.#waitFor(() => this.#monitor.bursts[0], timeoutMs, 'the agent greeting');
    await this.waitForAgentToFinish(timeoutMs);
    const text = await this.#agentTextSince(burst.startedAt);
    this.#greeting = { joinToGreetingMs: burst.startedAt - this.joinedAt, text };
    return this.#greeting;
  }

  /** Says one line, then waits for the agent's whole answer. */
  async turn(line: string, timeoutMs = 20_000): Promise<TurnReport> {
    const endOfSpeechAt = await this.say(line);
    return this.#answerTo(line, endOfSpeechAt, timeoutMs);
  }

  /** Waits for the first agent speech after the caller's end of speech, and for its end. */
  async #answerTo(line: string, endOfSpeechAt: number, timeoutMs: number): Promise<TurnReport> {
    const reply = await this.#waitFor(
      () => this.#monitor.bursts.find((b) => b.startedAt >= endOfSpeechAt - 200),
      timeoutMs,
      `the agent's answer to "${line}"`,
    );
    await this.waitForAgentToFinish(timeoutMs);
    const held = this.#background.bursts.find((b) => b.startedAt >= endOfSpeechAt - 200 && b.startedAt < reply.startedAt);
    const report: TurnReport = {
      said: line,
      firstAgentAudioMs: reply.startedAt - endOfSpeechAt,
      firstHeardMs: (held?.startedAt ?? reply.startedAt) - endOfSpeechAt,
      agentTranscript: await this.#agentTextSince(reply.startedAt),
    };
    this.turns.push(report);
    return report;
  }

  /**
   * Speaks text (synthesized) or a mono 16-bit WAV; resolves at the caller's end of speech: when
   * the last audible sample left the microphone, not the quiet tail the voice trails off into
   * (flite leaves about 150 ms), which would otherwise count as part of the agent's response time.
   */
  async say(textOrWav: string, onStarted?: (startOfSpeechAt: number) => void): Promise<number> {
    const samples = textOrWav.endsWith('.wav') ? await this.#readWav(textOrWav) : await this.#synthesize(textOrWav);
    const quietTailMs = trailingSilenceMs(samples, SAMPLE_RATE, { thresholdRms: AUDIBLE_RMS, windowMs: 10 });
    return (await this.#mic.speak(samples, onStarted)) - quietTailMs;
  }

  /**
   * Talks over the agent while it speaks: returns how long after the caller started the agent's
   * audio stopped at the caller's ear, and the agent's next answer.
   */
  async bargeIn(line: string, afterMs = 1000, timeoutMs = 20_000): Promise<{ stopMs: number; reply: TurnReport }> {
    await this.waitForAgentSpeech(timeoutMs);
    await sleep(afterMs);
    const interrupted = this.#monitor.bursts.at(-1)!;
    let startedAt = 0;
    const endOfSpeechAt = await this.say(line, (t) => {
      startedAt = t;
    });
    await this.#waitFor(() => interrupted.endedAt, timeoutMs, 'the agent to stop talking');
    const report = await this.#answerTo(line, endOfSpeechAt, timeoutMs);
    return { stopMs: interrupted.endedAt! - startedAt, reply: report };
  }

  /** Resolves with the first agent transcript (at or after `since`) that contains `text`. */
  async waitForAgentTranscript(text: string, timeoutMs = 20_000, since = 0): Promise<Transcript> {
    return this.#waitFor(
      () => this.transcripts.find((t) => t.speaker === 'agent' && t.at >= since && t.text.includes(text)),
      timeoutMs,
      `the agent to say "${text}"`,
    );
  }

  /** Resolves when the room goes away under the caller (the agent hung up). */
  async waitForDisconnect(timeoutMs = 20_000): Promise<void> {
    await this.#waitFor(() => (this.#disconnected ? true : undefined), timeoutMs, 'the call to be hung up');
  }

  /** Resolves as soon as the agent is heard at all. */
  async waitForAgentSpeech(timeoutMs = 20_000): Promise<void> {
    await this.#waitFor(() => (this.#monitor.speaking ? true : undefined), timeoutMs, 'the agent to speak');
  }

  /**
   * Waits until the agent is quiet at the ear and no longer speaking or thinking by its own
   * account (the `lk.agent.state` attribute): a pause between two sentences is not the end.
   */
  async waitForAgentToFinish(timeoutMs = 20_000): Promise<void> {
    await this.#waitFor(
      () => {
        const state = this.agentStates.at(-1)?.state;
        const busy = state === 'speaking' || state === 'thinking';
        return this.#monitor.speaking || busy ? undefined : true;
      },
      timeoutMs,
      'the agent to finish speaking',
    );
  }

  /** True once the agent has left or closed the room. */
  get agentGone(): boolean {
    return this.#agent !== undefined && !this.room.remoteParticipants.has(this.#agent.identity);
  }

  report(): CallReport {
    return {
      room: this.roomName,
      joinToGreetingMs: this.#greeting?.joinToGreetingMs,
      greeting: this.#greeting?.text,
      turns: this.turns,
      transcripts: this.transcripts,
      agentStates: this.agentStates,
      turnTraces: this.turnTraces,
    };
  }

  async saveRecording(path: string): Promise<void> {
    await writeFile(path, encodeWav({ sampleRate: SAMPLE_RATE, channels: 1, samples: this.#monitor.recording() }));
  }

  recording(): Int16Array {
    return this.#monitor.recording();
  }

  /** Every burst of the agent's voice heard so far. */
  get agentBursts(): readonly SpeechBurst[] {
    return this.#monitor.bursts;
  }

  /** What was heard on the agent's background track: holding phrases, queue messages, hold music. */
  get backgroundBursts(): readonly SpeechBurst[] {
    return this.#background.bursts;
  }

  /** Resolves when the background track is first heard at or after `since` (performance.now()). */
  async waitForBackgroundAudio(timeoutMs = 20_000, since = 0): Promise<SpeechBurst> {
    return this.#waitFor(() => this.#background.bursts.find((b) => b.startedAt >= since), timeoutMs, 'audio on the background track');
  }

  async hangUp(): Promise<void> {
    this.#monitor.stop();
    this.#background.stop();
    await this.#mic.close();
    await this.room.disconnect();
  }

  async #synthesize(text: string): Promise<Int16Array> {
    return concatSamples(toFrames(await this.#voice.render(text), SAMPLE_RATE).map((f) => f.data));
  }

  async #readWav(path: string): Promise<Int16Array> {
    const pcm = parseWav(await readFile(path));
    if (pcm.sampleRate !== SAMPLE_RATE || pcm.channels !== 1) {
      throw new Error(`${path}: need mono ${SAMPLE_RATE} Hz 16-bit WAV (sox in.wav -r ${SAMPLE_RATE} -c 1 -b 16 out.wav)`);
    }
    return pcm.samples;
  }

  /**
   * The agent's transcripts of segments that started at `audioStartedAt` or later, joined; waits
   * briefly for them. Text streams open a little before the audio is heard, hence the margin.
   */
  async #agentTextSince(audioStartedAt: number): Promise<string> {
    const since = audioStartedAt - TRANSCRIPT_LEAD_MS;
    const collect = () =>
      this.transcripts
        .filter((t) => t.speaker === 'agent' && t.at >= since)
        .map((t) => t.text)
        .join(' ');
    // A segment's text arrives whole when the segment has finished playing; on a loaded host
    // (workers starting beside live calls) that has trailed the audio by more than 5 s.
    const deadline = performance.now() + 10_000;
    while (!collect() && performance.now() < deadline) await sleep(50);
    return collect();
  }

  #waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const found = probe();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const unsubscribe = this.#monitor.onChange(check);
      const poll = setInterval(check, 100);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        unsubscribe();
        clearInterval(poll);
        clearTimeout(timer);
      };
    });
  }
}

/** The framework's audio helpers log through its logger, which a plain script has not set up. */
function ensureFrameworkLogger(): void {
  try {
    log();
  } catch {
    initializeLogger({ pretty: false, level: 'warn' });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
