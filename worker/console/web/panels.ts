import { Room, RoomEvent, Track, type RemoteTrack } from 'livekit-client';
import type { FleetHealth, HistoryItem, LiveCallView } from '../api-types.js';
import { api } from './api.js';
import { byId, duration, el } from './dom.js';

/** Live calls across the fleet, with "listen" joining the call's room hidden and muted. */
export class LivePanel {
  #listener?: Room;

  constructor() {
    byId('listen-stop').addEventListener('click', () => void this.#stopListening());
  }

  render(calls: LiveCallView[]): void {
    byId('live-calls').replaceChildren(
      ...calls.map((c) => {
        const listen = el('button', { text: 'Listen', attrs: { type: 'button', 'data-listen': c.callId } });
        listen.addEventListener('click', () => void this.#listen(c.callId));
        return el('tr', { attrs: { 'data-call-id': c.callId, 'data-room': c.room } }, [
          el('td', { text: c.room }),
          el('td', { text: c.workflow ?? '-' }),
          el('td', {}, [el('span', { className: `state ${c.agentState ?? ''}`, text: c.agentState ?? '-' })]),
          el('td', { text: duration(c.durationMs) }),
          el('td', { text: c.worker ?? '-' }),
          el('td', {}, [listen]),
        ]);
      }),
    );
    if (calls.length === 0) byId('live-calls').append(el('tr', {}, [el('td', { text: 'no live calls', attrs: { colspan: '6' } })]));
  }

  async #listen(callId: string): Promise<void> {
    await this.#stopListening();
    const ticket = await api.listen(callId);
    const room = new Room();
    room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
      if (track.kind === Track.Kind.Audio) byId('listening').append(track.attach());
    });
    await room.connect(ticket.url, ticket.token);
    this.#listener = room;
    byId('listening-room').textContent = ticket.room;
    byId('listening').classList.remove('hidden');
  }

  async #stopListening(): Promise<void> {
    await this.#listener?.disconnect();
    this.#listener = undefined;
    byId('listening').querySelectorAll('audio').forEach((a) => a.remove());
    byId('listening').classList.add('hidden');
  }
}

/** Ended calls; a click opens the transcript, outcome, latency, CRM status and the recording. */
export class HistoryPanel {
  #open?: string;

  render(calls: HistoryItem[]): void {
    byId('history-calls').replaceChildren(
      ...calls.map((c) => {
        const row = el('tr', { className: 'clickable', attrs: { 'data-call-id': c.callId, 'data-room': c.room } }, [
          el('td', { text: new Date(c.endedAt).toLocaleTimeString() }),
          el('td', { text: c.room }),
          el('td', { text: String((c.outcome.workflows as string[] | undefined)?.join(' -> ') ?? '-') }),
          el('td', { text: String(c.outcome.disposition ?? '-') }),
          el('td', { text: duration(c.durationMs) }),
          el('td', {}, [el('span', { className: `pill ${c.delivery.status}`, text: c.delivery.status })]),
          el('td', { text: c.hasRecording ? 'yes' : '-' }),
        ]);
        row.addEventListener('click', () => this.#show(c));
        return row;
      }),
    );
    const open = calls.find((c) => c.callId === this.#open);
    if (open) this.#updateStatus(open);
  }

  #show(c: HistoryItem): void {
    this.#open = c.callId;
    const detail = byId('call-detail');
    const latency = [`${c.latency.turns} turns`];
    if (c.latency.endOfTurnMs) latency.push(`end of turn p50 ${c.latency.endOfTurnMs.p50} ms (max ${c.latency.endOfTurnMs.max})`);
    if (c.latency.llmFirstTokenMs) latency.push(`LLM first token p50 ${c.latency.llmFirstTokenMs.p50} ms`);
    if (c.latency.ttsFirstAudioMs) latency.push(`TTS first audio p50 ${c.latency.ttsFirstAudioMs.p50} ms`);
    const children: Node[] = [
      el('h2', { text: `Call ${c.room} (${c.direction}, ${c.endReason})` }),
      el('p', { text: c.summary }),
      el('p', { attrs: { 'data-delivery': '' } }, [`CRM delivery: `, el('span', { className: `pill ${c.delivery.status}`, text: c.delivery.status })]),
      el('p', { text: `Latency: ${latency.join('; ')}` }),
      el('div', { attrs: { 'data-transcript': '' } }, c.transcript.map((t) => el('div', { className: `line ${t.role}` }, [el('b', { text: t.role }), el('span', { text: t.text })]))),
      el('pre', { text: JSON.stringify(c.outcome, null, 2) }),
    ];
    if (c.hasRecording) {
      children.push(el('audio', { attrs: { id: 'recording', controls: '', preload: 'metadata', src: `/api/calls/${encodeURIComponent(c.callId)}/recording` } }));
    } else {
      children.push(el('p', { text: 'No recording for this call.' }));
    }
    detail.replaceChildren(...children);
    detail.classList.remove('hidden');
  }

  #updateStatus(c: HistoryItem): void {
    const pill = byId('call-detail').querySelector('[data-delivery] span');
    if (pill) {
      pill.textContent = c.delivery.status;
      pill.className = `pill ${c.delivery.status}`;
    }
  }
}

export function renderFleet(f: FleetHealth): void {
  const queues = Object.entries(f.queues).map(([name, counts]) =>
    el('tr', { attrs: { 'data-queue': name } }, [el('td', { text: name }), ...['waiting', 'active', 'delayed', 'failed', 'completed'].map((s) => el('td', { text: String(counts[s] ?? 0) }))]),
  );
  byId('fleet-health').replaceChildren(
    el('p', {}, [
      'Redis ', el('span', { className: `pill ${f.redis}`, text: f.redis, attrs: { 'data-health': 'redis' } }),
      ' LiveKit ', el('span', { className: `pill ${f.livekit.status}`, text: f.livekit.status, attrs: { 'data-health': 'livekit' } }),
      ` rooms ${f.livekit.rooms ?? '-'}`,
    ]),
    f.workers.length === 0
      ? el('p', { text: 'No worker is up.' })
      : el('table', {}, [
          el('thead', {}, [el('tr', {}, ['worker', 'host', 'calls', 'held', 'slots', 'state'].map((h) => el('th', { text: h })))]),
          el(
            'tbody',
            {},
            f.workers.map((w) =>
              el('tr', { attrs: { 'data-worker': w.id } }, [
                el('td', { text: w.id }),
                el('td', { text: w.host ? `${w.host}:${w.pid ?? ''}` : '-' }),
                el('td', { text: String(w.talking ?? w.liveCalls) }),
                el('td', { text: String(w.holding ?? '-') }),
                el('td', { text: String(w.maxCalls ?? '-') }),
                el('td', {}, [el('span', { className: `pill ${w.draining ? 'down' : 'up'}`, text: w.draining ? 'draining' : w.maxCalls === undefined ? 'no beat' : 'up' })]),
              ]),
            ),
          ),
        ]),
    el('table', {}, [el('thead', {}, [el('tr', {}, ['queue', 'waiting', 'active', 'delayed', 'failed', 'done'].map((h) => el('th', { text: h })))]), el('tbody', {}, queues)]),
  );
}
