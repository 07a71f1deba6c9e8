import type { Redis } from 'ioredis';
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import type { Logger } from 'pino';
// The SDK's participant kinds mirror the protocol's ParticipantInfo.Kind numbering (AGENT = 4).
import { ParticipantKind } from '@livekit/rtc-node';
import { liveWorkers } from '../fleet/worker-heartbeat.js';
import { connectedClients } from '../queues/redis-clients.js';
import { CallRegistry } from '../queues/call-registry.js';
import { CallStateStore } from './call-state.js';

export interface CallSupervisorOptions {
  redis: Redis;
  livekit: { httpUrl: string; apiKey: string; apiSecret: string };
  agentName: string;
  log: Logger;
  /** How often live calls are checked. */
  everyMs: number;
  /** A call is resumed at most this many times (a call that kills every agent is not looped). */
  maxResumes: number;
  /** A caller with no agent for this long (at arrival, or after a re-dispatch) gets the fallback. */
  pickupTimeoutMs: number;
  /** Speaks to a caller no agent took: apology, then the overflow path (no-agent-fallback.ts). */
  fallback: (call: { room: string; callId?: string; metadata?: string; arrivedAt?: Date }) => Promise<unknown>;
}

interface AgentlessRoom {
  since: number;
  /** Set for a call the supervisor re-dispatched: */
  callId?: string;
  metadata?: string;
  /** the supervisor's own dispatch, the only one whose job counts as an agent on its way; */
  dispatchId?: string;
  /** and the dead agents it removed, which the room may list for a moment yet. */
  removed?: ReadonlySet<string>;
}

const lockKey = (callId: string) => `voicefleet:call-resume-lock:${callId}`;
const fallbackLockKey = (room: string) => `voicefleet:call-fallback-lock:${room}`;
/** A room younger than this counts its wait from its creation (the caller's arrival). */
const NEW_ROOM_S = 60;
/** livekit.JobStatus: JS_PENDING = 0, JS_RUNNING = 1 (a job a worker holds); then SUCCESS, FAILED. */
const JS_RUNNING = 1;
/** An agent whose job a worker accepted gets this many pickup timeouts to join before the fallback. */
const SLOW_AGENT_FACTOR = 4;
/**
 * With no worker of ours up (none beating, or every beating one's connection gone), nothing can
 * take the call: the caller hears the fallback after this instead of the whole pickup timeout
 * (which is there for workers slow to start a job).
 */
const NO_WORKER_PICKUP_MS = 1500;
/** After Redis was away: a lease (3 s) plus a renewal and a reconnect. */
const LEASE_GRACE_MS = 5000;

/**
 * Brings a call back when its agent dies mid-call (job process killed, OOM, worker crash): the
 * open-source livekit-server does not re-dispatch, and the caller would sit in silence until they
 * hang up. Every second it looks for live calls whose job stopped renewing its alive lease, or
 * whose lease holder's Redis connection has been gone for two looks in a row (the kernel closes a
 * killed process's socket at once; one look could catch a live job reconnecting); if the caller
 * is still in the room, it removes the dead agent's participant (so there are never two
 * agents in the room) and dispatches a new one with the call's metadata and `resumeCallId`. The
 * new agent loads the saved state (call-state.ts), apologises and carries on where the call was.
 */
export class CallSupervisor {
  readonly #options: CallSupervisorOptions;
  readonly #registry: CallRegistry;
  readonly #states: CallStateStore;
  readonly #rooms: RoomServiceClient;
  readonly #dispatch: AgentDispatchClient;
  #timer?: NodeJS.Timeout;
  #running: Promise<void> = Promise.resolve();
  /** Rooms with a caller and no agent: since when (ms since epoch), and the call if it was resumed. */
  readonly #agentless = new Map<string, AgentlessRoom>();
  readonly #fallbacks = new Set<Promise<unknown>>();
  /** Until then no call is taken for dead: Redis was away, and jobs have yet to renew their leases. */
  #graceUntil = 0;
  /** Calls whose lease holder was not connected at the last look. */
  #holderMissing = new Set<string>();
  /** Off once Redis refuses CLIENT LIST (a managed Redis may): the lease alone then. */
  #watchHolders = true;

