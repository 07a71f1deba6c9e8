import type { Queue } from 'bullmq';
import express from 'express';
import type { Redis } from 'ioredis';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { WORKFLOW_NAMES } from '../../agents/workflows.js';
import { CallRegistry } from '../queues/call-registry.js';
import { CallStateStore } from '../supervisor/call-state.js';
import { liveWorkers, type WorkerBeat } from '../fleet/worker-heartbeat.js';
import { mintParticipantToken } from '../tokens.js';
import {
  fleetHealthSchema,
  historySchema,
  liveCallsSchema,
  roomTicketSchema,
  sessionInfoSchema,
  type FleetHealth,
  type HistoryItem,
  type LiveCallView,
} from './api-types.js';
import { CallHistory, type HistoryEntry } from './call-history.js';
import { hasRecording, recordingHandlers, type RecordingSource } from './recording-route.js';
import type { ConsoleSessions } from './session-auth.js';

const AGENT_STATE = 'lk.agent.state';
const QUEUE_STATES = ['waiting', 'delayed', 'active', 'completed', 'failed'] as const;

export interface ConsoleApiOptions {
  sessions: ConsoleSessions;
  redis: Redis;
  livekit: { url: string; httpUrl: string; apiKey: string; apiSecret: string };
  agentName: string;
  queues: Readonly<Record<string, Queue>>;
  queueBoardUrl?: string;
  recordings?: RecordingSource;
}

/** The console's JSON API under /api: login, then everything else behind the session. */
export function consoleApi(options: ConsoleApiOptions): express.Router {
  const { sessions, redis, livekit } = options;
  const registry = new CallRegistry(redis);
  const states = new CallStateStore(redis);
  const history = new CallHistory(redis);
  const rooms = new RoomServiceClient(livekit.httpUrl, livekit.apiKey, livekit.apiSecret);

  const api = express.Router();
  api.use(express.json({ limit: '8kb' }));
  api.post('/login', sessions.login);
  api.use(sessions.require);
  api.post('/logout', sessions.logout);

  api.get('/session', (_req, res) => send(res, sessionInfoSchema, { workflows: [...WORKFLOW_NAMES], queueBoardUrl: options.queueBoardUrl }));

  // A browser call to an agent: a fresh room, and a token whose room configuration dispatches it.
  api.post('/talk', async (req, res) => {
    const workflow = (req.body as { workflow?: unknown } | undefined)?.workflow;
    if (typeof workflow !== 'string' || !(WORKFLOW_NAMES as readonly string[]).includes(workflow)) {
      return void res.status(400).json({ error: `workflow must be one of ${WORKFLOW_NAMES.join(', ')}` });
    }
    const room = `console-${randomBytes(4).toString('hex')}`;
    const identity = `operator-${randomBytes(4).toString('hex')}`;
    const token = await mintParticipantToken({ ...keys(livekit), identity, room, agentName: options.agentName, metadata: JSON.stringify({ workflow }), ttl: '1h' });
    send(res, roomTicketSchema, { url: livekit.url, token, room, identity });
  });

  api.get('/calls/live', async (_req, res) => {
    const calls = await liveCalls(registry, states, rooms);
    send(res, liveCallsSchema, { calls });
  });

  // Listen in: hidden, subscribe-only; the caller and the agent never see the operator.
  api.post('/calls/:id/listen', async (req, res) => {
    const details = await registry.details(String(req.params.id));
    if (details.state !== 'live' || !details.room) return void res.status(404).json({ error: 'no such live call' });
    const identity = `listener-${randomBytes(4).toString('hex')}`;
    const token = new AccessToken(livekit.apiKey, livekit.apiSecret, { identity, ttl: '1h' });
    token.addGrant({ roomJoin: true, room: details.room, canSubscribe: true, canPublish: false, canPublishData: false, hidden: true });
    send(res, roomTicketSchema, { url: livekit.url, token: await token.toJwt(), room: details.room, identity });
  });

  api.get('/calls/history', async (req, res) => {
    const limit = Math.min(200, Math.max(1, Number(req.query.limit) || 50));
    const entries = await history.list(limit);
    const calls = await Promise.all(entries.map((e) => historyItem(e, options.recordings)));
    send(res, historySchema, { calls });
  });

  if (options.recordings) {
    const recording = recordingHandlers(options.recordings);
    api.get('/calls/:id/recording', recording.get);
    api.delete('/calls/:id/recording', recording.remove);
  } else {
    api.all('/calls/:id/recording', (_req, res) => void res.status(404).json({ error: 'no recording store configured' }));
  }

  api.get('/fleet', async (_req, res) => {
    const [redisUp, livekitRooms, queues, live, beats] = await Promise.all([
      redis.ping().then(() => true, () => false),
      rooms.listRooms().then((r) => r.length, () => undefined),
      queueCounts(options.queues),
      liveCalls(registry, states, undefined).catch(() => []),
      liveWorkers(redis).catch(() => []),
    ]);
    send(res, fleetHealthSchema, {
      redis: redisUp ? 'up' : 'down',
      livekit: livekitRooms === undefined ? { status: 'down' } : { status: 'up', rooms: livekitRooms },
      workers: fleetWorkers(beats, live),
      queues,
      queueBoardUrl: options.queueBoardUrl,
    });
  });

  api.use(((error, _req, res, _next) => {
    res.status(500).json({ error: (error as Error).message });
  }) as express.ErrorRequestHandler);
  return api;
}

