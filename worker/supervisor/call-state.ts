import { llm } from '@livekit/agents';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { WORKFLOW_NAMES } from '../../agents/workflows.js';
import { connectedClients } from '../queues/redis-clients.js';
import { recordingPartSchema } from '../recording/recording-parts.js';

/**
 * A live call's state in Redis, saved after every turn: the workflow on the call, its agent's
 * transcript with tool calls and results (from which the workflow engine knows its step), and the
 * dispatch metadata. When the call's job dies, the supervisor dispatches a new agent and it picks
 * the call up from here. A short "alive" lease, renewed every second by the job, is how the
 * supervisor learns of the death within seconds: a killed process renews nothing. Sooner still,
 * the lease records the Redis connection renewing it: a killed process's connection is closed by
 * its kernel at once, while its lease runs on for up to three seconds.
 */
const savedItemSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), role: z.enum(['user', 'assistant', 'system']), text: z.string() }),
  z.object({ type: z.literal('function_call'), callId: z.string(), name: z.string(), args: z.string() }),
  z.object({ type: z.literal('function_call_output'), callId: z.string(), name: z.string(), output: z.string(), isError: z.boolean() }),
]);

export const savedCallStateSchema = z.object({
  callId: z.string(),
  room: z.string(),
  workflow: z.enum(WORKFLOW_NAMES),
  /** The job metadata the call was dispatched with; a resumed agent is dispatched with it again. */
  metadata: z.string(),
  items: z.array(savedItemSchema),
  turns: z.number().int().nonnegative(),
  resumes: z.number().int().nonnegative(),
  /** The call's recording so far, one part per agent that recorded it (worker/recording/recording-parts.ts). */
  recordingParts: z.array(recordingPartSchema).default([]),
  savedAt: z.string(),
});

export type SavedCallState = z.infer<typeof savedCallStateSchema>;
type SavedItem = z.infer<typeof savedItemSchema>;

const stateKey = (callId: string) => `voicefleet:call-state:${callId}`;
export const aliveKey = (callId: string) => `voicefleet:call-alive:${callId}`;
/** The Redis client id of the connection renewing the lease (alive-lease-thread.mjs). */
export const leaseHolderKey = (callId: string) => `voicefleet:call-lease-holder:${callId}`;
const STATE_TTL_S = 3600;
/** Returns 0 when KEYS[1] holds the state of a later agent than ARGV[1]'s resume number. */
const UNLESS_SUPERSEDED = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, saved = pcall(cjson.decode, cur)
  if ok and type(saved) == 'table' and tonumber(saved.resumes) and tonumber(saved.resumes) > tonumber(ARGV[1]) then return 0 end
end`;
/** KEYS[1] the state; ARGV the resume number, the new state, the TTL in seconds. */
const SAVE_UNLESS_SUPERSEDED = `${UNLESS_SUPERSEDED}
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;
/** KEYS[1] the state, KEYS[2] the alive lease; ARGV[1] the ending agent's resume number. */
const END_UNLESS_SUPERSEDED = `${UNLESS_SUPERSEDED}
redis.call('DEL', KEYS[1], KEYS[2])
return 1`;
/** Kept short: a resumed call is only as quick as this lease is to run out. */
export const ALIVE_LEASE_MS = 3000;
/** How many items of the transcript a resumed agent gets: enough for any workflow's steps. */
const MAX_ITEMS = 80;

export class CallStateStore {
  constructor(private readonly redis: Redis) {}

  /**
   * Writes the state unless a later agent owns the call: the supervisor bumps `resumes` when it
   * gives the call to a new agent, and the agent it replaced may still be saving (a stalled job,
   * not a dead one). Returns whether it was written.
   */
  async save(state: SavedCallState): Promise<boolean> {
    const written = await this.redis.eval(SAVE_UNLESS_SUPERSEDED, 1, stateKey(state.callId), state.resumes, JSON.stringify(state), STATE_TTL_S);
    return written === 1;
  }

  async load(callId: string): Promise<SavedCallState | undefined> {
    const raw = await this.redis.get(stateKey(callId));
    if (!raw) return undefined;
    const parsed = savedCallStateSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  /** The call's job is alive for another lease. */
  async alive(callId: string, leaseMs = ALIVE_LEASE_MS): Promise<void> {
    await this.redis.set(aliveKey(callId), '1', 'PX', leaseMs);
  }

  async isAlive(callIds: readonly string[]): Promise<boolean[]> {
    if (callIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of callIds) pipeline.exists(aliveKey(id));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([, exists]) => exists === 1);
  }

  /**
   * For each call, whether the connection that renews its lease is gone from Redis: its process
   * died, though the lease has yet to lapse. A call whose holder is not recorded (its lease
   * thread not up yet, or stopped on purpose) is not counted; the lease alone speaks for it.
   */
  async holderGone(callIds: readonly string[]): Promise<boolean[]> {
    if (callIds.length === 0) return [];
    const holders = (await this.redis.mget(callIds.map(leaseHolderKey))).map((h) => (h !== null && /^\d+$/.test(h) ? h : undefined));
    const connected = await connectedClients(this.redis, holders.filter((h) => h !== undefined));
    return holders.map((h) => h !== undefined && !connected.has(h));
  }

  /**
   * The call's job is stopping with the caller still there (worker drain timed out): its state
   * stays and the lease goes now, so the supervisor gives the call to another worker at once.
   */
  async handover(callId: string): Promise<void> {
    await this.redis.del(aliveKey(callId));
  }

  /**
   * The call ended for the agent of resume number `resumes`: nothing to resume. An agent the
   * supervisor already replaced deletes nothing, or its successor would find no state.
   */
  async ended(callId: string, resumes: number): Promise<void> {
    await this.redis.eval(END_UNLESS_SUPERSEDED, 2, stateKey(callId), aliveKey(callId), resumes);
  }
}

/** The parts of an agent's transcript a resumed agent needs, as plain data. */
export function saveItems(items: readonly llm.ChatItem[]): SavedItem[] {
  const saved: SavedItem[] = [];
  for (const item of items) {
    if (item.type === 'message' && (item.role === 'user' || item.role === 'assistant' || item.role === 'system')) {
      const text = item.textContent ?? '';
      if (text) saved.push({ type: 'message', role: item.role, text });
    } else if (item.type === 'function_call') {
      saved.push({ type: 'function_call', callId: item.callId, name: item.name, args: item.args });
    } else if (item.type === 'function_call_output') {
      saved.push({ type: 'function_call_output', callId: item.callId, name: item.name, output: item.output, isError: item.isError });
    }
  }
  return saved.slice(-MAX_ITEMS);
}

export function restoreItems(saved: readonly SavedItem[]): llm.ChatItem[] {
  return saved.map((item) => {
    if (item.type === 'message') return llm.ChatMessage.create({ role: item.role, content: [item.text] });
    if (item.type === 'function_call') return llm.FunctionCall.create({ callId: item.callId, name: item.name, args: item.args });
    return llm.FunctionCallOutput.create({ callId: item.callId, name: item.name, output: item.output, isError: item.isError });
  });
}

/** What the agent said last: a resumed agent says it again after its apology. */
export function lastAgentWords(saved: readonly SavedItem[]): string | undefined {
  for (let i = saved.length - 1; i >= 0; i--) {
    const item = saved[i]!;
    if (item.type === 'message' && item.role === 'assistant') return item.text;
  }
  return undefined;
}