  constructor(options: CallSupervisorOptions) {
    this.#options = options;
    this.#registry = new CallRegistry(options.redis);
    this.#states = new CallStateStore(options.redis);
    const { httpUrl, apiKey, apiSecret } = options.livekit;
    this.#rooms = new RoomServiceClient(httpUrl, apiKey, apiSecret);
    this.#dispatch = new AgentDispatchClient(httpUrl, apiKey, apiSecret);
    // A connection that queues commands while Redis is away never fails a check, and the first
    // check after Redis is back would find every lease lapsed: each (re)connect starts a grace.
    options.redis.on('ready', () => {
      this.#graceUntil = Date.now() + LEASE_GRACE_MS;
    });
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#running = this.#running
        .then(async () => void (await this.check()))
        .catch((error: Error) => {
          this.#graceUntil = Date.now() + LEASE_GRACE_MS;
          this.#options.log.debug({ event: 'supervisor_check_failed', error: error.message }, 'supervisor check failed');
        });
    }, this.#options.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    await Promise.allSettled(this.#fallbacks);
  }

  /** One pass over the live calls; returns the ids of the calls it resumed. */
  async check(): Promise<string[]> {
    const live = await this.#registry.live();
    if (Date.now() < this.#graceUntil) return [];
    const alive = await this.#states.isAlive(live);
    const holderGone = await this.#holdersGone(live);
    // Redis came back while these were queued: the leases have yet to be renewed.
    if (Date.now() < this.#graceUntil) return [];
    const missedBefore = this.#holderMissing;
    this.#holderMissing = new Set(live.filter((_, i) => holderGone[i]));
    const resumed: string[] = [];
    for (const [i, callId] of live.entries()) {
      const orphaned = holderGone[i] && missedBefore.has(callId);
      if (alive[i] && !orphaned) continue;
      // Calls without saved state never reached a conversation (held, or starting): the sweep
      // records them if their job is gone.
      const state = await this.#states.load(callId);
      if (!state || state.resumes >= this.#options.maxResumes) continue;
      // The fallback is speaking to this caller: no agent is dispatched over it.
      if (await this.#options.redis.exists(fallbackLockKey(state.room))) continue;
      // One supervisor (of several crm-sync processes) acts per call and incident.
      if ((await this.#options.redis.set(lockKey(callId), '1', 'EX', 20, 'NX')) !== 'OK') continue;
      if (await this.#resume(state, orphaned ? 'connection' : 'lease')) resumed.push(callId);
    }
    await this.#watchAgentlessRooms();
    return resumed;
  }

  /**
   * Rooms dispatched to our agent with a caller and no agent for the pickup timeout: no worker
   * took the call (livekit-server drops a dispatch no worker can take) or its re-dispatch. The
   * caller hears the fallback instead of silence.
   */
  async #watchAgentlessRooms(): Promise<void> {
    const now = Date.now();
    const rooms = await this.#rooms.listRooms();
    const waiting = new Set<string>();
    // Read once per pass, and only when a room has waited past the short wait.
    let workerUp: Promise<boolean> | undefined;
    const anyWorkerUp = () => (workerUp ??= this.#anyWorkerUp());
    for (const room of rooms) {
      // The room list's participant count lags (0 with a caller in the room): ask each room.
      const participants = await this.#rooms.listParticipants(room.name).catch(() => []);
      const known = this.#agentless.get(room.name);
      const hasAgent = participants.some((p) => p.kind === (ParticipantKind.AGENT as number) && !known?.removed?.has(p.identity));
      if (hasAgent || !participants.some((p) => p.kind !== (ParticipantKind.AGENT as number))) continue;
      waiting.add(room.name);
      const createdMs = Number(room.creationTime) * 1000;
      const entry = known ?? { since: now - createdMs < NEW_ROOM_S * 1000 ? Math.min(now, createdMs) : now };
      this.#agentless.set(room.name, entry);
      const waited = now - entry.since;
      if (waited < NO_WORKER_PICKUP_MS) continue;
      const noWorkerUp = !(await anyWorkerUp());
      if (!noWorkerUp && waited < this.#options.pickupTimeoutMs) continue;
      const ours = (await this.#dispatch.listDispatch(room.name).catch(() => [])).filter((d) => d.agentName === this.#options.agentName);
      if (ours.length === 0 && !entry.callId) continue;
      // The dead agent's job may still read as running long after its worker died: for a
      // re-dispatched call only the supervisor's own dispatch says whether an agent is coming.
      const dispatches = entry.dispatchId ? ours.filter((d) => d.id === entry.dispatchId) : ours;
      // A worker took the job and its agent is on its way (slow on a loaded host): wait for it,
      // up to a few pickup timeouts. No job, or only failed ones: no worker will come.
      const taken = dispatches.some((d) => d.state?.jobs.some((j) => j.state && j.state.status <= JS_RUNNING));
      if (taken && waited < SLOW_AGENT_FACTOR * this.#options.pickupTimeoutMs) continue;
      if ((await this.#options.redis.set(fallbackLockKey(room.name), '1', 'EX', 3600, 'NX')) !== 'OK') continue;
      this.#agentless.delete(room.name);
      const metadata = entry.metadata ?? dispatches[0]?.metadata;
      this.#options.log.warn(
        { event: 'call_without_agent', room: room.name, callId: entry.callId, waitedMs: waited, noWorkerUp },
        'no agent took the call, the supervisor answers it',
      );
      const done = this.#options
        .fallback({ room: room.name, callId: entry.callId, metadata, arrivedAt: new Date(createdMs) })
        .then((end) => {
          // No end: an agent took the call over from the fallback, and may be resumed in turn.
          if (end === undefined) return this.#options.redis.del(fallbackLockKey(room.name));
        })
        .catch((error: Error) => this.#options.log.error({ event: 'no_agent_fallback_failed', room: room.name, error: error.message }, 'fallback failed'))
        .finally(() => this.#fallbacks.delete(done));
      this.#fallbacks.add(done);
    }
    for (const name of this.#agentless.keys()) if (!waiting.has(name)) this.#agentless.delete(name);
  }

  /**
   * Whether a worker of ours that takes calls is up: one whose beat is current and whose Redis
   * connection is still there (a killed worker's beat outlives it by up to 15 s). Unreadable
   * beats prove nothing: then the whole pickup timeout is waited, as before.
   */
  async #anyWorkerUp(): Promise<boolean> {
    try {
      const beats = (await liveWorkers(this.#options.redis)).filter((b) => b.agentName === this.#options.agentName && !b.draining);
      if (!this.#watchHolders) return beats.length > 0;
      const connected = await connectedClients(this.#options.redis, beats.flatMap((b) => b.redisClientId ?? []));
      // A beat that names no connection (an older worker) cannot be told dead before it expires.
      return beats.some((b) => b.redisClientId === undefined || connected.has(b.redisClientId));
    } catch {
      return true;
    }
  }

  async #holdersGone(live: readonly string[]): Promise<boolean[]> {
    if (!this.#watchHolders) return live.map(() => false);
    try {
      return await this.#states.holderGone(live);
    } catch (error) {
      // Only a refusal (a reply error) turns the watch off; a lost connection fails the check.
      if (!/^(ERR|NOPERM)/.test((error as Error).message)) throw error;
      this.#watchHolders = false;
      this.#options.log.warn({ event: 'supervisor_lease_holders_unwatched', error: (error as Error).message }, 'Redis refuses CLIENT LIST: dead calls are found by their lease alone');
      return live.map(() => false);
    }
  }

  async #resume(state: Awaited<ReturnType<CallStateStore['load']>> & object, foundBy: 'lease' | 'connection'): Promise<boolean> {
    const log = this.#options.log.child({ callId: state.callId, room: state.room });
    let participants;
    try {
      participants = await this.#rooms.listParticipants(state.room);
    } catch {
      return false; // the room is gone: the caller hung up with the agent
    }
    const agents = participants.filter((p) => p.kind === (ParticipantKind.AGENT as number));
    const callers = participants.filter((p) => p.kind !== (ParticipantKind.AGENT as number));
    if (callers.length === 0) return false;
    // The dead agent may linger until livekit-server times it out; it leaves now.
    for (const agent of agents) await this.#rooms.removeParticipant(state.room, agent.identity).catch(() => undefined);
    await this.#states.save({ ...state, resumes: state.resumes + 1 });
    const metadata = { ...safeJson(state.metadata), resumeCallId: state.callId };
    const dispatch = await this.#dispatch.createDispatch(state.room, this.#options.agentName, { metadata: JSON.stringify(metadata) });
    // The wait for the new agent counts from now; if none comes, the caller gets the fallback.
    this.#agentless.set(state.room, {
      since: Date.now(),
      callId: state.callId,
      metadata: state.metadata,
      dispatchId: dispatch.id,
      removed: new Set(agents.map((a) => a.identity)),
    });
    log.warn({ event: 'call_redispatched', foundBy, removedAgents: agents.length, turns: state.turns, resume: state.resumes + 1 }, "the call's agent died, a new one is on its way");
    return true;
  }
}

function safeJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
