import type { CallRecord } from '../../worker/crm/call-record.js';

/** A finished call's record as a worker writes it: a booking made after a handoff. */
export function sampleCallRecord(callId: string, overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    version: 1,
    callId,
    room: `room-${callId}`,
    deployment: 'acme-dental',
    direction: 'inbound',
    caller: '+1555***0101',
    startedAt: '2026-11-25T10:00:00.000Z',
    endedAt: '2026-11-25T10:02:00.000Z',
    durationMs: 120_000,
    endReason: 'participant_disconnected',
    source: 'worker',
    outcome: { workflows: ['receptionist', 'booking'], disposition: 'resolved', intents: ['handoff:booking', 'booked'], booking: { action: 'booked', bookingId: 'bk_1234abcd', slotId: '2026-12-01T09:00' } },
    summary: 'Call with Acme Dental (receptionist -> booking), resolved. Appointment booked for 2026-12-01T09:00.',
    transcript: [
      { role: 'agent', text: 'Thank you for calling Acme Dental. How can I help you today?' },
      { role: 'caller', text: 'I would like to book an appointment' },
    ],
    recording: null,
    latency: { turns: 1 },
    ...overrides,
  };
}

