import { voice } from '@livekit/agents';
import { TrackPublishOptions, TrackSource, type Room } from '@livekit/rtc-node';

/** What the framework's room output queues ahead of playout (its RoomIO default). */
const QUEUE_SIZE_MS = 200;

/**
 * The agent's voice: the framework's own room audio output, published by the job as soon as it
 * knows the caller's line, while the call is admitted and its session assembled. Left to the
 * session, the track is published only once the session has started, and the framework holds
 * the first frame until the caller has subscribed: that negotiation (publish, then the caller's
 * subscription, 200-300 ms on loopback) stood in front of every greeting. The session takes the
 * output as its external audio output, so transcripts stay in step with it.
 */
export class VoiceTrack {
  readonly output: voice.ParticipantAudioOutput;
  readonly #stop = new AbortController();
  #published?: Promise<void>;

  constructor(room: Room, sampleRate: number) {
    this.output = new voice.ParticipantAudioOutput(room, {
      sampleRate,
      numChannels: 1,
      trackPublishOptions: new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
      queueSizeMs: QUEUE_SIZE_MS,
    });
  }

  /** Publishes once and resolves when the caller has subscribed; later calls share it. */
  publish(): Promise<void> {
    this.#published ??= this.output.start(this.#stop.signal);
    return this.#published;
  }

  /**
   * Does not wait for the publication: the framework's wait for the caller's subscription does
   * not heed the abort, and a caller who left before subscribing would hold the job's shutdown.
   */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.output.close();
  }
}
