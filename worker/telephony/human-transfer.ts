import { llm } from '@livekit/agents';
import type { SipClient } from 'livekit-server-sdk';
import type { Logger } from 'pino';
import { z } from 'zod';
import { TRANSFER_TO_HUMAN } from '../../agents/workflow/phrases.js';

/**
 * The human escalation tool every workflow carries. Where the call goes is the deployment's
 * choice, fixed before the call starts: the tool takes no number, so nothing a caller says
 * ("transfer me to +1 555 ...") can reach a line that is not configured.
 */
export interface HumanTransferOptions {
  /** The deployment's human line (tel: or sip: URI); without one, a callback is requested. */
  transferTo?: string;
  /** Only SIP callers can be transferred; a browser caller gets the callback instead. */
  sip?: { client: Pick<SipClient, 'transferSipParticipant'>; roomName: string; participantIdentity: string };
  log: Logger;
  /** Told what happened, for the call's outcome. */
  onResult: (result: TransferResult) => void;
}

export type TransferResult =
  | { transferred: true; to: 'human_line' }
  | { transferred: false; reason: 'no_human_line' | 'not_a_phone_call' | 'transfer_failed'; callbackRequested: true };

export function createHumanTransferTool(options: HumanTransferOptions) {
  return llm.tool({
    name: TRANSFER_TO_HUMAN,
    description: 'Connect the caller to a member of staff. Use when they ask for a person or the workflow cannot help.',
    parameters: z.object({}),
    execute: async (): Promise<TransferResult> => {
      const result = await transferToHuman(options);
      options.onResult(result);
      options.log.info({ event: 'human_transfer', ...result }, result.transferred ? 'caller transferred to a person' : 'transfer not possible, callback requested');
      return result;
    },
  });
}

/** A SIP REFER to the deployment's human line, or why there was none. */
export async function transferToHuman({ transferTo, sip, log }: Pick<HumanTransferOptions, 'transferTo' | 'sip' | 'log'>): Promise<TransferResult> {
  if (!transferTo) return { transferred: false, reason: 'no_human_line', callbackRequested: true };
  if (!sip) return { transferred: false, reason: 'not_a_phone_call', callbackRequested: true };
  try {
    // REFER is answered before the far end picks up (the Node SDK returns early): a failure after
    // this point shows up as the SIP participant's call status, not here.
    await sip.client.transferSipParticipant(sip.roomName, sip.participantIdentity, transferTo, { playDialtone: false });
    return { transferred: true, to: 'human_line' };
  } catch (error) {
    log.warn({ event: 'human_transfer_failed', error: (error as Error).message }, 'SIP transfer failed');
    return { transferred: false, reason: 'transfer_failed', callbackRequested: true };
  }
}
