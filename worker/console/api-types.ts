import { z } from 'zod';

/**
 * What the console API answers, one schema per route. The server parses every answer with its
 * schema before sending it (nothing else can slip into a response); the page imports the types.
 */
export const sessionInfoSchema = z.object({
  workflows: z.array(z.string()),
  queueBoardUrl: z.string().optional(),
});

/** A room to join: the LiveKit URL and a token minted for this one session. */
export const roomTicketSchema = z.object({
  url: z.string(),
  token: z.string(),
  room: z.string(),
  identity: z.string(),
});

export const liveCallSchema = z.object({
  callId: z.string(),
  room: z.string(),
  deployment: z.string(),
  workflow: z.string().optional(),
  worker: z.string().optional(),
  /** The agent's `lk.agent.state` (listening, thinking, speaking...), when LiveKit knows it. */
  agentState: z.string().optional(),
  startedAt: z.string(),
  durationMs: z.number(),
  turns: z.number().optional(),
});
export const liveCallsSchema = z.object({ calls: z.array(liveCallSchema) });

const stat = z.object({ p50: z.number(), max: z.number() }).optional();
export const historyItemSchema = z.object({
  callId: z.string(),
  room: z.string(),
  deployment: z.string(),
  direction: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  durationMs: z.number(),
  endReason: z.string(),
  summary: z.string(),
  outcome: z.record(z.string(), z.unknown()),
  transcript: z.array(z.object({ role: z.string(), text: z.string() })),
  latency: z.object({ turns: z.number(), endOfTurnMs: stat, llmFirstTokenMs: stat, ttsFirstAudioMs: stat }),
  delivery: z.object({ status: z.string(), attempts: z.number(), at: z.string(), reason: z.string().optional() }),
  /** True when the recording store has audio for the call (GET .../recording plays it). */
  hasRecording: z.boolean(),
});
export const historySchema = z.object({ calls: z.array(historyItemSchema) });

export const fleetHealthSchema = z.object({
  redis: z.enum(['up', 'down']),
  livekit: z.object({ status: z.enum(['up', 'down']), rooms: z.number().optional() }),
  /**
   * Agent workers: those that beat lately (worker/fleet/worker-heartbeat.ts), idle or not, by
   * LiveKit worker id once known; and any a live call names that did not beat (no load shown).
   */
  workers: z.array(
    z.object({
      id: z.string(),
      liveCalls: z.number(),
      host: z.string().optional(),
      pid: z.number().optional(),
      talking: z.number().optional(),
      holding: z.number().optional(),
      maxCalls: z.number().optional(),
      draining: z.boolean().optional(),
      beatAt: z.string().optional(),
    }),
  ),
  queues: z.record(z.string(), z.record(z.string(), z.number())),
  queueBoardUrl: z.string().optional(),
});

export type SessionInfo = z.infer<typeof sessionInfoSchema>;
export type RoomTicket = z.infer<typeof roomTicketSchema>;
export type LiveCallView = z.infer<typeof liveCallSchema>;
export type HistoryItem = z.infer<typeof historyItemSchema>;
export type FleetHealth = z.infer<typeof fleetHealthSchema>;
