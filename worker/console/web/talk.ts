import { Room, RoomEvent, Track, type Participant, type RemoteTrack, type TextStreamReader } from 'livekit-client';
import { TURN_TRACE_TOPIC, turnTraceSchema } from '../../metrics/turn-trace.js';
import { api } from './api.js';
import { byId, el } from './dom.js';
import { renderWaterfall } from './waterfall.js';

const TRANSCRIPTION_TOPIC = 'lk.transcription';
const AGENT_STATE = 'lk.agent.state';
/** Waterfalls kept on screen, newest first. */
const MAX_TURNS = 4;

/**
 * "Talk to an agent": a room of its own with the chosen workflow's agent dispatched into it (the
 * server mints the token), the browser's microphone as the caller, and what the framework
 * publishes shown as it arrives: transcripts, the agent's state and each turn's trace.
 */
export class TalkPanel {
  #room?: Room;
  #segments = new Map<string, HTMLElement>();

  constructor() {
    byId('talk-start').addEventListener('click', () => void this.start());
    byId('talk-stop').addEventListener('click', () => void this.stop());
  }

  async start(): Promise<void> {
    const workflow = byId<HTMLSelectElement>('workflow').value;
    this.#reset();
    status('connecting');
    const ticket = await api.talk(workflow);
    const room = new Room({ adaptiveStream: false, dynacast: false });
    this.#room = room;
    room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
      if (track.kind === Track.Kind.Audio) document.body.append(track.attach());
    });
    room.on(RoomEvent.ParticipantAttributesChanged, (changed: Record<string, string>, participant: Participant) => {
      const state = changed[AGENT_STATE];
      if (state && participant.identity !== room.localParticipant.identity) showState(state);
    });
    // An agent that joins with its state already set announces it in its first attributes.
    room.on(RoomEvent.ParticipantConnected, (participant: Participant) => {
      const state = participant.attributes[AGENT_STATE];
      if (state) showState(state);
    });
    room.on(RoomEvent.Disconnected, () => {
      status('disconnected');
      toggle(false);
    });
    room.registerTextStreamHandler(TRANSCRIPTION_TOPIC, (reader) => void this.#transcript(reader));
    room.registerTextStreamHandler(TURN_TRACE_TOPIC, (reader) => void this.#turnTrace(reader));
    await room.connect(ticket.url, ticket.token);
    await room.localParticipant.setMicrophoneEnabled(true);
    status(`connected to ${ticket.room}`);
    byId('talk-status').dataset.room = ticket.room;
    toggle(true);
  }

  async stop(): Promise<void> {
    await this.#room?.disconnect();
    this.#room = undefined;
  }

  #reset(): void {
    this.#segments.clear();
    byId('transcript').replaceChildren();
    byId('state-history').replaceChildren();
    byId('waterfall').replaceChildren();
  }

  /**
   * The framework's transcripts: the caller's arrive as one stream per interim or final text,
   * the agent's as one stream per segment with its words as deltas; both carry a segment id.
   */
  async #transcript(reader: TextStreamReader): Promise<void> {
    const room = this.#room;
    if (!room) return;
    const attrs = reader.info.attributes ?? {};
    const micSid = room.localParticipant.getTrackPublication(Track.Source.Microphone)?.trackSid;
    const caller = attrs['lk.transcribed_track_id'] === micSid;
    const id = attrs['lk.segment_id'] ?? reader.info.id;
    const line = this.#line(id, caller);
    const words = line.querySelector('span')!;
    if (caller) {
      // Each stream carries the whole text so far.
      const text = (await reader.readAll()).trim();
      if (text) words.textContent = text;
      line.classList.toggle('interim', attrs['lk.transcription_final'] !== 'true');
    } else {
      let text = '';
      for await (const delta of reader) {
        text += delta;
        words.textContent = text;
      }
      line.classList.remove('interim');
    }
    line.dataset.final = String(!line.classList.contains('interim'));
  }

  #line(id: string, caller: boolean): HTMLElement {
    let line = this.#segments.get(id);
    if (!line) {
      line = el('div', { className: `line ${caller ? 'caller' : 'agent'} interim`, attrs: { 'data-speaker': caller ? 'caller' : 'agent' } }, [
        el('b', { text: caller ? 'you' : 'agent' }),
        el('span'),
      ]);
      this.#segments.set(id, line);
      const box = byId('transcript');
      box.append(line);
      box.scrollTop = box.scrollHeight;
    }
    return line;
  }

  async #turnTrace(reader: TextStreamReader): Promise<void> {
    const parsed = turnTraceSchema.safeParse(JSON.parse(await reader.readAll()));
    if (!parsed.success) return;
    const box = byId('waterfall');
    if (box.querySelector('em')) box.replaceChildren();
    box.prepend(renderWaterfall(parsed.data));
    while (box.children.length > MAX_TURNS) box.lastElementChild!.remove();
  }
}

function showState(state: string): void {
  const badge = byId('agent-state');
  badge.textContent = state;
  badge.className = `state ${state}`;
  byId('state-history').append(el('li', { text: state }));
}

function status(text: string): void {
  byId('talk-status').textContent = text;
}

function toggle(connected: boolean): void {
  byId<HTMLButtonElement>('talk-start').disabled = connected;
  byId<HTMLButtonElement>('talk-stop').disabled = !connected;
}