function keys(livekit: ConsoleApiOptions['livekit']): { apiKey: string; apiSecret: string } {
  return { apiKey: livekit.apiKey, apiSecret: livekit.apiSecret };
}

/** Every answer goes out as its schema's parse: typed, and nothing extra. */
function send<S extends z.ZodType>(res: express.Response, schema: S, body: z.input<S>): void {
  res.set('cache-control', 'no-store').json(schema.parse(body));
}

async function liveCalls(registry: CallRegistry, states: CallStateStore, rooms: RoomServiceClient | undefined): Promise<LiveCallView[]> {
  const ids = await registry.live(100);
  return Promise.all(
    ids.map(async (callId) => {
      const [details, saved] = await Promise.all([registry.details(callId), states.load(callId).catch(() => undefined)]);
      const room = details.room ?? 'unknown';
      const startedAt = details.startedAt ?? new Date().toISOString();
      const agentState = rooms ? await agentStateIn(rooms, room) : undefined;
      return {
        callId,
        room,
        deployment: details.deployment ?? 'unknown',
        workflow: saved?.workflow ?? details.workflow,
        worker: details.worker,
        agentState,
        startedAt,
        durationMs: Math.max(0, Date.now() - Date.parse(startedAt)),
        turns: saved?.turns,
      };
    }),
  );
}

async function agentStateIn(rooms: RoomServiceClient, room: string): Promise<string | undefined> {
  try {
    const participants = await rooms.listParticipants(room);
    return participants.map((p) => p.attributes[AGENT_STATE]).find((s) => s !== undefined);
  } catch {
    return undefined;
  }
}

async function queueCounts(queues: Readonly<Record<string, Queue>>): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [name, queue] of Object.entries(queues)) {
    out[name] = await queue.getJobCounts(...QUEUE_STATES).catch(() => ({}));
  }
  return out;
}

async function historyItem(entry: HistoryEntry, recordings: RecordingSource | undefined): Promise<HistoryItem> {
  const r = entry.record;
  return {
    callId: r.callId,
    room: r.room,
    deployment: r.deployment,
    direction: r.direction,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    durationMs: r.durationMs,
    endReason: r.endReason,
    summary: r.summary,
    outcome: r.outcome as unknown as Record<string, unknown>,
    transcript: r.transcript,
    latency: r.latency,
    delivery: entry.delivery,
    hasRecording: recordings ? await hasRecording(recordings, r.callId) : false,
  };
}

/**
 * The fleet's workers: every one that beat lately, idle ones too, with the calls the registry
 * has on it; and any worker a live call names that did not beat (its Redis writes failing, or an
 * older build), so no call is on a worker the console does not show.
 */
export function fleetWorkers(beats: readonly WorkerBeat[], live: readonly { worker?: string }[]): FleetHealth['workers'] {
  const callsOn = new Map<string, number>();
  for (const call of live) if (call.worker) callsOn.set(call.worker, (callsOn.get(call.worker) ?? 0) + 1);
  const listed = beats.map((b) => {
    const id = b.livekitWorkerId ?? b.key;
    const liveCalls = callsOn.get(id) ?? 0;
    callsOn.delete(id);
    return { id, host: b.host, pid: b.pid, liveCalls, talking: b.talking, holding: b.holding, maxCalls: b.maxCalls, draining: b.draining, beatAt: b.beatAt };
  });
  return [...listed, ...[...callsOn].map(([id, liveCalls]) => ({ id, liveCalls }))];
}
