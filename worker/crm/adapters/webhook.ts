import { createHmac } from 'node:crypto';
import type { CallRecord } from '../call-record.js';
import { checkResponse, post, type CrmAdapter } from './crm-adapter.js';

/**
 * A generic webhook: the record as JSON, signed so the receiver can trust it, with an
 * idempotency key so the receiver can drop repeats.
 *
 * Headers: `Idempotency-Key: <call id>`, `X-Voicefleet-Timestamp: <unix seconds>`,
 * `X-Voicefleet-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the shared secret>`.
 * Receivers reject signatures older than a few minutes to stop replays.
 */
export class WebhookCrm implements CrmAdapter {
  readonly name = 'webhook';

  constructor(private readonly options: { url: string; secret: string; timeoutMs: number }) {}

  async deliver(record: CallRecord, idempotencyKey: string): Promise<{ ref?: string }> {
    const body = JSON.stringify(record);
    const timestamp = Math.floor(Date.now() / 1000).toString();
    const response = await post(
      this.options.url,
      {
        timeoutMs: this.options.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'idempotency-key': idempotencyKey,
          'x-voicefleet-timestamp': timestamp,
          'x-voicefleet-signature': signWebhook(this.options.secret, timestamp, body),
        },
        body,
      },
      'webhook CRM',
    );
    await checkResponse(response, 'webhook CRM');
    return { ref: response.headers.get('x-record-id') ?? undefined };
  }
}

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
