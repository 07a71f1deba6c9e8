import { randomUUID } from 'node:crypto';
import { WORKFLOW_NAMES, type WorkflowName } from '../agents/workflows.js';
import type { Config } from '../worker/config.js';
import { mintParticipantToken } from '../worker/tokens.js';

export interface PlaygroundAccessOptions {
  /** Runs this workflow instead of the deployment's own (job metadata `workflow`). */
  workflow?: WorkflowName;
  room?: string;
  identity?: string;
  /** Token lifetime: seconds, or a duration such as `30m`, `24h`. */
  ttl?: string;
  /** The server URL to print, when it is not LIVEKIT_URL (the fleet's own livekit-server). */
  url?: string;
}

export interface PlaygroundAccess {
  url: string;
  token: string;
  room: string;
  identity: string;
  /** How to use the URL and token (printed under them). */
  usage: string[];
  /** What `npm run token` prints: the URL, the token, then the usage. */
  lines: string[];
}

export class PlaygroundAccessError extends Error {
  override name = 'PlaygroundAccessError';
}

const ROOM_OR_IDENTITY = /^[A-Za-z0-9_.-]{1,128}$/;
const TTL = /^\d+(s|m|h|d)?$/;

export function parseWorkflowName(value: string): WorkflowName {
  if ((WORKFLOW_NAMES as readonly string[]).includes(value)) return value as WorkflowName;
  throw new PlaygroundAccessError(`--workflow: unknown workflow "${value}" (one of ${WORKFLOW_NAMES.join(', ')})`);
}

/**
 * A participant token for a LiveKit client (the Agents Playground, livekit-meet) whose room
 * configuration dispatches this fleet's agent, with the workflow in the job metadata exactly as
 * worker/call-context.ts reads it. `npm run token` and `npm start` both print it.
 */
export async function playgroundAccess(config: Config, options: PlaygroundAccessOptions = {}): Promise<PlaygroundAccess> {
  const room = options.room ?? `playground-${randomUUID().slice(0, 8)}`;
  const identity = options.identity ?? `playground-user-${randomUUID().slice(0, 4)}`;
  const ttl = options.ttl ?? '24h';
  if (!ROOM_OR_IDENTITY.test(room)) throw new PlaygroundAccessError('--room: letters, digits, . _ - only, at most 128');
  if (!ROOM_OR_IDENTITY.test(identity)) throw new PlaygroundAccessError('--identity: letters, digits, . _ - only, at most 128');
  if (!TTL.test(ttl)) throw new PlaygroundAccessError('--ttl: seconds or a duration such as 30m, 24h, 7d');
  const url = options.url ?? config.LIVEKIT_URL;
  // No workflow named: the default deployment's workflow answers, as for a dialed call.
  const metadata = JSON.stringify(options.workflow ? { workflow: options.workflow } : {});
  const token = await mintParticipantToken({
    apiKey: config.LIVEKIT_API_KEY,
    apiSecret: config.LIVEKIT_API_SECRET,
    identity,
    room,
    agentName: config.VOICEFLEET_AGENT_NAME,
    metadata,
    ttl: /^\d+$/.test(ttl) ? `${ttl}s` : ttl,
  });
  const usage = [
    `(room ${room}, identity ${identity}, workflow ${options.workflow ?? 'the default deployment\'s'}, valid ${ttl})`,
    'Agents Playground: open https://agents-playground.livekit.io (or your own copy), choose "Manual" / custom server, paste the URL and the token, Connect, allow the microphone.',
    'livekit-meet style clients: https://meet.livekit.io/custom?liveKitUrl=<URL>&token=<TOKEN> (or "Custom" tab, same two values).',
    'Joining the room dispatches the agent; one token is one room: mint another for a fresh call.',
  ];
  return { url, token, room, identity, usage, lines: [`LIVEKIT_URL=${url}`, `TOKEN=${token}`, ...usage] };
}
