import type { RoomConfiguration } from '@livekit/protocol';
import { AccessToken } from 'livekit-server-sdk';

export interface ParticipantTokenOptions {
  apiKey: string;
  apiSecret: string;
  identity: string;
  room: string;
  /** Agent dispatched when the participant joins (the room configuration in the token). */
  agentName: string;
  /** Job metadata for the agent; a string, passed through unparsed. */
  metadata?: string;
  ttl?: string;
}

/**
 * A join token whose room configuration dispatches the agent. The claim carries only the fields
 * we set: the SDK's protobuf JSON writes every field with its default, and a livekit-server older
 * than the SDK rejects fields it does not know (for example `deployment` on 1.11).
 */
export async function mintParticipantToken(options: ParticipantTokenOptions): Promise<string> {
  const token = new AccessToken(options.apiKey, options.apiSecret, {
    identity: options.identity,
    ttl: options.ttl ?? '1h',
  });
  token.addGrant({ roomJoin: true, room: options.room, canPublish: true, canSubscribe: true, canPublishData: true });
  const agent = options.metadata ? { agentName: options.agentName, metadata: options.metadata } : { agentName: options.agentName };
  token.roomConfig = { agents: [agent] } as unknown as RoomConfiguration;
  return token.toJwt();
}
