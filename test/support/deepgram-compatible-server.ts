import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketConnection } from './websocket-connection.js';

/** RMS (0..1 of full scale) above which 10 ms of caller audio counts as speech: about -40 dBFS. */
const SPEECH_RMS = 0.01;
/** 10 ms analysis windows: fine enough to place the end of speech inside the plugin's 100 ms chunks. */
const WINDOW_MS = 10;
/**
 * Quiet after speech that ends an utterance. Shorter pauses (between words) do not. The plugin
 * sends audio in 100 ms chunks, so the stub can tell a pause from an end only once the next
 * chunk is in: the final comes `finalDelayMs` to `finalDelayMs` + 100 ms after the last word.
 */
const END_OF_SPEECH_GAP_MS = 100;

/**
 * A local Deepgram-compatible live transcription endpoint (`/v1/listen` over WebSocket), so the
 * real Deepgram plugin runs end to end with no key and no network. It recognises nothing: it
 * finds utterances by energy and answers each with the next line the harness said the callers
 * say (`phrases`, per connection, in order), as one final result `finalDelayMs` after the
 * utterance ended. `sttDelaysMs` holds the delay each final really had, for the benchmark.
 */
export class DeepgramCompatibleServer {
  /** What the callers say, in order; each connection's n-th utterance is answered with phrase n. */
  phrases: string[] = ['hello'];
  /** Time from the end of an utterance (its last loud 10 ms) to its final result. */
  finalDelayMs = 100;
  /** End of speech -> final sent, as it happened (ms), one per utterance. */
  readonly sttDelaysMs: number[] = [];
  connections = 0;
  /** Upgrades refused (503) while the endpoint is down. */
  refused = 0;
  /** Utterances answered with a final result, over all connections. */
  finals = 0;
  #down = false;
  readonly #server: Server;
  readonly #open = new Set<WebSocketConnection>();

  private constructor() {
    this.#server = createServer((_req, res) => res.writeHead(404).end());
    this.#server.on('upgrade', (req, socket) => {
      const url = new URL(req.url ?? '/', 'http://stub');
      if (url.pathname !== '/v1/listen') return void socket.destroy();
      if (this.#down) {
        this.refused += 1;
        return void socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
      }
      const ws = WebSocketConnection.accept(req, socket);
      if (!ws) return;
      this.connections += 1;
      this.#open.add(ws);
      const session = new ListenSession(this, ws, Number(url.searchParams.get('sample_rate') ?? 16000), Number(url.searchParams.get('channels') ?? 1));
      ws.onClose = () => {
        session.stop();
        this.#open.delete(ws);
      };
    });
  }

  static async start(): Promise<DeepgramCompatibleServer> {
    const stub = new DeepgramCompatibleServer();
    await new Promise<void>((resolve) => stub.#server.listen(0, '127.0.0.1', resolve));
    return stub;
  }

  /** DEEPGRAM_BASE_URL for the plugin (it appends /v1/listen). */
  get baseUrl(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /**
   * An outage as a live stream sees one: every open connection is cut without a close frame,
   * and every new one is refused with 503 until `restore()`.
   */
  goDown(): void {
    this.#down = true;
    for (const ws of this.#open) ws.socket.destroy();
  }

  restore(): void {
    this.#down = false;
  }

  async close(): Promise<void> {
    for (const ws of this.#open) ws.socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** One plugin stream: audio in, SpeechStarted and one final Results message per utterance out. */
class ListenSession {
  readonly #requestId = randomUUID();
  /** Seconds of audio received so far: the stream's own clock, as Deepgram reports times. */
  #audioSeconds = 0;
  #utterances = 0;
  #speech?: { startedAt: number; lastLoudAt: number; lastLoudWallMs: number };
  #timer?: NodeJS.Timeout;
  readonly #windowSamples: number;

  constructor(
    readonly stub: DeepgramCompatibleServer,
    readonly ws: WebSocketConnection,
    readonly sampleRate: number,
    readonly channels: number,
  ) {
    this.#windowSamples = Math.round((sampleRate * WINDOW_MS) / 1000) * channels;
    ws.onBinary = (data) => this.#audio(data);
    ws.onText = (text) => this.#control(text);
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  #control(text: string): void {
    const type = (JSON.parse(text) as { type?: string }).type;
    if (type === 'CloseStream') this.ws.close();
  }

  #audio(data: Buffer): void {
    const arrivedAt = performance.now();
    const samples = new Int16Array(data.buffer, data.byteOffset, Math.floor(data.length / 2));
    const chunkSeconds = samples.length / this.channels / this.sampleRate;
    for (let i = 0; i < samples.length; i += this.#windowSamples) {
      const window = samples.subarray(i, i + this.#windowSamples);
      const at = this.#audioSeconds + i / this.channels / this.sampleRate;
      const windowEnd = at + window.length / this.channels / this.sampleRate;
      if (rms(window) < SPEECH_RMS) continue;
      if (!this.#speech) {
        this.#speech = { startedAt: at, lastLoudAt: windowEnd, lastLoudWallMs: 0 };
        this.ws.sendText(JSON.stringify({ type: 'SpeechStarted', channel: [0], timestamp: at }));
      }
      this.#speech.lastLoudAt = windowEnd;
      // This chunk's last sample arrived now; the loud window ended that much audio earlier.
      this.#speech.lastLoudWallMs = arrivedAt - (this.#audioSeconds + chunkSeconds - windowEnd) * 1000;
    }
    this.#audioSeconds += chunkSeconds;
    const speech = this.#speech;
    clearTimeout(this.#timer);
    if (!speech || (this.#audioSeconds - speech.lastLoudAt) * 1000 < END_OF_SPEECH_GAP_MS) return;
    const dueIn = speech.lastLoudWallMs + this.stub.finalDelayMs - performance.now();
    this.#timer = setTimeout(() => this.#final(speech), Math.max(0, dueIn));
  }

  #final(speech: { startedAt: number; lastLoudAt: number; lastLoudWallMs: number }): void {
    if (this.#speech !== speech || this.ws.closed) return;
    this.#speech = undefined;
    const phrases = this.stub.phrases;
    const transcript = phrases[this.#utterances++ % phrases.length] ?? '';
    const words = transcript.split(/\s+/).filter(Boolean);
    const span = (speech.lastLoudAt - speech.startedAt) / Math.max(1, words.length);
    this.stub.sttDelaysMs.push(performance.now() - speech.lastLoudWallMs);
    this.stub.finals += 1;
    this.ws.sendText(
      JSON.stringify({
        type: 'Results',
        channel_index: [0, 1],
        start: speech.startedAt,
        duration: speech.lastLoudAt - speech.startedAt,
        is_final: true,
        speech_final: true,
        from_finalize: false,
        channel: {
          alternatives: [
            {
              transcript,
              confidence: 0.99,
              words: words.map((word, n) => ({
                word: word.toLowerCase(),
                punctuated_word: word,
                start: speech.startedAt + n * span,
                end: speech.startedAt + (n + 1) * span,
                confidence: 0.99,
              })),
            },
          ],
        },
        metadata: { request_id: this.#requestId, model_info: { name: 'stub', version: '0', arch: 'stub' } },
      }),
    );
  }
}

function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const s of samples) sum += (s / 32768) ** 2;
  return Math.sqrt(sum / samples.length);
}
