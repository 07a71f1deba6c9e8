import type { CallRecord } from '../call-record.js';
import { checkResponse, post, type CrmAdapter } from './crm-adapter.js';

/**
 * HubSpot: each call becomes a Call engagement, written with the CRM's batch upsert keyed by a
 * unique custom property (`voicefleet_call_id`), so a repeated delivery updates the same
 * engagement instead of creating a second one. Create the property once in the portal
 * (Settings > Properties > Calls, "Has unique values").
 */
export class HubSpotCrm implements CrmAdapter {
  readonly name = 'hubspot';

  constructor(private readonly options: { accessToken: string; baseUrl: string; timeoutMs: number }) {}

  async deliver(record: CallRecord, idempotencyKey: string): Promise<{ ref?: string }> {
    const response = await post(
      `${this.options.baseUrl}/crm/v3/objects/calls/batch/upsert`,
      {
        timeoutMs: this.options.timeoutMs,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.accessToken}` },
        body: JSON.stringify({ inputs: [{ idProperty: 'voicefleet_call_id', id: idempotencyKey, properties: callProperties(record, idempotencyKey) }] }),
      },
      'HubSpot',
    );
    await checkResponse(response, 'HubSpot');
    const result = (await response.json().catch(() => ({}))) as { results?: { id?: string }[] };
    return { ref: result.results?.[0]?.id };
  }
}

/** HubSpot's call properties (hs_*), plus the unique key. */
export function callProperties(record: CallRecord, key: string): Record<string, string> {
  const transcript = record.transcript.map((t) => `${t.role === 'caller' ? 'Caller' : 'Agent'}: ${t.text}`).join('\n');
  return {
    voicefleet_call_id: key,
    hs_timestamp: record.startedAt,
    hs_call_title: `Voice agent call (${record.outcome.workflows.join(' -> ')})`,
    hs_call_body: `${record.summary}\n\n${transcript}`.slice(0, 65_000),
    hs_call_duration: String(record.durationMs),
    hs_call_direction: record.direction === 'outbound' ? 'OUTBOUND' : 'INBOUND',
    hs_call_status: 'COMPLETED',
    ...(record.caller ? { hs_call_from_number: record.caller } : {}),
    ...(record.dialed ? { hs_call_to_number: record.dialed } : {}),
  };
}
