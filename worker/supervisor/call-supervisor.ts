import type { Redis } from 'ioredis';
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import type { Logger } from 'pino';
// The SDK's participant kinds mirror the protocol's ParticipantInfo.Kind numbering (AGENT = 4).
import { ParticipantKind } from '@livekit/rtc-node';
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
}

const lockKey = (callId: string) => `voicefleet:call-resume-lock:${callId}`;

/**
 * Brings a call back when its agent dies mid-call (job process killed, OOM, worker crash): the
 * open-source livekit-server does not re-dispatch, and the caller would sit in silence until they
 * hang up. Every second it looks for live calls whose job stopped renewing its alive lease; if the
 * caller is still in the room, it removes the dead agent's participant (so there are never two
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

  constructor(options: CallSupervisorOptions) {
    this.#options = options;
    this.#registry = new CallRegistry(options.redis);
    this.#states = new CallStateStore(options.redis);
    const { httpUrl, apiKey, apiSecret } = options.livekit;
    this.#rooms = new RoomServiceClient(httpUrl, apiKey, apiSecret);
    this.#dispatch = new AgentDispatchClient(httpUrl, apiKey, apiSecret);
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#running = this.#running.then(async () => void (await this.check())).catch((error: Error) =>
        this.#options.log.debug({ event: 'supervisor_check_failed', error: error.message }, 'supervisor check failed'),
      );
    }, this.#options.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One pass over the live calls; returns the ids of the calls it resumed. */
  async check(): Promise<string[]> {
    const live = await this.#registry.live();
    const alive = await this.#states.isAlive(live);
    const resumed: string[] = [];
    for (const [i, callId] of live.entries()) {
      if (alive[i]) continue;
      // Calls without saved state never reached a conversation (held, or starting): the sweep
      // records them if their job is gone.
      const state = await this.#states.load(callId);
      if (!state || state.resumes >= this.#options.maxResumes) continue;
      // One supervisor (of several crm-sync processes) acts per call and incident.
      if ((await this.#options.redis.set(lockKey(callId), '1', 'EX', 20, 'NX')) !== 'OK') continue;
      if (await this.#resume(state)) resumed.push(callId);
    }
    return resumed;
  }

  async #resume(state: Awaited<ReturnType<CallStateStore['load']>> & object): Promise<boolean> {
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
    await this.#dispatch.createDispatch(state.room, this.#options.agentName, { metadata: JSON.stringify(metadata) });
    log.warn({ event: 'call_redispatched', removedAgents: agents.length, turns: state.turns, resume: state.resumes + 1 }, "the call's agent died, a new one is on its way");
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
