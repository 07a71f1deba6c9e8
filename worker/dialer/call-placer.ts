import { AgentDispatchClient, SipClient } from 'livekit-server-sdk';
import type { DialOutcome, DialRequest } from './dial-request.js';

/**
 * Places one outbound call and says how it went. The dialer's rules (windows, do-not-call,
 * retries, dedupe, rate) do not depend on how the call is placed; this port is where telephony
 * begins.
 */
export interface CallPlacer {
  place(request: DialRequest, callRef: string): Promise<DialOutcome>;
}

/** Rooms of the calls the dialer places: their caller is always a phone leg. */
export const OUTBOUND_ROOM_PREFIX = 'out-';

/**
 * LiveKit SIP: dispatch the agent into a fresh room, then have livekit-sip dial the callee into
 * it over the outbound trunk, waiting until they answer. SIP failure codes map to outcomes.
 */
export class LiveKitCallPlacer implements CallPlacer {
  readonly #sip: SipClient;
  readonly #dispatch: AgentDispatchClient;

  constructor(private readonly options: { httpUrl: string; apiKey: string; apiSecret: string; trunkId: string; agentName: string; ringingTimeoutS: number }) {
    this.#sip = new SipClient(options.httpUrl, options.apiKey, options.apiSecret);
    this.#dispatch = new AgentDispatchClient(options.httpUrl, options.apiKey, options.apiSecret);
  }

  async place(request: DialRequest, callRef: string): Promise<DialOutcome> {
    const room = `${OUTBOUND_ROOM_PREFIX}${callRef}`;
    const metadata = JSON.stringify({ workflow: request.workflow, deployment: request.deployment, ...request.context });
    await this.#dispatch.createDispatch(room, this.options.agentName, { metadata });
    try {
      await this.#sip.createSipParticipant(this.options.trunkId, request.to, room, {
        participantIdentity: `callee-${callRef}`,
        waitUntilAnswered: true,
        ringingTimeout: this.options.ringingTimeoutS,
        playDialtone: false,
      });
      return 'answered';
    } catch (error) {
      return outcomeOfSipError(error);
    }
  }
}

/** livekit-sip reports the far end's SIP status in the error; map it to an outcome. */
export function outcomeOfSipError(error: unknown): DialOutcome {
  const text = `${(error as { message?: string }).message ?? ''} ${JSON.stringify((error as { metadata?: unknown }).metadata ?? {})}`;
  const status = Number(/\b(4\d\d|5\d\d|6\d\d)\b/.exec(text)?.[1]);
  if (status === 486 || status === 600) return 'busy';
  if (status === 480 || status === 408 || status === 487 || /no answer|timeout/i.test(text)) return 'no_answer';
  if (status === 404 || status === 484 || status === 604) return 'invalid_number';
  return 'failed';
}
