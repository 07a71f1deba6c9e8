import type { AgentServer } from '@livekit/agents';

/** Load at which a worker stops taking calls: every call slot busy. */
export const FULL_LOAD = 1;

/** A worker's load as the share of its call slots in use (0 idle .. 1 full). */
export function callSlotLoad(maxCalls: number): (server: AgentServer) => Promise<number> {
  return async (server) => Math.min(FULL_LOAD, server.activeJobs.length / maxCalls);
}
