import type { CallRecord } from '../call-record.js';

/**
 * One CRM, behind the interface the crm-sync worker delivers through. `deliver` must be
 * idempotent per `idempotencyKey`: a record delivered twice (a retry after a lost answer, a
 * worker killed mid-request) has one effect in the CRM.
 */
export interface CrmAdapter {
  readonly name: string;
  deliver(record: CallRecord, idempotencyKey: string): Promise<{ ref?: string }>;
}

/** The CRM refused the record for good (4xx): retrying cannot help; it goes to the dead letters. */
export class PermanentDeliveryError extends Error {
  override name = 'PermanentDeliveryError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The CRM or the network failed this time (5xx, 408, 429, timeout, refused): retry later. */
export class TransientDeliveryError extends Error {
  override name = 'TransientDeliveryError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Turns an HTTP answer into success or the right kind of failure. */
export async function checkResponse(response: Response, what: string): Promise<void> {
  if (response.ok) return;
  const body = (await response.text().catch(() => '')).slice(0, 300);
  const message = `${what}: HTTP ${response.status}${body ? ` ${body}` : ''}`;
  if (response.status === 408 || response.status === 429 || response.status >= 500) {
    throw new TransientDeliveryError(message, response.status);
  }
  throw new PermanentDeliveryError(message, response.status);
}

/** fetch with a deadline; network failures and timeouts are transient. */
export async function post(url: string, init: RequestInit & { timeoutMs: number }, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, method: 'POST', signal: AbortSignal.timeout(init.timeoutMs) });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${init.timeoutMs} ms` : (error as Error).message;
    throw new TransientDeliveryError(`${what}: ${reason}`);
  }
}
