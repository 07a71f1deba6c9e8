import type { FleetHealth, HistoryItem, LiveCallView, RoomTicket, SessionInfo } from '../api-types.js';

export class LoginRequired extends Error {}

/** The console API; the session cookie rides along (same origin), nothing else is sent. */
async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) throw new LoginRequired();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
  return (await res.json()) as T;
}

export const api = {
  login: (password: string) => call<{ ok: true }>('POST', '/login', { password }),
  logout: () => call<{ ok: true }>('POST', '/logout'),
  session: () => call<SessionInfo>('GET', '/session'),
  talk: (workflow: string) => call<RoomTicket>('POST', '/talk', { workflow }),
  live: () => call<{ calls: LiveCallView[] }>('GET', '/calls/live'),
  listen: (callId: string) => call<RoomTicket>('POST', `/calls/${encodeURIComponent(callId)}/listen`),
  history: () => call<{ calls: HistoryItem[] }>('GET', '/calls/history'),
  fleet: () => call<FleetHealth>('GET', '/fleet'),
};
